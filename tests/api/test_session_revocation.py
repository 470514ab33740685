"""Ending a session ends its access tokens at once (issue 6, defect 5): the token names its
session (claim ``sid``), and every way a session ends makes that token a 401 on the next request,
not at its expiry up to 15 minutes later."""

from __future__ import annotations

from typing import Any

import httpx

from chatalot.app import create_app
from chatalot.clock import FakeClock
from chatalot.context import Ctx
from chatalot.repositories import sessions as sessions_repo
from chatalot.services.revoked_sessions import REMEMBER_SECONDS, RevokedSessions
from tests.support.auth import PASSWORD, bearer, make_user, register


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> Any:
    response = await client.post(
        "/api/auth/login", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def me_status(client: httpx.AsyncClient, access_token: str) -> int:
    return (await client.get("/api/account/me", headers=bearer(access_token))).status_code


async def test_revoking_a_session_refuses_its_access_token(client: httpx.AsyncClient) -> None:
    """DELETE /api/account/sessions/{id}: the ended device's token is refused on its next
    request; the caller's own token keeps working."""
    phone = await register(client, "revokee")
    laptop = await login(client, "revokee")
    assert await me_status(client, phone["access_token"]) == 200  # cached as verified
    sessions = (
        await client.get("/api/account/sessions", headers=bearer(laptop["access_token"]))
    ).json()
    [phone_session] = [s for s in sessions if not s["current"]]
    response = await client.delete(
        f"/api/account/sessions/{phone_session['id']}", headers=bearer(laptop["access_token"])
    )
    assert response.status_code == 200, response.text
    assert await me_status(client, phone["access_token"]) == 401
    assert await me_status(client, laptop["access_token"]) == 200


async def test_logout_all_refuses_every_token_of_the_user(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """POST /api/account/logout-all: every session's token is refused at once, the caller's
    included; another user's token is untouched."""
    first = await register(client, "leaver")
    second = await login(client, "leaver")
    other = await login(client, (await make_user(ctx, "stayer")).row.username)
    response = await client.post(
        "/api/account/logout-all", headers=bearer(second["access_token"]), json={}
    )
    assert response.json() == {"revoked_count": 2}
    assert await me_status(client, first["access_token"]) == 401
    assert await me_status(client, second["access_token"]) == 401
    assert await me_status(client, other["access_token"]) == 200


async def test_refresh_reuse_refuses_the_chains_access_token(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """Replaying a rotated refresh token ends the chain, and the chain's newest access token
    (in the thief's or the owner's hands) is refused at once."""
    await register(client, "reused")
    session = await login(client, "reused")
    rotated = await client.post(
        "/api/auth/refresh", json={"refresh_token": session["refresh_token"]}
    )
    fresh_access = rotated.json()["access_token"]
    assert await me_status(client, fresh_access) == 200
    assert isinstance(ctx.clock, FakeClock)
    ctx.clock.advance(60)  # past the grace for racing tabs
    replay = await client.post(
        "/api/auth/refresh", json={"refresh_token": session["refresh_token"]}
    )
    assert replay.status_code == 401
    assert await me_status(client, fresh_access) == 401


async def test_recovery_refuses_old_tokens(client: httpx.AsyncClient) -> None:
    """Recovering the account with the recovery code ends every session's access token."""
    data = await register(client, "recovered")
    assert await me_status(client, data["access_token"]) == 200
    response = await client.post(
        "/api/auth/recover",
        json={
            "username": "recovered",
            "recovery_code": data["recovery_code"],
            "new_password": "Another-Pass-77",
        },
    )
    assert response.status_code == 200, response.text
    assert await me_status(client, data["access_token"]) == 401


async def test_password_change_refuses_other_devices_tokens(client: httpx.AsyncClient) -> None:
    """Changing the password ends the other devices' access tokens; the caller stays in."""
    other_device = await register(client, "changer2")
    this_device = await login(client, "changer2")
    assert await me_status(client, other_device["access_token"]) == 200
    response = await client.put(
        "/api/account/password",
        json={"current_password": PASSWORD, "new_password": "Brand-New-Pass-2"},
        headers=bearer(this_device["access_token"]),
    )
    assert response.status_code == 200, response.text
    assert await me_status(client, other_device["access_token"]) == 401
    assert await me_status(client, this_device["access_token"]) == 200


async def test_admin_password_reset_refuses_the_targets_tokens(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """An admin resetting a user's password ends that user's access tokens at once."""
    owner = await make_user(ctx, "theowner", is_admin=True, is_owner=True)
    await make_user(ctx, "resetme")
    target = await login(client, "resetme")
    assert await me_status(client, target["access_token"]) == 200
    response = await client.put(
        f"/api/admin/users/{target['user']['id']}/password",
        json={"new_password": "Reset-By-Admin-5"},
        headers=owner.headers,
    )
    assert response.status_code == 200, response.text
    assert await me_status(client, target["access_token"]) == 401


async def test_a_process_that_missed_the_revocation_checks_the_database(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """A token whose session ended while this process was not listening (e.g. it restarted)
    is refused on its first request here: the first sight of a token checks its session."""
    data = await register(client, "missed")
    assert await me_status(client, data["access_token"]) == 200
    sessions = (
        await client.get("/api/account/sessions", headers=bearer(data["access_token"]))
    ).json()
    async with ctx.db.transaction("revoke_behind_the_back") as tx:
        row = await sessions_repo.select_active_session(
            tx.conn, user_id=data["user"]["id"], session_id=sessions[0]["id"], now=ctx.clock.now()
        )
        assert row is not None
        await sessions_repo.revoke_family(tx.conn, row.family_id, ctx.clock.now(), "logout")
    assert await me_status(client, data["access_token"]) == 200  # this process was not told

    restarted = Ctx(
        db=ctx.db,
        settings=ctx.settings,
        clock=ctx.clock,
        started_monotonic=ctx.started_monotonic,
        version=ctx.version,
        tokens=type(ctx.tokens)(ctx.tokens._keys, ctx.clock),
        passwords=ctx.passwords,
        limiter=ctx.limiter,
    )
    transport = httpx.ASGITransport(app=create_app(restarted))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as fresh:
        assert await me_status(fresh, data["access_token"]) == 401
    assert restarted.revoked_sessions.is_revoked(row.family_id)


async def test_reload_learns_recently_ended_sessions(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """After the notification connection comes back, the sessions ended meanwhile (within an
    access token's lifetime) are loaded; older ones and mere rotations are not."""
    data = await register(client, "reloader")
    session = await login(client, "reloader")
    await client.post("/api/auth/refresh", json={"refresh_token": session["refresh_token"]})
    await client.post("/api/account/logout-all", headers=bearer(data["access_token"]), json={})
    async with ctx.db.connection() as conn:
        families = {
            r["family_id"]
            for r in await conn.fetch(
                "SELECT family_id FROM refresh_tokens WHERE user_id = $1", data["user"]["id"]
            )
        }
        registry = RevokedSessions()
        assert await registry.reload(conn, ctx.clock.now()) >= len(families) == 2
        assert all(registry.is_revoked(f) for f in families)
        assert isinstance(ctx.clock, FakeClock)
        ctx.clock.advance(REMEMBER_SECONDS + 1)
        later = RevokedSessions()
        await later.reload(conn, ctx.clock.now())
        assert not any(later.is_revoked(f) for f in families)


def test_registry_forgets_after_a_tokens_lifetime(monkeypatch: Any) -> None:
    """Ended sessions are remembered only while a token issued before the end can be valid."""
    import time as time_module
    import uuid

    now = [1000.0]
    monkeypatch.setattr(time_module, "monotonic", lambda: now[0])
    registry = RevokedSessions()
    old, new = uuid.uuid4(), uuid.uuid4()
    registry.mark([old])
    now[0] += REMEMBER_SECONDS - 1
    registry.mark([new])
    assert registry.is_revoked(old) and registry.is_revoked(new)
    now[0] += 2
    registry.mark([])
    assert not registry.is_revoked(old)
    assert registry.is_revoked(new)
    registry.on_notification("not-a-uuid")
    assert len(registry) == 1
