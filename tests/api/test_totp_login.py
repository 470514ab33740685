"""Signing in to an account with two-factor authentication: TOTP codes, single-use backup codes,
failures counted toward the login lockout, and the secret's encryption at rest."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from chatalot.clock import FakeClock
from chatalot.config import Settings
from chatalot.context import Ctx
from chatalot.security import totp
from tests.conftest import settings_in
from tests.support.auth import TestUser, bearer, make_user

KEY = "login-test-totp-key-abcdefghijklmnop"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_in(tmp_path, TOTP_ENCRYPTION_KEY=KEY)


async def enable_2fa(
    client: httpx.AsyncClient, ctx: Ctx, user: TestUser
) -> tuple[bytes, list[str]]:
    """Setup + verify over the API; returns the raw secret and the backup codes."""
    response = await client.post("/api/totp/setup", headers=user.headers, json={})
    assert response.status_code == 200, response.text
    shown = response.json()["secret"]
    secret = base64.b32decode(shown)
    code = totp.code_for(secret, ctx.clock.now())
    response = await client.post("/api/totp/verify", headers=user.headers, json={"code": code})
    assert response.status_code == 200, response.text
    assert isinstance(ctx.clock, FakeClock)
    ctx.clock.advance(30)  # the next code: each code is accepted once
    return secret, response.json()["backup_codes"]


def wrong_code(ctx: Ctx, secret: bytes) -> str:
    """A 6-digit code that is not accepted now (not the previous, current or next one)."""
    now = ctx.clock.now()
    valid = {totp.code_for(secret, now + timedelta(seconds=30 * d)) for d in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222") if c not in valid)


async def login(
    client: httpx.AsyncClient,
    user: TestUser,
    code: str | None = None,
    *,
    password: str | None = None,
) -> httpx.Response:
    body: dict[str, object] = {
        "username": user.row.username,
        "password": password if password is not None else user.password,
    }
    if code is not None:
        body["totp_code"] = code
    return await client.post("/api/auth/login", json=body)


async def audit_count(ctx: Ctx, user: TestUser, action: str) -> int:
    async with ctx.db.connection() as conn:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM audit_log WHERE user_id = $1 AND action = $2",
                user.id,
                action,
            )
        )


async def test_missing_code_is_asked_for(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Right password, no code (absent, null, empty, blank): 400 with the exact text the client
    looks for; not counted as a failure."""
    user = await make_user(ctx)
    secret, _ = await enable_2fa(client, ctx, user)
    for _ in range(3):
        for body_code in (None, "", "   "):
            response = await login(client, user, body_code)
            assert response.status_code == 400
            assert response.json() == {
                "error": {"code": "validation_error", "message": "2FA code required"}
            }
        response = await client.post(
            "/api/auth/login",
            json={"username": user.row.username, "password": user.password, "totp_code": None},
        )
        assert response.json()["error"]["message"] == "2FA code required"
    response = await login(client, user, totp.code_for(secret, ctx.clock.now()))
    assert response.status_code == 200, response.text


