"""/api/admin/invites: registration invites created, listed and deleted by instance admins,
and consumed by registration in invite_only mode."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from chatalot.clock import FakeClock
from chatalot.context import Ctx
from chatalot.protocol.time import rfc3339
from tests.support.auth import TestUser, make_user, register_body

INVITE_KEYS = {"id", "code", "created_by", "max_uses", "used_count", "expires_at", "created_at"}


async def admin(ctx: Ctx) -> TestUser:
    await make_user(ctx, "boss", is_admin=True, is_owner=True)
    return await make_user(ctx, "helper", is_admin=True)


def error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["error"]["message"])


async def invite_count(ctx: Ctx) -> int:
    async with ctx.db.connection() as conn:
        return int(await conn.fetchval("SELECT count(*) FROM registration_invites"))


async def test_create_invite_shape_and_audit(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A new invite has a 12-character alphanumeric code, the given limits, an expiry counted
    from now, and is audited."""
    caller = await admin(ctx)
    response = await client.post(
        "/api/admin/invites", json={"max_uses": 3, "expires_in_hours": 24}, headers=caller.headers
    )
    assert response.status_code == 200, response.text
    invite = response.json()
    assert set(invite) == INVITE_KEYS
    assert re.fullmatch(r"[A-Za-z0-9]{12}", invite["code"])
    assert invite["created_by"] == str(caller.id)
    assert invite["max_uses"] == 3
    assert invite["used_count"] == 0
    assert invite["expires_at"] == rfc3339(ctx.clock.now() + timedelta(hours=24))
    assert invite["created_at"].endswith("+00:00")
    uuid.UUID(invite["id"])
    async with ctx.db.connection() as conn:
        row = await conn.fetchrow(
            "SELECT user_id, metadata FROM audit_log WHERE action = 'admin_create_invite'"
        )
    assert row["user_id"] == caller.id
    assert row["metadata"] == {"invite_id": invite["id"], "max_uses": 3, "expires_in_hours": 24}


async def test_create_invite_defaults_to_unlimited(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """An empty body (or nulls) makes an invite without a use limit and without expiry."""
    caller = await admin(ctx)
    for body in ({}, {"max_uses": None, "expires_in_hours": None}):
        response = await client.post("/api/admin/invites", json=body, headers=caller.headers)
        assert response.status_code == 200, response.text
        assert response.json()["max_uses"] is None
        assert response.json()["expires_at"] is None
    codes = {
        i["code"] for i in (await client.get("/api/admin/invites", headers=caller.headers)).json()
    }
    assert len(codes) == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"max_uses": 0}, "max_uses must be between 1 and 1000000"),
        ({"max_uses": -1}, "max_uses must be between 1 and 1000000"),
        ({"max_uses": 1_000_001}, "max_uses must be between 1 and 1000000"),
        ({"expires_in_hours": 0}, "expires_in_hours must be between 1 and 8760"),
        ({"expires_in_hours": -5}, "expires_in_hours must be between 1 and 8760"),
        ({"expires_in_hours": 8761}, "expires_in_hours must be between 1 and 8760"),
        ({"max_uses": 10**30}, None),
        ({"max_uses": "many"}, None),
        ({"max_uses": 1.5}, None),
        ({"expires_in_hours": True}, None),
        ({"expires_in_hours": "'; DROP TABLE users; --"}, None),
        ([], None),
    ],
)
async def test_create_invite_bad_input(
    client: httpx.AsyncClient, ctx: Ctx, body: Any, message: str | None
) -> None:
    """Out-of-range limits and wrong types are 400s and create nothing."""
    caller = await admin(ctx)
    response = await client.post("/api/admin/invites", json=body, headers=caller.headers)
    text = error(response, 400)
    assert response.json()["error"]["code"] == "validation_error"
    if message is not None:
        assert text == message
    assert await invite_count(ctx) == 0


