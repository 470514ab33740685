"""Every endpoint x every kind of caller, from the tables in tests/api/authz/."""

from __future__ import annotations

import importlib
import pkgutil
import re
import uuid
from typing import Any

import httpx
import pytest

from chatalot.app import create_litestar
from chatalot.context import Ctx
from tests.api import authz
from tests.api.authz import ROLES, Case
from tests.support.auth import make_user

# Routes that are not part of the JSON API surface the matrix covers.
NOT_API = {"/api/openapi", "/"}


def all_cases() -> list[Case]:
    cases: list[Case] = []
    for info in sorted(pkgutil.iter_modules(authz.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{authz.__name__}.{info.name}")
        cases.extend(getattr(module, "CASES", []))
    return cases


CASES = all_cases()


def community_cases() -> list[Case]:
    """The cases of the community matrix (tests/api/community_authz/)."""
    from tests.api import community_authz

    cases: list[Case] = []
    for info in pkgutil.iter_modules(community_authz.__path__):
        module = importlib.import_module(f"{community_authz.__name__}.{info.name}")
        cases.extend(getattr(module, "CASES", []))
    return cases


def fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids) if "{" in value else value
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    return value


def test_every_api_route_has_a_case(ctx: Ctx) -> None:
    """The tables cover exactly the app's /api routes (method + template)."""
    app = create_litestar(ctx)
    routes = set()
    for route in app.routes:
        path = route.path
        if not path.startswith("/api") or any(path.startswith(p) for p in NOT_API if p != "/"):
            continue
        for method in getattr(route, "methods", set()):
            if method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                routes.add((method, path))
    covered = {(c.method, c.route) for c in CASES}
    covered |= {(c.method, c.route) for c in community_cases()}
    assert routes - covered == set(), "routes without an authorization case"
    assert covered - routes == set(), "cases for routes that do not exist"


def test_every_case_names_every_role() -> None:
    """No case leaves a role out."""
    for case in CASES:
        assert set(case.expect) == set(ROLES), case


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.path}")
async def test_authorization(client: httpx.AsyncClient, ctx: Ctx, case: Case, role: str) -> None:
    """The endpoint answers this kind of caller with the expected status."""
    owner = await make_user(ctx, "owner", is_admin=True, is_owner=True)
    admin = await make_user(ctx, "admin", is_admin=True)
    user = await make_user(ctx, "plainuser")
    other = await make_user(ctx, "otheruser")
    suspended = await make_user(ctx, "suspendeduser", suspended=True)
    callers = {"user": user, "other": other, "admin": admin, "owner": owner, "suspended": suspended}
    ids = {name: str(u.id) for name, u in callers.items()} | {"random": str(uuid.uuid4())}
    if case.setup is not None:
        await case.setup(ctx, callers)
    headers = callers[role].headers if role in callers else {}
    path = fill(case.path, ids)
    body = case.body(ids) if callable(case.body) else fill(case.body, ids)
    kwargs: dict[str, Any] = {"headers": headers}
    if case.files is not None or case.data is not None:
        kwargs["files"] = case.files
        kwargs["data"] = case.data
    elif body is not None:
        kwargs["json"] = body
    response = await client.request(case.method, path, **kwargs)
    expected = case.expect[role]
    assert response.status_code == expected, f"{role}: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400:
        assert response.json()["error"]["code"]
    assert not re.search(r"Traceback|asyncpg", response.text)
