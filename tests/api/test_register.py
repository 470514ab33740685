"""POST /api/auth/register: modes, invites, validation, keys, uniqueness, first-user bootstrap."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from chatalot.context import Ctx
from chatalot.ids import uuid7
from chatalot.repositories import invites as invites_repo
from chatalot.services.instance_settings import InstanceValues
from tests.support.auth import key_payload, register, register_body


async def post(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/api/auth/register", json=body)


def message(response: httpx.Response) -> str:
    return str(response.json()["error"]["message"])


async def make_invite(
    ctx: Ctx, code: str, *, max_uses: int | None = 1, hours: float | None = None
) -> None:
    async with ctx.db.transaction("test_invite") as tx:
        owner_id = await tx.conn.fetchval("SELECT id FROM users ORDER BY created_at LIMIT 1")
        await invites_repo.insert_registration_invite(
            tx.conn,
            invite_id=uuid7(),
            code=code,
            created_by=owner_id,
            max_uses=max_uses,
            expires_at=None if hours is None else ctx.clock.now() + timedelta(hours=hours),
        )


def set_mode(ctx: Ctx, mode: str) -> None:
    ctx.instance.values = InstanceValues(registration_mode=mode)


async def test_closed_mode_refuses_even_the_first_user(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """closed: nobody registers."""
    set_mode(ctx, "closed")
    response = await post(client, register_body("first"))
    assert response.status_code == 400
    assert message(response) == "registration is currently disabled"


async def test_open_mode_ignores_invites(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """open: anyone registers, a supplied invite code is ignored; only the first is owner."""
    set_mode(ctx, "open")
    first = await register(client, "one")
    second = await register(client, "two", invite_code="whatever")
    assert first["user"]["is_owner"] is True
    assert second["user"]["is_owner"] is False and second["user"]["is_admin"] is False


async def test_invite_consumed_once(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A one-use invite admits one user; the next gets the original's message."""
    await register(client, "owner")
    await make_invite(ctx, "Abc123Def456", max_uses=1)
    ok = await post(client, register_body("guest", invite_code="Abc123Def456"))
    assert ok.status_code == 200, ok.text
    again = await post(client, register_body("guest2", invite_code="Abc123Def456"))
    assert again.status_code == 400
    assert message(again) == "invalid, expired, or fully used invite code"


async def test_expired_and_unknown_invites(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Expired or unknown codes are refused with the same message."""
    await register(client, "owner")
    await make_invite(ctx, "ExpiredCode1", max_uses=None, hours=1)
    ctx.clock.advance(3601)  # type: ignore[attr-defined]
    for code in ("ExpiredCode1", "NoSuchCode00", "' OR 1=1 --"):
        response = await post(client, register_body(invite_code=code))
        assert response.status_code == 400
        assert message(response) == "invalid, expired, or fully used invite code"


async def test_invite_not_consumed_by_failed_registration(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """A registration that fails (username taken) does not use up the invite."""
    await register(client, "owner")
    await make_invite(ctx, "OneSeatOnly1", max_uses=1)
    taken = await post(client, register_body("Owner", invite_code="OneSeatOnly1"))
    assert taken.status_code == 409
    ok = await post(client, register_body("newcomer", invite_code="OneSeatOnly1"))
    assert ok.status_code == 200


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("username", "ab", "username must be between 3 and 32 characters"),
        ("username", "a" * 33, "username must be between 3 and 32 characters"),
        (
            "username",
            "bad name",
            "username may only contain letters, numbers, underscores, hyphens, and dots",
        ),
        (
            "username",
            "аlice",
            "username may only contain letters, numbers, underscores, hyphens, and dots",
        ),
        (
            "username",
            "ａlice",
            "username may only contain letters, numbers, underscores, hyphens, and dots",
        ),
        (
            "username",
            "al\u200bice",
            "username may only contain letters, numbers, underscores, hyphens, and dots",
        ),
        ("username", "_alice", "username must start with a letter or number"),
        ("username", "alice.", "username must not end with a dot"),
        ("username", "al..ice", "username must not contain consecutive dots"),
        (
            "username",
            "x'; DROP TABLE users; --",
            "username may only contain letters, numbers, underscores, hyphens, and dots",
        ),
        ("email", "no-at-sign", "invalid email format"),
        ("email", "a@nodot", "invalid email format"),
        ("email", "@example.com", "invalid email format"),
        ("email", "a b@example.com", "invalid email format"),
        ("email", "a@" + "x" * 250 + ".com", "email too long"),
        ("password", "Sh0rt!", "password must be at least 8 characters"),
        ("password", "Aa1!" * 33, "password must be at most 128 characters"),
        ("password", "lowercase1!", "password must contain at least one uppercase letter"),
        ("password", "UPPERCASE1!", "password must contain at least one lowercase letter"),
        ("password", "NoDigits!!", "password must contain at least one digit"),
        ("password", "NoSpecial12", "password must contain at least one special character"),
        ("display_name", "", "display name must be 1-64 characters"),
        ("display_name", "   ", "display name must be 1-64 characters"),
        ("display_name", "x" * 65, "display name must be 1-64 characters"),
        ("display_name", "é" * 65, "display name must be 1-64 characters"),
        (
            "display_name",
            "right\u202eleft",
            "display name must not contain control or invisible formatting characters",
        ),
    ],
)
async def test_field_rules(
    client: httpx.AsyncClient, field: str, value: str, expected: str
) -> None:
    """Each rule answers 400 with the original's message, and nothing is written."""
    response = await post(client, register_body(**{field: value}))
    assert response.status_code == 400, response.text
    assert message(response) == expected
    # nothing was written: the same username still registers
    assert (await post(client, register_body("cleanafter"))).status_code == 200


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda b: b.update(identity_key=[1] * 31), "identity key must be 32 bytes"),
        (
            lambda b: b["signed_prekey"].update(public_key=[1] * 33),
            "signed prekey must be 32 bytes",
        ),
        (
            lambda b: b["signed_prekey"].update(signature=[1] * 63),
            "signed prekey signature must be 64 bytes",
        ),
        (
            lambda b: b["signed_prekey"].update(signature=[0] * 64),
            "signed prekey signature verification failed",
        ),
        (
            lambda b: b.update(identity_key=key_payload()["identity_key"]),
            "signed prekey signature verification failed",
        ),
        (
            lambda b: b["one_time_prekeys"][0].update(public_key=[1, 2, 3]),
            "one-time prekey must be 32 bytes",
        ),
    ],
)
async def test_key_rules(client: httpx.AsyncClient, mutate: Any, expected: str) -> None:
    """Key sizes and the signed-prekey signature are checked."""
    body = register_body()
    mutate(body)
    response = await post(client, body)
    assert response.status_code == 400
    assert message(response) == expected


