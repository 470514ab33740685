"""Every one of the original's 181 /api routes (tests/api/spec_routes.txt, from the spec's
endpoint index) is served by our app and has a case in an authorization matrix."""

from __future__ import annotations

import re
from pathlib import Path

from chatalot.app import create_litestar
from chatalot.context import Ctx
from tests.api.test_authorization_matrix import CASES, community_cases

SPEC_ROUTES = Path(__file__).with_name("spec_routes.txt")
_PARAM = re.compile(r"\{[^}]+\}")


def _shape(path: str) -> str:
    """A path template with its parameter names and types erased: /api/x/{}/y."""
    return _PARAM.sub("{}", path)


def spec_routes() -> list[tuple[str, str]]:
    routes = []
    for line in SPEC_ROUTES.read_text().splitlines():
        if line and not line.startswith("#"):
            method, path = line.split()
            routes.append((method, _shape(path)))
    return routes


def test_the_list_has_the_181_routes_of_the_spec() -> None:
    routes = spec_routes()
    assert len(routes) == 181
    assert len(set(routes)) == 181


def test_every_spec_route_is_served(ctx: Ctx) -> None:
    app = create_litestar(ctx)
    served = {
        (method, _shape(route.path))
        for route in app.routes
        for method in getattr(route, "methods", set())
    }
    missing = [route for route in spec_routes() if route not in served]
    assert missing == [], "spec routes our app does not serve"


def test_every_spec_route_has_an_authorization_case() -> None:
    covered = {(c.method, _shape(c.route)) for c in [*CASES, *community_cases()]}
    missing = [route for route in spec_routes() if route not in covered]
    assert missing == [], "spec routes without an authorization case"
