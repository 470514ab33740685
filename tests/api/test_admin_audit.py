"""GET /api/admin/audit-log: newest first, exact-match filters, page/per_page, strict input."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from chatalot.context import Ctx
from chatalot.ids import UserId, uuid7
from tests.support.auth import TestUser, make_user

ENTRY_KEYS = {"id", "user_id", "action", "ip_address", "user_agent", "metadata", "created_at"}


async def add_entry(
    ctx: Ctx,
    action: str,
    user_id: UserId | None,
    *,
    minutes_ago: int,
    metadata: dict[str, Any] | None = None,
) -> uuid.UUID:
    entry_id = uuid7()
    async with ctx.db.connection() as conn:
        await conn.execute(
            "INSERT INTO audit_log (id, user_id, action, ip_address, user_agent, metadata,"
            " created_at) VALUES ($1, $2, $3, '10.0.0.1', 'Firefox on Linux', $4,"
            " now() - make_interval(mins => $5))",
            entry_id,
            user_id,
            action,
            metadata,
            minutes_ago,
        )
    return entry_id


async def setup(ctx: Ctx) -> tuple[TestUser, TestUser, list[uuid.UUID]]:
    caller = await make_user(ctx, "helper", is_admin=True)
    other = await make_user(ctx, "someone")
    ids = [
        await add_entry(ctx, "login", other.id, minutes_ago=1),
        await add_entry(ctx, "login_failed", other.id, minutes_ago=2),
        await add_entry(ctx, "login", caller.id, minutes_ago=3, metadata={"k": [1, "x"]}),
        await add_entry(ctx, "register", None, minutes_ago=4),
    ]
    return caller, other, ids


def error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["error"]["message"])


async def test_entries_newest_first_with_envelope(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """The envelope is {entries, total, page, per_page}; entries have exactly the original's
    keys, newest first; metadata is an object or null."""
    caller, other, ids = await setup(ctx)
    response = await client.get("/api/admin/audit-log", headers=caller.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"entries", "total", "page", "per_page"}
    assert body["total"] == 4 and body["page"] == 1 and body["per_page"] == 50
    assert [e["id"] for e in body["entries"]] == [str(i) for i in ids]
    first = body["entries"][0]
    assert set(first) == ENTRY_KEYS
    assert first["user_id"] == str(other.id)
    assert first["action"] == "login"
    assert first["ip_address"] == "10.0.0.1"
    assert first["user_agent"] == "Firefox on Linux"
    assert first["metadata"] is None
    assert first["created_at"].endswith("+00:00")
    assert body["entries"][2]["metadata"] == {"k": [1, "x"]}
    assert body["entries"][3]["user_id"] is None


async def test_filters_are_exact(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """action and user_id filter by equality (no prefix or pattern matching), and combine."""
    caller, other, ids = await setup(ctx)

    async def fetch(params: dict[str, str]) -> dict[str, Any]:
        response = await client.get("/api/admin/audit-log", params=params, headers=caller.headers)
        assert response.status_code == 200, response.text
        return dict(response.json())

    logins = await fetch({"action": "login"})
    assert logins["total"] == 2
    assert [e["id"] for e in logins["entries"]] == [str(ids[0]), str(ids[2])]
    assert (await fetch({"action": "log"}))["total"] == 0
    assert (await fetch({"action": "login%"}))["total"] == 0
    assert (await fetch({"action": "' OR '1'='1"}))["total"] == 0
    by_user = await fetch({"user_id": str(other.id)})
    assert [e["id"] for e in by_user["entries"]] == [str(ids[0]), str(ids[1])]
    both = await fetch({"user_id": str(other.id), "action": "login_failed"})
    assert [e["id"] for e in both["entries"]] == [str(ids[1])]
    assert (await fetch({"user_id": str(uuid.uuid4())}))["total"] == 0


async def test_paging(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """page and per_page select a slice; total counts every matching entry."""
    caller, _other, ids = await setup(ctx)
    response = await client.get("/api/admin/audit-log?page=2&per_page=3", headers=caller.headers)
    body = response.json()
    assert body["total"] == 4 and body["page"] == 2 and body["per_page"] == 3
    assert [e["id"] for e in body["entries"]] == [str(ids[3])]
    far = await client.get("/api/admin/audit-log?page=10000&per_page=100", headers=caller.headers)
    assert far.status_code == 200 and far.json()["entries"] == [] and far.json()["total"] == 4


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("page=0", "page must be between 1 and 10000"),
        ("page=10001", "page must be between 1 and 10000"),
        ("page=-3", "page must be between 1 and 10000"),
        ("page=abc", "page must be a whole number between 1 and 10000"),
        ("per_page=0", "per_page must be between 1 and 100"),
        ("per_page=101", "per_page must be between 1 and 100"),
        ("per_page=-1", "per_page must be between 1 and 100"),
        ("per_page=99999999999999999999999999", "per_page must be between 1 and 100"),
        ("user_id=not-a-uuid", "invalid user_id"),
        ("user_id=1%27%20OR%201%3D1", "invalid user_id"),
        ("action=" + "a" * 65, "action must be at most 64 characters"),
        ("action=a%00b", "the URL must not contain the NUL character (%00)"),  # refused by the edge
    ],
)
async def test_bad_query_is_400(
    client: httpx.AsyncClient, ctx: Ctx, query: str, message: str
) -> None:
    """Out-of-range or malformed parameters are 400s (the original answered 500 to some)."""
    caller, _other, _ids = await setup(ctx)
    response = await client.get(f"/api/admin/audit-log?{query}", headers=caller.headers)
    assert error(response, 400) == message


async def test_admin_actions_appear_in_the_log(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Actions taken through the admin API are readable through it, with their metadata."""
    await make_user(ctx, "boss", is_admin=True, is_owner=True)
    caller = await make_user(ctx, "helper", is_admin=True)
    target = await make_user(ctx, "target")
    await client.post(f"/api/admin/users/{target.id}/suspend", json={}, headers=caller.headers)
    response = await client.get(
        "/api/admin/audit-log?action=admin_suspend_user", headers=caller.headers
    )
    [entry] = response.json()["entries"]
    assert entry["user_id"] == str(caller.id)
    assert entry["metadata"]["target_user_id"] == str(target.id)


async def test_plain_user_is_refused(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """The audit log is for instance admins only."""
    await setup(ctx)
    plain = await make_user(ctx, "plain")
    assert (
        error(await client.get("/api/admin/audit-log", headers=plain.headers), 403) == "forbidden"
    )