@pytest.mark.parametrize(
    "patch",
    [
        {"identity_key": [256] + [0] * 31},
        {"identity_key": "base64-is-not-accepted"},
        {"username": 12345},
        {"one_time_prekeys": None},
        {"signed_prekey": {"key_id": 2**31, "public_key": [0] * 32, "signature": [0] * 64}},
    ],
)
async def test_wrong_types_are_400(client: httpx.AsyncClient, patch: dict[str, Any]) -> None:
    """Wrong JSON types (bytes out of 0-255, strings for arrays, int32 overflow) are 400s."""
    response = await post(client, register_body() | patch)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


async def test_missing_field_is_named(client: httpx.AsyncClient) -> None:
    """A missing required field is a 400 naming it."""
    body = register_body()
    del body["password"]
    response = await post(client, body)
    assert response.status_code == 400
    assert message(response) == "password is required"


async def test_keys_are_stored(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Identity key (with its SHA-256 fingerprint), signed prekey and one-time prekeys are stored."""
    body = register_body("keyed")
    data = await register(
        client,
        "keyed",
        **{k: body[k] for k in ("identity_key", "signed_prekey", "one_time_prekeys")},
    )
    async with ctx.db.connection() as conn:
        identity = await conn.fetchrow(
            "SELECT identity_key, fingerprint FROM identity_keys WHERE user_id = $1::uuid",
            data["user"]["id"],
        )
        prekeys = await conn.fetchval(
            "SELECT count(*) FROM one_time_prekeys WHERE user_id = $1::uuid", data["user"]["id"]
        )
        signed = await conn.fetchval(
            "SELECT key_id FROM signed_prekeys WHERE user_id = $1::uuid", data["user"]["id"]
        )
    import hashlib

    assert bytes(identity["identity_key"]) == bytes(body["identity_key"])
    assert identity["fingerprint"] == hashlib.sha256(bytes(body["identity_key"])).hexdigest()
    assert prekeys == 2 and signed == 1


async def test_duplicates_differing_in_case(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """'Alice' blocks 'alice'; the same e-mail in other case is refused too."""
    set_mode(ctx, "open")
    await register(client, "Alice")
    dup = await post(client, register_body("alice"))
    assert dup.status_code == 409
    assert message(dup) == "username already taken"
    email = await post(client, register_body("other1", email="ALICE@example.com"))
    assert email.status_code == 409
    assert message(email) == "email already registered"


async def test_password_is_argon2id_and_recovery_code_hashed(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """The password is stored as an Argon2id PHC string; the recovery code only as SHA-256 hex."""
    data = await register(client, "hashy")
    async with ctx.db.connection() as conn:
        row = await conn.fetchrow(
            "SELECT password_hash, recovery_code_hash FROM users WHERE username = 'hashy'"
        )
    assert row["password_hash"].startswith("$argon2id$v=19$")
    assert data["recovery_code"] not in row["recovery_code_hash"]
    import hashlib

    assert row["recovery_code_hash"] == hashlib.sha256(data["recovery_code"].encode()).hexdigest()


async def test_audit_entry_written(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Registration writes an audit entry with the client's device name."""
    response = await client.post(
        "/api/auth/register",
        json=register_body("audited"),
        headers={
            "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
        },
    )
    assert response.status_code == 200
    async with ctx.db.connection() as conn:
        row = await conn.fetchrow(
            "SELECT action, user_agent, ip_address FROM audit_log WHERE action = 'register'"
        )
    assert row["user_agent"] == "Firefox on Linux"
    assert row["ip_address"] == "127.0.0.1"
