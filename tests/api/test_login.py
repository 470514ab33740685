"""POST /api/auth/login and /api/auth/refresh: credentials, lockout, sessions, rotation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from chatalot.clock import FakeClock
from chatalot.context import Ctx
from chatalot.security.passwords import PasswordHasher
from tests.support.auth import PASSWORD, bearer, make_user, register


class CountingHasher:
    """Wraps the test hasher and counts Argon2 verifications (real or dummy)."""

    def __init__(self, inner: PasswordHasher) -> None:
        self.inner = inner
        self.verifications = 0

    async def verify(self, stored: str, password: str) -> bool:
        self.verifications += 1
        return await self.inner.verify(stored, password)

    async def verify_dummy(self, password: str) -> None:
        self.verifications += 1
        await self.inner.verify_dummy(password)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def login(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD, **extra: Any
) -> httpx.Response:
    return await client.post(
        "/api/auth/login", json={"username": username, "password": password, **extra}
    )


async def test_unknown_user_costs_one_verification(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Unknown user and wrong password both spend exactly one Argon2 verification and answer
    the same 401 body (no user enumeration by timing or message)."""
    await make_user(ctx, "known")
    counter = CountingHasher(ctx.passwords)
    ctx.passwords = counter  # type: ignore[assignment]
    unknown = await login(client, "nobody", "Whatever-1")
    assert counter.verifications == 1
    wrong = await login(client, "known", "Wrong-Password-1")
    assert counter.verifications == 2
    assert unknown.status_code == wrong.status_code == 401
    assert (
        unknown.json()
        == wrong.json()
        == {"error": {"code": "unauthorized", "message": "unauthorized"}}
    )


async def test_login_is_case_insensitive_and_keeps_other_sessions(
    client: httpx.AsyncClient,
) -> None:
    """Login by any case of the name; earlier sessions stay valid."""
    data = await register(client, "MixedCase")
    response = await login(client, "mixedcase")
    assert response.status_code == 200
    assert response.json()["user"]["username"] == "MixedCase"
    refresh = await client.post("/api/auth/refresh", json={"refresh_token": data["refresh_token"]})
    assert refresh.status_code == 200


