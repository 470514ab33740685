"""Every community, group, channel and DM endpoint x every kind of caller, from the tables in
tests/api/community_authz/."""

from __future__ import annotations

import importlib
import pkgutil
import re
from typing import Any

import httpx
import pytest

from chatalot.context import Ctx
from tests.api import community_authz
from tests.api.authz import Case
from tests.api.community_authz import ROLES, build_world
from tests.api.test_authorization_matrix import fill


def all_cases() -> list[Case]:
    cases: list[Case] = []
    for info in sorted(pkgutil.iter_modules(community_authz.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{community_authz.__name__}.{info.name}")
        cases.extend(getattr(module, "CASES", []))
    return cases


CASES = all_cases()


def test_every_case_names_every_role() -> None:
    """No case leaves a role out."""
    for case in CASES:
        assert set(case.expect) == set(ROLES), case


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.path} {c.note}".strip())
async def test_community_authorization(
    client: httpx.AsyncClient, ctx: Ctx, case: Case, role: str
) -> None:
    """The endpoint answers this kind of caller with the expected status."""
    world = await build_world(ctx)
    ids = dict(world.ids)
    ids["me"] = ids[role] if role in world.users else ids["random"]
    if case.setup is not None:
        await case.setup(ctx, world)
    headers = world.users[role].headers if role in world.users else {}
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