async def test_limits_at_the_edges_are_accepted(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """1 and 1,000,000 uses, 1 and 8760 hours are all valid."""
    caller = await admin(ctx)
    for body in (
        {"max_uses": 1, "expires_in_hours": 1},
        {"max_uses": 1_000_000, "expires_in_hours": 8760},
    ):
        response = await client.post("/api/admin/invites", json=body, headers=caller.headers)
        assert response.status_code == 200, response.text
        assert response.json()["max_uses"] == body["max_uses"]


async def test_malformed_json_is_400(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A broken body is a validation error, not a 500."""
    caller = await admin(ctx)
    response = await client.post(
        "/api/admin/invites",
        content=b'{"max_uses": ',
        headers={**caller.headers, "Content-Type": "application/json"},
    )
    assert error(response, 400)
    assert await invite_count(ctx) == 0


async def test_registration_consumes_the_invite(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """In invite_only mode the code lets exactly max_uses people register, then stops."""
    caller = await admin(ctx)
    invite = (
        await client.post("/api/admin/invites", json={"max_uses": 1}, headers=caller.headers)
    ).json()
    first = await client.post(
        "/api/auth/register", json=register_body("newcomer", invite_code=invite["code"])
    )
    assert first.status_code == 200, first.text
    second = await client.post(
        "/api/auth/register", json=register_body("latecomer", invite_code=invite["code"])
    )
    assert error(second, 400) == "invalid, expired, or fully used invite code"
    [listed] = (await client.get("/api/admin/invites", headers=caller.headers)).json()
    assert listed["used_count"] == 1


async def test_expired_invite_is_refused(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """After expires_in_hours the code no longer registers anyone."""
    caller = await admin(ctx)
    invite = (
        await client.post(
            "/api/admin/invites", json={"expires_in_hours": 1}, headers=caller.headers
        )
    ).json()
    assert isinstance(ctx.clock, FakeClock)
    ctx.clock.advance(3601)
    response = await client.post(
        "/api/auth/register", json=register_body("toolate", invite_code=invite["code"])
    )
    assert error(response, 400) == "invalid, expired, or fully used invite code"


async def test_list_newest_first_capped_at_500(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """The list holds the 500 newest invites, newest first."""
    caller = await admin(ctx)
    async with ctx.db.connection() as conn:
        await conn.execute(
            """
            INSERT INTO registration_invites (id, code, created_by, created_at)
                 SELECT gen_random_uuid(), 'code' || n, $1, now() - make_interval(mins => n)
                   FROM generate_series(1, 502) AS n
            """,
            caller.id,
        )
    response = await client.get("/api/admin/invites", headers=caller.headers)
    assert response.status_code == 200
    invites = response.json()
    assert len(invites) == 500
    assert [i["code"] for i in invites[:3]] == ["code1", "code2", "code3"]
    assert invites[-1]["code"] == "code500"
    assert set(invites[0]) == INVITE_KEYS


async def test_delete_invite(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Deleting removes the invite (200, empty body), is audited, and a second delete is 404."""
    caller = await admin(ctx)
    invite = (await client.post("/api/admin/invites", json={}, headers=caller.headers)).json()
    response = await client.delete(f"/api/admin/invites/{invite['id']}", headers=caller.headers)
    assert response.status_code == 200 and response.content == b""
    assert await invite_count(ctx) == 0
    async with ctx.db.connection() as conn:
        metadata = await conn.fetchval(
            "SELECT metadata FROM audit_log WHERE action = 'admin_delete_invite'"
        )
    assert metadata == {"invite_id": invite["id"]}
    again = await client.delete(f"/api/admin/invites/{invite['id']}", headers=caller.headers)
    assert error(again, 404) == "invite not found"
    response = await client.post(
        "/api/auth/register", json=register_body("ghost", invite_code=invite["code"])
    )
    assert error(response, 400) == "invalid, expired, or fully used invite code"


@pytest.mark.parametrize("bad", ["nope", "1'%20OR%20'1'='1", "00000000-0000-0000-0000"])
async def test_delete_malformed_id_is_400(client: httpx.AsyncClient, ctx: Ctx, bad: str) -> None:
    """A non-UUID invite id is a 400."""
    caller = await admin(ctx)
    response = await client.delete(f"/api/admin/invites/{bad}", headers=caller.headers)
    assert error(response, 400) == "invalid invite id"


async def test_plain_users_cannot_manage_invites(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A plain user gets 403 on every invite endpoint and creates nothing."""
    await admin(ctx)
    plain = await make_user(ctx, "plain")
    assert error(await client.get("/api/admin/invites", headers=plain.headers), 403) == "forbidden"
    response = await client.post("/api/admin/invites", json={"max_uses": 0}, headers=plain.headers)
    assert error(response, 403) == "forbidden"
    response = await client.delete(f"/api/admin/invites/{uuid.uuid4()}", headers=plain.headers)
    assert error(response, 403) == "forbidden"
    assert await invite_count(ctx) == 0
