"""/api/totp/*: setting up, turning on and off two-factor authentication, backup codes, and the
lockout on wrong codes."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatalot.clock import FakeClock
from chatalot.config import Settings
from chatalot.context import Ctx
from chatalot.security import totp
from chatalot.services import totp as totp_service
from tests.conftest import settings_in
from tests.support.auth import TestUser, make_user

KEY = "test-totp-encryption-key-0123456789"
BACKUP_CODE = re.compile(
    r"^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{4}-[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{4}$"
)
LOCKED = re.compile(r"^too many attempts — try again in (\d+) seconds$")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_in(tmp_path, TOTP_ENCRYPTION_KEY=KEY)


def clock(ctx: Ctx) -> FakeClock:
    assert isinstance(ctx.clock, FakeClock)
    return ctx.clock


def error(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()["error"]
    return response.status_code, body["code"], body["message"]


async def user_state(ctx: Ctx, user: TestUser) -> dict[str, Any]:
    async with ctx.db.connection() as conn:
        record = await conn.fetchrow(
            "SELECT totp_secret, totp_enabled, totp_backup_codes FROM users WHERE id = $1",
            user.id,
        )
    return dict(record)


async def audit_actions(ctx: Ctx, user: TestUser) -> list[str]:
    async with ctx.db.connection() as conn:
        rows = await conn.fetch(
            "SELECT action FROM audit_log WHERE user_id = $1 ORDER BY created_at, id", user.id
        )
    return [r["action"] for r in rows]


async def setup(client: httpx.AsyncClient, user: TestUser) -> bytes:
    """Runs /totp/setup and returns the raw secret, as an authenticator app would read it."""
    response = await client.post("/api/totp/setup", headers=user.headers, json={})
    assert response.status_code == 200, response.text
    shown = response.json()["secret"]
    return base64.b32decode(shown + "=" * (-len(shown) % 8))


async def enable(client: httpx.AsyncClient, ctx: Ctx, user: TestUser) -> tuple[bytes, list[str]]:
    """Setup + verify; then waits 30 s, for the next code (each code is accepted once)."""
    secret = await setup(client, user)
    response = await client.post(
        "/api/totp/verify", headers=user.headers, json={"code": code(ctx, secret)}
    )
    assert response.status_code == 200, response.text
    clock(ctx).advance(30)
    return secret, response.json()["backup_codes"]


def code(ctx: Ctx, secret: bytes) -> str:
    return totp.code_for(secret, ctx.clock.now())


def accepted(ctx: Ctx, secret: bytes) -> set[str]:
    """The codes the server accepts right now (previous, current and next step)."""
    now = ctx.clock.now()
    return {totp.code_for(secret, now + timedelta(seconds=30 * d)) for d in (-1, 0, 1)}


def wrong(ctx: Ctx, secret: bytes) -> str:
    """A 6-digit code that is none of the accepted ones."""
    valid = accepted(ctx, secret)
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


# -- setup ---------------------------------------------------------------------------------


async def test_setup_returns_url_and_secret_and_stores_it_encrypted(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """Setup answers {otpauth_url, secret}, stores the secret encrypted, leaves 2FA off."""
    user = await make_user(ctx, "tess")
    response = await client.post("/api/totp/setup", headers=user.headers, json={})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"otpauth_url", "secret"}
    assert re.fullmatch(r"[A-Z2-7]{32}", body["secret"])
    assert body["otpauth_url"] == (
        f"otpauth://totp/Chatalot:tess?secret={body['secret']}&issuer=Chatalot"
    )
    secret = base64.b32decode(body["secret"])
    state = await user_state(ctx, user)
    assert state["totp_enabled"] is False
    stored = bytes(state["totp_secret"])
    assert len(stored) == 12 + 20 + 16
    assert secret not in stored and body["secret"].encode() not in stored
    assert totp.decrypt_secret(KEY, stored) == secret


async def test_setup_ignores_any_body(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """The client's `{}`, no body, or even a broken body: setup does not read it."""
    user = await make_user(ctx)
    json_headers = {**user.headers, "content-type": "application/json"}
    bodies: list[dict[str, Any]] = [
        {"json": {}},
        {},
        {"content": b"{not json"},
        {"json": {"code": 123, "extra": [1, 2]}},
    ]
    for kwargs in bodies:
        response = await client.post("/api/totp/setup", headers=json_headers, **kwargs)
        assert response.status_code == 200, response.text