async def test_wrong_password_does_not_reveal_2fa(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A wrong password with or without a code is a plain 401: nobody learns 2FA is on."""
    user = await make_user(ctx)
    secret, _ = await enable_2fa(client, ctx, user)
    assert (await login(client, user, password="Wrong-pass-1")).status_code == 401
    right = totp.code_for(secret, ctx.clock.now())
    assert (await login(client, user, right, password="Wrong-pass-1")).status_code == 401


async def test_valid_totp_code_signs_in(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Password plus the current TOTP code: tokens that work."""
    user = await make_user(ctx)
    secret, _ = await enable_2fa(client, ctx, user)
    response = await login(client, user, totp.code_for(secret, ctx.clock.now()))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"]["id"] == str(user.id)
    sessions = await client.get("/api/account/sessions", headers=bearer(body["access_token"]))
    assert sessions.status_code == 200
    assert await audit_count(ctx, user, "login") == 1


async def test_backup_code_works_once(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A backup code signs in once, is removed, is audited; the second use fails; the others
    still work."""
    user = await make_user(ctx)
    _, backup = await enable_2fa(client, ctx, user)
    first = await login(client, user, backup[0])
    assert first.status_code == 200, first.text
    assert await audit_count(ctx, user, "login_backup_code_used") == 1
    async with ctx.db.connection() as conn:
        stored = await conn.fetchval("SELECT totp_backup_codes FROM users WHERE id = $1", user.id)
    assert len(stored) == 7
    assert hashlib.sha256(backup[0].encode()).hexdigest() not in stored
    again = await login(client, user, backup[0])
    assert again.status_code == 401
    assert await audit_count(ctx, user, "login_backup_code_used") == 1
    assert await audit_count(ctx, user, "login_failed_2fa") == 1
    assert (await login(client, user, backup[1])).status_code == 200


async def test_backup_codes_must_be_typed_exactly(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Lower case or without the dash: not accepted (as in the original)."""
    user = await make_user(ctx)
    _, backup = await enable_2fa(client, ctx, user)
    assert (await login(client, user, backup[0].lower())).status_code == 401
    assert (await login(client, user, backup[0].replace("-", ""))).status_code == 401
    assert (await login(client, user, f"  {backup[0]}  ")).status_code == 200  # trimmed


async def test_wrong_code_is_401_and_counts_toward_lockout(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """Wrong codes answer 401 and are audited; ten lock the login (429) even for a right code."""
    user = await make_user(ctx)
    secret, _ = await enable_2fa(client, ctx, user)
    for _ in range(10):
        response = await login(client, user, wrong_code(ctx, secret))
        assert response.status_code == 401
        assert response.json()["error"] == {"code": "unauthorized", "message": "unauthorized"}
    assert await audit_count(ctx, user, "login_failed_2fa") == 10
    locked = await login(client, user, totp.code_for(secret, ctx.clock.now()))
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "rate_limited"
    assert locked.json()["error"]["message"].startswith("account temporarily locked, try again in")


@pytest.mark.parametrize("bad", ["'; DROP TABLE users; --", "9" * 5000])
async def test_odd_codes_are_wrong_codes(client: httpx.AsyncClient, ctx: Ctx, bad: str) -> None:
    """SQL metacharacters or huge codes: 401, never a 500 (NUL is refused at the edge; the
    service itself is checked in tests/services/test_text_checks.py)."""
    user = await make_user(ctx)
    await enable_2fa(client, ctx, user)
    response = await login(client, user, bad)
    assert response.status_code == 401


async def test_full_width_digits_are_a_wrong_code(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Full-width digits as totp_code: 401 like any wrong code."""
    user = await make_user(ctx)
    await enable_2fa(client, ctx, user)
    response = await login(client, user, "２８７０８２")
    assert response.status_code == 401


async def test_secret_is_stored_encrypted(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """users.totp_secret holds neither the raw secret nor its base32 form."""
    user = await make_user(ctx)
    secret, _ = await enable_2fa(client, ctx, user)
    async with ctx.db.connection() as conn:
        stored = bytes(await conn.fetchval("SELECT totp_secret FROM users WHERE id = $1", user.id))
    shown = totp.secret_base32(secret).encode()
    assert secret not in stored
    assert shown not in stored and shown.lower() not in stored
    assert len(stored) == 48
    assert totp.decrypt_secret(KEY, stored) == secret


async def test_changed_key_breaks_totp_but_not_backup_codes(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """With another TOTP_ENCRYPTION_KEY the secret is unreadable: TOTP codes fail (401),
    backup codes still sign in."""
    user = await make_user(ctx)
    secret, backup = await enable_2fa(client, ctx, user)
    ctx.settings = dataclasses.replace(ctx.settings, totp_encryption_key="another-key-0987654321")
    response = await login(client, user, totp.code_for(secret, ctx.clock.now()))
    assert response.status_code == 401
    response = await login(client, user, backup[0])
    assert response.status_code == 200, response.text


async def test_dev_mode_without_key_totp_login_works(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Without a key (dev mode), 2FA set up over the API also works at login."""
    ctx.settings = dataclasses.replace(ctx.settings, totp_encryption_key=None)
    user = await make_user(ctx)
    secret, _ = await enable_2fa(client, ctx, user)
    response = await login(client, user, totp.code_for(secret, ctx.clock.now()))
    assert response.status_code == 200


async def test_a_totp_code_signs_in_only_once(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """The same code twice within its window: the second sign-in is a 401 (counted and
    audited as a 2FA failure); the next window's code signs in; an older code stays refused."""
    user = await make_user(ctx)
    secret, _ = await enable_2fa(client, ctx, user)
    first_code = totp.code_for(secret, ctx.clock.now())
    assert (await login(client, user, first_code)).status_code == 200
    ctx.clock.advance(5)  # same window
    replay = await login(client, user, first_code)
    assert replay.status_code == 401
    assert replay.json()["error"] == {"code": "unauthorized", "message": "unauthorized"}
    assert await audit_count(ctx, user, "login_failed_2fa") == 1
    ctx.clock.advance(30)
    next_code = totp.code_for(secret, ctx.clock.now())
    assert next_code != first_code  # (a one-in-a-million collision would make this moot)
    assert (await login(client, user, next_code)).status_code == 200
    assert (await login(client, user, first_code)).status_code == 401  # previous step: used up
    assert await audit_count(ctx, user, "login") == 2


async def test_a_code_used_to_sign_in_cannot_turn_2fa_off(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """A code seen at sign-in (e.g. shoulder-surfed) cannot be used again on the 2FA
    endpoints within its window."""
    user = await make_user(ctx)
    secret, _ = await enable_2fa(client, ctx, user)
    code = totp.code_for(secret, ctx.clock.now())
    assert (await login(client, user, code)).status_code == 200
    response = await client.post("/api/totp/disable", headers=user.headers, json={"code": code})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "invalid TOTP code"
