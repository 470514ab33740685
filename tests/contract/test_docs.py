"""Docs that code can drift from are checked: settings and error codes."""

from __future__ import annotations

import re
from pathlib import Path

import chatalot.config as config_module
from chatalot.config import KNOWN_VARIABLES
from chatalot.errors import ErrorCode

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_variable_read_is_known() -> None:
    """Every environment variable config.py reads is listed in KNOWN_VARIABLES (and vice versa)."""
    source = Path(config_module.__file__).read_text()
    read = set(re.findall(r'env\.\w+\(\s*"([A-Z][A-Z0-9_]+)"', source))
    assert read == set(KNOWN_VARIABLES)


def test_every_variable_is_documented() -> None:
    """docs/configuration.md has a table row for every variable, and no row for an unknown one."""
    text = (DOCS / "configuration.md").read_text()
    rows = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", text, flags=re.MULTILINE))
    assert rows == set(KNOWN_VARIABLES)


def test_every_error_code_is_documented() -> None:
    """docs/errors.md lists exactly the ErrorCode values."""
    text = (DOCS / "errors.md").read_text()
    rows = set(re.findall(r"^\| `([a-z_]+)` \|", text, flags=re.MULTILINE))
    assert rows == {code.value for code in ErrorCode}


def test_every_route_is_documented(ctx: object) -> None:
    """docs/api.md lists exactly the server's /api routes (method and path)."""
    from chatalot.app import create_litestar

    app = create_litestar(ctx)  # type: ignore[arg-type]
    routes = set()
    for route in app.routes:
        if not route.path.startswith("/api") or route.path.startswith("/api/openapi"):
            continue
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
        for method in getattr(route, "methods", set()):
            if method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                routes.add((method, path))
    text = (DOCS / "api.md").read_text()
    documented = set(
        re.findall(r"^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \|", text, flags=re.MULTILINE)
    )
    assert routes == documented


async def test_openapi_schema_is_served(client: object) -> None:
    """The machine-readable API description builds and lists the auth routes."""
    import httpx

    assert isinstance(client, httpx.AsyncClient)
    response = await client.get("/api/openapi/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/auth/login" in paths
    assert "/api/admin/users" in paths