async def test_setup_again_replaces_the_pending_secret(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A second setup before verifying makes the first secret useless."""
    user = await make_user(ctx)
    first = await setup(client, user)
    second = await setup(client, user)
    assert first != second
    response = await client.post(
        "/api/totp/verify", headers=user.headers, json={"code": code(ctx, first)}
    )
    assert error(response) == (400, "validation_error", "invalid TOTP code")
    response = await client.post(
        "/api/totp/verify", headers=user.headers, json={"code": code(ctx, second)}
    )
    assert response.status_code == 200


async def test_setup_when_enabled_is_a_conflict(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Setup while 2FA is on answers 409 and keeps the active secret."""
    user = await make_user(ctx)
    secret, _ = await enable(client, ctx, user)
    before = await user_state(ctx, user)
    response = await client.post("/api/totp/setup", headers=user.headers, json={})
    assert error(response) == (409, "conflict", "2FA is already enabled")
    assert await user_state(ctx, user) == before
    assert totp.decrypt_secret(KEY, bytes(before["totp_secret"])) == secret


# -- verify --------------------------------------------------------------------------------


async def test_verify_without_setup(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Verify before setup: the original's message, nothing changes."""
    user = await make_user(ctx)
    response = await client.post("/api/totp/verify", headers=user.headers, json={"code": "123456"})
    assert error(response) == (
        400,
        "validation_error",
        "no TOTP secret configured, call /totp/setup first",
    )
    assert (await user_state(ctx, user))["totp_enabled"] is False


async def test_verify_turns_2fa_on_with_eight_backup_codes(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """A right code: enabled, 8 distinct XXXX-XXXX codes stored as SHA-256 hex, audited."""
    user = await make_user(ctx)
    secret = await setup(client, user)
    response = await client.post(
        "/api/totp/verify", headers=user.headers, json={"code": code(ctx, secret)}
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"enabled", "backup_codes"}
    assert body["enabled"] is True
    codes = body["backup_codes"]
    assert len(codes) == 8 and len(set(codes)) == 8
    assert all(BACKUP_CODE.match(c) for c in codes)
    state = await user_state(ctx, user)
    assert state["totp_enabled"] is True
    assert sorted(state["totp_backup_codes"]) == sorted(
        hashlib.sha256(c.encode()).hexdigest() for c in codes
    )
    assert await audit_actions(ctx, user) == ["totp_enabled"]


async def test_verify_accepts_previous_and_next_step(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A code from 30 s ago still works (clock skew); one from 60 s ago does not."""
    user = await make_user(ctx)
    secret = await setup(client, user)
    old = code(ctx, secret)
    clock(ctx).advance(60)
    if old not in accepted(ctx, secret):  # (a one-in-a-million collision would make it valid)
        response = await client.post("/api/totp/verify", headers=user.headers, json={"code": old})
        assert response.status_code == 400
    clock(ctx).advance(-30)
    response = await client.post("/api/totp/verify", headers=user.headers, json={"code": old})
    assert response.status_code == 200


async def test_verify_wrong_code(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A wrong code: 400 `invalid TOTP code`, 2FA stays off, no backup codes."""
    user = await make_user(ctx)
    secret = await setup(client, user)
    response = await client.post(
        "/api/totp/verify", headers=user.headers, json={"code": wrong(ctx, secret)}
    )
    assert error(response) == (400, "validation_error", "invalid TOTP code")
    state = await user_state(ctx, user)
    assert state["totp_enabled"] is False
    assert not state["totp_backup_codes"]
    assert await audit_actions(ctx, user) == []


async def test_verify_again_reissues_backup_codes(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Verify while enabled replaces the backup codes (as the original does)."""
    user = await make_user(ctx)
    secret, first = await enable(client, ctx, user)
    response = await client.post(
        "/api/totp/verify", headers=user.headers, json={"code": code(ctx, secret)}
    )
    assert response.status_code == 200
    second = response.json()["backup_codes"]
    assert set(first).isdisjoint(second)
    stored = (await user_state(ctx, user))["totp_backup_codes"]
    assert sorted(stored) == sorted(hashlib.sha256(c.encode()).hexdigest() for c in second)


async def test_each_code_is_accepted_once(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """The code that turned 2FA on cannot be used again in its window (verify, regenerate or
    disable: 400 `invalid TOTP code`, nothing changes); the next window's code works once."""
    user = await make_user(ctx)
    secret = await setup(client, user)
    used = code(ctx, secret)
    response = await client.post("/api/totp/verify", headers=user.headers, json={"code": used})
    assert response.status_code == 200, response.text
    before = await user_state(ctx, user)
    clock(ctx).advance(10)  # same window
    for path in ("verify", "regenerate-backup-codes", "disable"):
        response = await client.post(f"/api/totp/{path}", headers=user.headers, json={"code": used})
        assert error(response) == (400, "validation_error", "invalid TOTP code")
    assert await user_state(ctx, user) == before
    clock(ctx).advance(30)
    fresh = {"code": code(ctx, secret)}
    response = await client.post(
        "/api/totp/regenerate-backup-codes", headers=user.headers, json=fresh
    )
    assert response.status_code == 200, response.text
    response = await client.post("/api/totp/disable", headers=user.headers, json=fresh)
    assert error(response) == (400, "validation_error", "invalid TOTP code")


async def test_a_new_secret_starts_afresh(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """After 2FA is turned off, a new secret can be turned on within the same 30 s (the last
    used step belonged to the old secret)."""
    user = await make_user(ctx)
    secret, _ = await enable(client, ctx, user)
    response = await client.post(
        "/api/totp/disable", headers=user.headers, json={"code": code(ctx, secret)}
    )
    assert response.status_code == 200, response.text
    await enable(client, ctx, user)  # same clock: only the new secret's code is fresh


# -- disable -------------------------------------------------------------------------------


async def test_disable_when_not_enabled(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Disable with 2FA off (even with a pending secret): 400 `2FA is not enabled`."""
    user = await make_user(ctx)
    response = await client.post("/api/totp/disable", headers=user.headers, json={"code": "1"})
    assert error(response) == (400, "validation_error", "2FA is not enabled")
    secret = await setup(client, user)
    response = await client.post(
        "/api/totp/disable", headers=user.headers, json={"code": code(ctx, secret)}
    )
    assert error(response) == (400, "validation_error", "2FA is not enabled")


async def test_disable_refuses_backup_codes(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Only a TOTP code turns 2FA off; a backup code is refused and not used up."""
    user = await make_user(ctx)
    _, backup = await enable(client, ctx, user)
    response = await client.post(
        "/api/totp/disable", headers=user.headers, json={"code": backup[0]}
    )
    assert error(response) == (400, "validation_error", "invalid TOTP code")
    state = await user_state(ctx, user)
    assert state["totp_enabled"] is True
    assert hashlib.sha256(backup[0].encode()).hexdigest() in state["totp_backup_codes"]


async def test_disable_clears_secret_and_codes(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A right code: exactly {"enabled": false}; secret and backup codes gone; audited; login
    no longer asks for a code."""
    user = await make_user(ctx, "dina")
    secret, _ = await enable(client, ctx, user)
    response = await client.post(
        "/api/totp/disable", headers=user.headers, json={"code": code(ctx, secret)}
    )
    assert response.status_code == 200
    assert response.content == b'{"enabled":false}'
    state = await user_state(ctx, user)
    assert state == {"totp_secret": None, "totp_enabled": False, "totp_backup_codes": []}
    assert await audit_actions(ctx, user) == ["totp_enabled", "totp_disabled"]
    login = await client.post(
        "/api/auth/login", json={"username": "dina", "password": user.password}
    )
    assert login.status_code == 200, login.text


# -- regenerate ----------------------------------------------------------------------------


async def test_regenerate_backup_codes(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A right code: 8 new codes replace the old ones; audited."""
    user = await make_user(ctx)
    secret, old = await enable(client, ctx, user)
    response = await client.post(
        "/api/totp/regenerate-backup-codes",
        headers=user.headers,
        json={"code": code(ctx, secret)},
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"backup_codes"}
    new = body["backup_codes"]
    assert len(new) == 8 and all(BACKUP_CODE.match(c) for c in new)
    assert set(new).isdisjoint(old)
    stored = (await user_state(ctx, user))["totp_backup_codes"]
    assert sorted(stored) == sorted(hashlib.sha256(c.encode()).hexdigest() for c in new)
    assert (await audit_actions(ctx, user))[-1] == "totp_backup_codes_regenerated"


async def test_regenerate_errors(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Not enabled: 400 `2FA is not enabled`; wrong or backup code: 400 `invalid TOTP code`,
    codes unchanged."""
    user = await make_user(ctx)
    path = "/api/totp/regenerate-backup-codes"
    response = await client.post(path, headers=user.headers, json={"code": "123456"})
    assert error(response) == (400, "validation_error", "2FA is not enabled")
    secret, old = await enable(client, ctx, user)
    before = await user_state(ctx, user)
    for bad in (wrong(ctx, secret), old[0]):
        response = await client.post(path, headers=user.headers, json={"code": bad})
        assert error(response) == (400, "validation_error", "invalid TOTP code")
    assert await user_state(ctx, user) == before


# -- brute force ---------------------------------------------------------------------------


async def test_ten_wrong_codes_lock_2fa_management(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """10 wrong codes (across verify, disable, regenerate) lock for 15 minutes with 429, even
    for a right code; the lock expires."""
    user = await make_user(ctx, "brute")
    secret, _ = await enable(client, ctx, user)
    paths = ["/api/totp/verify", "/api/totp/disable", "/api/totp/regenerate-backup-codes"]
    for i in range(10):
        response = await client.post(
            paths[i % 3], headers=user.headers, json={"code": wrong(ctx, secret)}
        )
        assert error(response) == (400, "validation_error", "invalid TOTP code")
    for path in paths:
        response = await client.post(path, headers=user.headers, json={"code": code(ctx, secret)})
        status, err_code, message = error(response)
        assert (status, err_code) == (429, "rate_limited")
        match = LOCKED.match(message)
        assert match is not None, message
        assert 0 < int(match.group(1)) <= 900
        assert response.headers["retry-after"] == match.group(1)
    assert (await user_state(ctx, user))["totp_enabled"] is True
    login = await client.post("/api/auth/login", json={"username": "brute", "password": "x"})
    assert login.status_code == 401  # the login counter is separate
    clock(ctx).advance(15 * 60 + 1)
    response = await client.post(
        "/api/totp/disable", headers=user.headers, json={"code": code(ctx, secret)}
    )
    assert response.status_code == 200


async def test_a_right_code_clears_the_failure_count(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """9 failures, a success, 9 more failures: never locked."""
    user = await make_user(ctx)
    secret, _ = await enable(client, ctx, user)
    for _ in range(9):
        response = await client.post(
            "/api/totp/verify", headers=user.headers, json={"code": wrong(ctx, secret)}
        )
        assert response.status_code == 400
    response = await client.post(
        "/api/totp/verify", headers=user.headers, json={"code": code(ctx, secret)}
    )
    assert response.status_code == 200
    for _ in range(10):
        response = await client.post(
            "/api/totp/verify", headers=user.headers, json={"code": wrong(ctx, secret)}
        )
        assert response.status_code == 400
    response = await client.post(
        "/api/totp/verify", headers=user.headers, json={"code": code(ctx, secret)}
    )
    assert response.status_code == 429


async def test_lockout_is_per_user(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """One user's wrong codes do not lock another user."""
    mallory = await make_user(ctx)
    alice = await make_user(ctx)
    secret, _ = await enable(client, ctx, mallory)
    for _ in range(10):
        await client.post(
            "/api/totp/verify", headers=mallory.headers, json={"code": wrong(ctx, secret)}
        )
    alice_secret = await setup(client, alice)
    response = await client.post(
        "/api/totp/verify", headers=alice.headers, json={"code": code(ctx, alice_secret)}
    )
    assert response.status_code == 200


# -- keys ----------------------------------------------------------------------------------


async def test_changed_encryption_key_makes_codes_fail(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """After TOTP_ENCRYPTION_KEY changes, the stored secret cannot be read: codes fail (400),
    never a 500."""
    user = await make_user(ctx)
    secret, _ = await enable(client, ctx, user)
    ctx.settings = dataclasses.replace(ctx.settings, totp_encryption_key="a-different-key-456789")
    response = await client.post(
        "/api/totp/disable", headers=user.headers, json={"code": code(ctx, secret)}
    )
    assert error(response) == (400, "validation_error", "invalid TOTP code")


async def test_dev_mode_without_key_uses_an_empty_key(
    client: httpx.AsyncClient,
    ctx: Ctx,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without TOTP_ENCRYPTION_KEY (dev only) setup and verify work, the secret is encrypted
    with the empty key, and a warning is logged."""
    ctx.settings = dataclasses.replace(ctx.settings, totp_encryption_key=None)
    monkeypatch.setattr(totp_service, "_warned_missing_key", False)
    user = await make_user(ctx)
    with caplog.at_level("WARNING", logger="chatalot_server"):
        secret, _ = await enable(client, ctx, user)
        await setup(client, await make_user(ctx))
    stored = bytes((await user_state(ctx, user))["totp_secret"])
    assert totp.decrypt_secret("", stored) == secret
    warnings = [r for r in caplog.records if "TOTP_ENCRYPTION_KEY" in r.getMessage()]
    assert len(warnings) == 1


# -- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/totp/verify", "/api/totp/disable", "/api/totp/regenerate-backup-codes"]
)
async def test_bad_bodies_are_400s(client: httpx.AsyncClient, ctx: Ctx, path: str) -> None:
    """Malformed JSON, a missing or non-string code: 400 in the error shape."""
    user = await make_user(ctx)
    headers = {**user.headers, "content-type": "application/json"}
    cases: list[tuple[bytes, str]] = [
        (b"{not json", ""),
        (b"{}", "code is required"),
        (b'{"code": 123456}', "code: Expected `str`, got `int`"),
        (b'{"code": null}', "code: Expected `str`, got `null`"),
        (b"[]", ""),
    ]
    for raw, message in cases:
        response = await client.post(path, headers=headers, content=raw)
        status, err_code, text = error(response)
        assert (status, err_code) == (400, "validation_error"), (raw, response.text)
        if message:
            assert text == message


@pytest.mark.parametrize(
    "bad",
    ["", " ", "1" * 10_000, "'; DROP TABLE users; --", "２８７０８２", "12 34 56 78"],
)
async def test_odd_codes_are_just_wrong(client: httpx.AsyncClient, ctx: Ctx, bad: str) -> None:
    """Empty, huge, SQL-ish, full-width digits: `invalid TOTP code`, never a 500 (NUL is
    refused at the edge; the service is checked in tests/services/test_text_checks.py)."""
    user = await make_user(ctx)
    await setup(client, user)
    response = await client.post("/api/totp/verify", headers=user.headers, json={"code": bad})
    assert error(response) == (400, "validation_error", "invalid TOTP code")
    async with ctx.db.connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM users") >= 1


async def test_requires_authentication(client: httpx.AsyncClient) -> None:
    """No token: 401 for every TOTP endpoint."""
    for path in ("setup", "verify", "disable", "regenerate-backup-codes"):
        response = await client.post(f"/api/totp/{path}", json={"code": "123456"})
        assert response.status_code == 401
