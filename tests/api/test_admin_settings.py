"""/api/admin/settings: the instance settings map, validated all-or-nothing, applied at once
(visible in GET /api/auth/config) and audited."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from chatalot.context import Ctx
from tests.support.auth import TestUser, make_user, register_body

DEFAULTS = {
    "allow_external_image_urls": "true",
    "e2e_enabled": "true",
    "max_messages_cache": "500",
    "max_pins_per_channel": "50",
    "registration_mode": "invite_only",
}


async def admin(ctx: Ctx) -> TestUser:
    await make_user(ctx, "boss", is_admin=True, is_owner=True)
    return await make_user(ctx, "helper", is_admin=True)


async def stored(ctx: Ctx) -> dict[str, str]:
    async with ctx.db.connection() as conn:
        rows = await conn.fetch("SELECT key, value FROM instance_settings")
    return {r["key"]: r["value"] for r in rows}


def error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["error"]["message"])


async def test_get_settings_includes_effective_registration_mode(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """GET returns every stored row plus registration_mode from the environment when no row
    holds it."""
    caller = await admin(ctx)
    response = await client.get("/api/admin/settings", headers=caller.headers)
    assert response.status_code == 200, response.text
    assert response.json() == DEFAULTS
    assert "registration_mode" not in await stored(ctx)


async def test_put_settings_applies_at_once(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A change is stored, returned as the full map, visible in /api/auth/config immediately,
    and audited with the changes."""
    caller = await admin(ctx)
    response = await client.put(
        "/api/admin/settings",
        json={"max_pins_per_channel": "120", "e2e_enabled": "false", "max_messages_cache": "075"},
        headers=caller.headers,
    )
    assert response.status_code == 200, response.text
    expected = {
        **DEFAULTS,
        "max_pins_per_channel": "120",
        "e2e_enabled": "false",
        "max_messages_cache": "75",
    }
    assert response.json() == expected
    assert (await client.get("/api/admin/settings", headers=caller.headers)).json() == expected
    config = (await client.get("/api/auth/config")).json()
    assert config["max_pins_per_channel"] == 120
    assert config["e2e_enabled"] is False
    assert config["max_messages_cache"] == 75
    async with ctx.db.connection() as conn:
        row = await conn.fetchrow(
            "SELECT user_id, metadata FROM audit_log WHERE action = 'admin_update_settings'"
        )
    assert row["user_id"] == caller.id
    assert row["metadata"] == {
        "changes": {
            "max_pins_per_channel": "120",
            "e2e_enabled": "false",
            "max_messages_cache": "75",
        }
    }


