"""Registration, login, refresh rotation with reuse detection, recovery: the main paths."""

from __future__ import annotations

from datetime import timedelta

import httpx

from chatalot.clock import FakeClock
from chatalot.context import Ctx
from tests.support.auth import PASSWORD, bearer, register, register_body


async def test_first_user_becomes_owner_without_invite(client: httpx.AsyncClient) -> None:
    """In invite_only mode the first account needs no invite and becomes owner and admin."""
    data = await register(client, "Alice")
    assert set(data) == {"access_token", "refresh_token", "user", "recovery_code"}
    user = data["user"]
    assert user["username"] == "Alice"
    assert user["is_owner"] is True and user["is_admin"] is True
    assert user["status"] == "offline"
    assert user["created_at"].endswith("+00:00")
    assert "bio" not in user and "pronouns" not in user and "voice_background_url" not in user
    assert len(data["refresh_token"]) == 64
    assert len(data["recovery_code"]) == 19


async def test_second_user_needs_invite(client: httpx.AsyncClient) -> None:
    """Once a user exists, invite_only registration without a code is refused."""
    await register(client, "first")
    response = await client.post("/api/auth/register", json=register_body("second"))
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "an invite code is required to register"


async def test_login_refresh_and_reuse_detection(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Login keeps other sessions; refresh rotates; replaying a rotated token ends the chain."""
    first = await register(client, "bob")
    login = await client.post("/api/auth/login", json={"username": "BOB", "password": PASSWORD})
    assert login.status_code == 200, login.text
    assert "recovery_code" not in login.json()
    me = await client.get("/api/account/sessions", headers=bearer(login.json()["access_token"]))
    assert len(me.json()) == 2  # registration's session survives the login

    old = login.json()["refresh_token"]
    rotated = await client.post("/api/auth/refresh", json={"refresh_token": old})
    assert rotated.status_code == 200
    assert set(rotated.json()) == {"access_token", "refresh_token"}
    new = rotated.json()["refresh_token"]

    assert isinstance(ctx.clock, FakeClock)
    ctx.clock.advance(60)
    replay = await client.post("/api/auth/refresh", json={"refresh_token": old})
    assert replay.status_code == 401
    after = await client.post("/api/auth/refresh", json={"refresh_token": new})
    assert after.status_code == 401  # the chain was revoked
    other = await client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert other.status_code == 200  # the other device is untouched


async def test_wrong_password_then_lockout(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Ten failures lock the account (429); the counter decays after the window."""
    await register(client, "carol")
    for _ in range(10):
        bad = await client.post("/api/auth/login", json={"username": "carol", "password": "nope"})
        assert bad.status_code == 401
    locked = await client.post("/api/auth/login", json={"username": "carol", "password": PASSWORD})
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "rate_limited"
    assert "account temporarily locked, try again in" in locked.json()["error"]["message"]
    assert int(locked.headers["retry-after"]) > 0
    assert isinstance(ctx.clock, FakeClock)
    ctx.clock.advance(timedelta(minutes=16).total_seconds())
    ok = await client.post("/api/auth/login", json={"username": "carol", "password": PASSWORD})
    assert ok.status_code == 200


async def test_recover_sets_new_password_and_code(client: httpx.AsyncClient) -> None:
    """The recovery code resets the password, ends all sessions and is replaced."""
    data = await register(client, "dave")
    response = await client.post(
        "/api/auth/recover",
        json={
            "username": "dave",
            "recovery_code": data["recovery_code"],
            "new_password": "N3w-Password!",
        },
    )
    assert response.status_code == 200, response.text
    new_code = response.json()["recovery_code"]
    assert new_code != data["recovery_code"]
    old_refresh = await client.post(
        "/api/auth/refresh", json={"refresh_token": data["refresh_token"]}
    )
    assert old_refresh.status_code == 401
    login = await client.post(
        "/api/auth/login", json={"username": "dave", "password": "N3w-Password!"}
    )
    assert login.status_code == 200
    again = await client.post(
        "/api/auth/recover",
        json={
            "username": "dave",
            "recovery_code": data["recovery_code"],
            "new_password": "N3w-Password!",
        },
    )
    assert again.status_code == 400