async def test_suspended_user_told_after_correct_password(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """A suspended account learns it only with the right password (400, not 401)."""
    await make_user(ctx, "banned", suspended=True)
    assert (await login(client, "banned", "Wrong-1aaaa")).status_code == 401
    response = await login(client, "banned")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "account is suspended"


async def test_lockout_counts_unknown_names_and_decays(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Failures lock after 10 within the window; the lock lifts and the count restarts later."""
    clock = ctx.clock
    assert isinstance(clock, FakeClock)
    for _ in range(9):
        assert (await login(client, "ghost", "x")).status_code == 401
    clock.advance(16 * 60)  # the window passed: the count decays
    for _ in range(9):
        assert (await login(client, "ghost", "x")).status_code == 401
    assert (await login(client, "ghost", "x")).status_code == 401  # tenth in this window
    locked = await login(client, "ghost", "x")
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "rate_limited"
    assert locked.headers["retry-after"] == "900"
    clock.advance(15 * 60 + 1)
    assert (await login(client, "ghost", "x")).status_code == 401


async def test_lockout_is_per_username_and_reset_by_success(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """A success clears the counter; other users are unaffected."""
    await make_user(ctx, "victim")
    await make_user(ctx, "bystander")
    for _ in range(9):
        await login(client, "victim", "wrong")
    assert (await login(client, "victim")).status_code == 200
    for _ in range(9):
        await login(client, "victim", "wrong")
    assert (await login(client, "VICTIM")).status_code == 200
    assert (await login(client, "bystander")).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": "x"},
        {"username": None, "password": "x"},
        {"username": ["a"], "password": "x"},
        {"username": "x", "password": "y", "totp_code": 123456},
    ],
)
async def test_bad_login_bodies(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    """Malformed login bodies are 400 validation errors, not 401/500."""
    response = await client.post("/api/auth/login", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


async def test_audit_of_login_and_failure(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """login and login_failed are audited for known users."""
    user = await make_user(ctx, "tracked")
    await login(client, "tracked", "wrong")
    await login(client, "tracked")
    async with ctx.db.connection() as conn:
        actions = [
            r["action"]
            for r in await conn.fetch(
                "SELECT action FROM audit_log WHERE user_id = $1 ORDER BY created_at, id", user.id
            )
        ]
    assert actions == ["login_failed", "login"]


@pytest.mark.parametrize("token", ["", "nothex" * 10, "ab" * 31, "ab" * 33, "00" * 32])
async def test_refresh_rejects_bad_tokens(client: httpx.AsyncClient, token: str) -> None:
    """Non-hex, wrong length and unknown tokens are 401."""
    response = await client.post("/api/auth/refresh", json={"refresh_token": token})
    assert response.status_code == 401


async def test_refresh_grace_for_racing_tabs(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Two tabs refreshing with the same token within seconds: the loser gets 401, but the
    chain survives (not treated as theft)."""
    data = await register(client, "tabs")
    first = await client.post("/api/auth/refresh", json={"refresh_token": data["refresh_token"]})
    assert first.status_code == 200
    second = await client.post("/api/auth/refresh", json={"refresh_token": data["refresh_token"]})
    assert second.status_code == 401
    survivor = await client.post(
        "/api/auth/refresh", json={"refresh_token": first.json()["refresh_token"]}
    )
    assert survivor.status_code == 200


async def test_reuse_is_audited(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A replayed rotated token revokes its chain and writes refresh_token_reuse."""
    data = await register(client, "replayed")
    rotated = await client.post("/api/auth/refresh", json={"refresh_token": data["refresh_token"]})
    assert isinstance(ctx.clock, FakeClock)
    ctx.clock.advance(30)
    assert (
        await client.post("/api/auth/refresh", json={"refresh_token": data["refresh_token"]})
    ).status_code == 401
    assert (
        await client.post(
            "/api/auth/refresh", json={"refresh_token": rotated.json()["refresh_token"]}
        )
    ).status_code == 401
    async with ctx.db.connection() as conn:
        entry = await conn.fetchrow(
            "SELECT metadata FROM audit_log WHERE action = 'refresh_token_reuse'"
        )
    assert entry["metadata"]["sessions_revoked"] == 1


async def test_refresh_refused_for_suspended_and_expired(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """Suspended users cannot refresh; tokens expire after 30 days."""
    data = await register(client, "later")
    async with ctx.db.transaction("suspend") as tx:
        await tx.conn.execute("UPDATE users SET suspended_at = now() WHERE username = 'later'")
    assert (
        await client.post("/api/auth/refresh", json={"refresh_token": data["refresh_token"]})
    ).status_code == 401
    async with ctx.db.transaction("unsuspend") as tx:
        await tx.conn.execute("UPDATE users SET suspended_at = NULL WHERE username = 'later'")
    assert isinstance(ctx.clock, FakeClock)
    ctx.clock.advance(30 * 24 * 3600 + 1)
    assert (
        await client.post("/api/auth/refresh", json={"refresh_token": data["refresh_token"]})
    ).status_code == 401


async def test_refreshed_token_carries_current_flags(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A refresh issues claims from the database (a promotion shows up at the next refresh)."""
    await register(client, "ownerx")
    owner_login = await login(client, "ownerx")
    async with ctx.db.transaction("demote") as tx:
        await tx.conn.execute("UPDATE users SET is_admin = FALSE WHERE username = 'ownerx'")
    refreshed = await client.post(
        "/api/auth/refresh", json={"refresh_token": owner_login.json()["refresh_token"]}
    )
    import jwt

    claims = jwt.decode(refreshed.json()["access_token"], options={"verify_signature": False})
    assert claims["is_admin"] is False and claims["is_owner"] is True


async def test_sessions_list_and_revoke(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Sessions show device and IP; revoking one ends its refresh token; logout-all ends all."""
    data = await register(client, "devices")
    assert isinstance(ctx.clock, FakeClock)
    ctx.clock.advance(5)
    ua = {
        "User-Agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Version/17.0 Safari/605.1.15"
    }
    second = await client.post(
        "/api/auth/login", json={"username": "devices", "password": PASSWORD}, headers=ua
    )
    headers = bearer(data["access_token"])
    sessions = (await client.get("/api/account/sessions", headers=headers)).json()
    assert sessions[0]["device_name"] == "Safari on macOS"
    assert sessions[1]["device_name"].startswith("python-httpx/")  # unknown UA: its first 50 chars
    assert set(sessions[0]) == {
        "id",
        "device_name",
        "ip_address",
        "created_at",
        "expires_at",
        "current",
    }
    assert [s["current"] for s in sessions] == [False, True]
    assert sessions[0]["ip_address"] == "127.0.0.1"
    gone = await client.delete(f"/api/account/sessions/{sessions[0]['id']}", headers=headers)
    assert gone.status_code == 200 and gone.content == b""
    assert (
        await client.post(
            "/api/auth/refresh", json={"refresh_token": second.json()["refresh_token"]}
        )
    ).status_code == 401
    assert (
        await client.delete(f"/api/account/sessions/{sessions[0]['id']}", headers=headers)
    ).status_code == 404
    other = await make_user(ctx, "stranger")
    theirs = await client.get("/api/account/sessions", headers=other.headers)
    assert theirs.json() == []
    assert (
        await client.delete(f"/api/account/sessions/{sessions[1]['id']}", headers=other.headers)
    ).status_code == 404
    out = await client.post("/api/account/logout-all", headers=headers, json={})
    assert out.json() == {"revoked_count": 1}
    # the caller's own session ended too: its access token is refused at once
    assert (await client.get("/api/account/sessions", headers=headers)).status_code == 401


async def test_password_change_keeps_only_the_callers_session(client: httpx.AsyncClient) -> None:
    """Changing the password ends the other devices' sessions and keeps the caller's."""
    first = await register(client, "changer")
    second = await login(client, "changer")
    response = await client.put(
        "/api/account/password",
        json={"current_password": PASSWORD, "new_password": "Brand-New-Pass-2"},
        headers=bearer(second.json()["access_token"]),
    )
    assert response.status_code == 200, response.text
    mine = await client.post(
        "/api/auth/refresh", json={"refresh_token": second.json()["refresh_token"]}
    )
    theirs = await client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert mine.status_code == 200
    assert theirs.status_code == 401


async def test_recovery_has_its_own_lockout(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Ten wrong recovery codes lock recovery for that name (429) without touching login."""
    data = await register(client, "forgetful")
    body = {
        "username": "forgetful",
        "recovery_code": "AAAA-BBBB-CCCC-DDDD",
        "new_password": "N3w-Password!",
    }
    for _ in range(10):
        wrong = await client.post("/api/auth/recover", json=body)
        assert wrong.status_code == 400
        assert wrong.json()["error"]["message"] == "invalid username or recovery code"
    locked = await client.post(
        "/api/auth/recover", json={**body, "recovery_code": data["recovery_code"]}
    )
    assert locked.status_code == 429
    assert locked.json()["error"]["message"].startswith("too many attempts — try again in ")
    assert (await login(client, "forgetful")).status_code == 200
    assert isinstance(ctx.clock, FakeClock)
    ctx.clock.advance(15 * 60 + 1)
    ok = await client.post(
        "/api/auth/recover", json={**body, "recovery_code": data["recovery_code"]}
    )
    assert ok.status_code == 200


async def test_token_of_a_deleted_account_is_refused(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A token whose account disappeared without this process hearing of it (another process
    deleted it, then this one restarted) is refused at its first use: 401."""
    user = await make_user(ctx, "vanished")
    async with ctx.db.transaction("delete_elsewhere") as tx:
        await tx.conn.execute("DELETE FROM users WHERE id = $1", user.id)
    response = await client.get("/api/account/sessions", headers=user.headers)
    assert response.status_code == 401


async def test_suspension_missed_by_memory_is_caught(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A suspension this process never heard about is still enforced for a new token."""
    user = await make_user(ctx, "sneaky")
    async with ctx.db.transaction("suspend_elsewhere") as tx:
        await tx.conn.execute("UPDATE users SET suspended_at = now() WHERE id = $1", user.id)
    assert (await client.get("/api/account/sessions", headers=user.headers)).status_code == 401
    assert ctx.suspensions.is_suspended(user.id)