async def test_registration_mode_change_takes_effect(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Setting registration_mode to open lets people register without an invite, and closed
    stops registration; /api/auth/config follows."""
    caller = await admin(ctx)
    refused = await client.post("/api/auth/register", json=register_body("walkin"))
    assert error(refused, 400) == "an invite code is required to register"
    response = await client.put(
        "/api/admin/settings", json={"registration_mode": "open"}, headers=caller.headers
    )
    assert response.json()["registration_mode"] == "open"
    assert (await client.get("/api/auth/config")).json()["registration_mode"] == "open"
    assert (
        await client.post("/api/auth/register", json=register_body("walkin"))
    ).status_code == 200
    await client.put(
        "/api/admin/settings", json={"registration_mode": "closed"}, headers=caller.headers
    )
    closed = await client.post("/api/auth/register", json=register_body("another"))
    assert error(closed, 400) == "registration is currently disabled"
    assert (await stored(ctx))["registration_mode"] == "closed"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"nonsense": "1"}, "unknown setting: nonsense"),
        ({"'; DROP TABLE users; --": "1"}, "unknown setting: '; DROP TABLE users; --"),
        ({"max_pins_per_channel": 100}, "max_pins_per_channel must be a string"),
        ({"e2e_enabled": True}, "e2e_enabled must be a string"),
        ({"max_messages_cache": None}, "max_messages_cache must be a string"),
        ({"max_pins_per_channel": "abc"}, "max_pins_per_channel must be a number"),
        ({"max_pins_per_channel": "0"}, "max_pins_per_channel must be between 1 and 200"),
        ({"max_pins_per_channel": "201"}, "max_pins_per_channel must be between 1 and 200"),
        ({"max_messages_cache": "49"}, "max_messages_cache must be between 50 and 10000"),
        ({"max_messages_cache": "10001"}, "max_messages_cache must be between 50 and 10000"),
        ({"max_messages_cache": "9" * 5000}, "max_messages_cache must be a number"),
        ({"e2e_enabled": "yes"}, "e2e_enabled must be 'true' or 'false'"),
        (
            {"allow_external_image_urls": "no"},
            "allow_external_image_urls must be 'true' or 'false'",
        ),
        ({"allow_external_image_urls": False}, "allow_external_image_urls must be a string"),
        (
            {"registration_mode": "everyone"},
            "registration_mode must be 'open', 'invite_only' or 'closed'",
        ),
        (
            {"max_pins_per_channel": "100", "e2e_enabled": "maybe"},
            "e2e_enabled must be 'true' or 'false'",
        ),
        (
            {"registration_mode": "open", "bogus": "x"},
            "unknown setting: bogus",
        ),
    ],
)
async def test_bad_settings_change_nothing(
    client: httpx.AsyncClient, ctx: Ctx, body: dict[str, Any], message: str
) -> None:
    """Every key is validated before anything is written: one bad key or value is a 400 and
    no setting changes (not in the database, not in memory)."""
    caller = await admin(ctx)
    before = await stored(ctx)
    response = await client.put("/api/admin/settings", json=body, headers=caller.headers)
    assert error(response, 400) == message
    assert response.json()["error"]["code"] == "validation_error"
    assert await stored(ctx) == before
    config = (await client.get("/api/auth/config")).json()
    assert config["max_pins_per_channel"] == 50
    assert config["e2e_enabled"] is True
    assert config["registration_mode"] == "invite_only"


@pytest.mark.parametrize("content", [b"[]", b'"text"', b"42", b'{"max_pins_per_channel": ', b""])
async def test_non_object_body_is_400(client: httpx.AsyncClient, ctx: Ctx, content: bytes) -> None:
    """The body must be a JSON object; anything else (or broken JSON) is a 400."""
    caller = await admin(ctx)
    response = await client.put(
        "/api/admin/settings",
        content=content,
        headers={**caller.headers, "Content-Type": "application/json"},
    )
    error(response, 400)


async def test_empty_change_writes_nothing(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """An empty object returns the current map and writes no audit entry."""
    caller = await admin(ctx)
    response = await client.put("/api/admin/settings", json={}, headers=caller.headers)
    assert response.status_code == 200 and response.json() == DEFAULTS
    async with ctx.db.connection() as conn:
        count = await conn.fetchval(
            "SELECT count(*) FROM audit_log WHERE action = 'admin_update_settings'"
        )
    assert count == 0


async def test_plain_user_cannot_change_settings(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A plain user gets 403 (even with an invalid body) and nothing changes."""
    await admin(ctx)
    plain = await make_user(ctx, "plain")
    before = await stored(ctx)
    for body in ({"max_pins_per_channel": "5"}, {"nonsense": 1}):
        response = await client.put("/api/admin/settings", json=body, headers=plain.headers)
        assert error(response, 403) == "forbidden"
    assert error(await client.get("/api/admin/settings", headers=plain.headers), 403) == "forbidden"
    assert await stored(ctx) == before


async def test_allow_external_image_urls_is_stored_and_applied(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """allow_external_image_urls defaults to "true" (no row), and "false" is stored, returned
    and applied to this process at once."""
    caller = await admin(ctx)
    assert "allow_external_image_urls" not in await stored(ctx)
    assert ctx.instance.values.allow_external_image_urls is True
    response = await client.put(
        "/api/admin/settings", json={"allow_external_image_urls": "false"}, headers=caller.headers
    )
    assert response.status_code == 200, response.text
    assert response.json() == {**DEFAULTS, "allow_external_image_urls": "false"}
    assert (await stored(ctx))["allow_external_image_urls"] == "false"
    assert ctx.instance.values.allow_external_image_urls is False
