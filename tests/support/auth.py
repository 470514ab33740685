"""Helpers for tests that need accounts: a valid E2E key payload, registration over HTTP, and
fast users made directly in the database with a token."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from chatalot.context import Ctx
from chatalot.ids import UserId, uuid7
from chatalot.repositories import users as users_repo
from chatalot.repositories.users import UserRow
from chatalot.security import codes

PASSWORD = "Correct-Horse-9"
_counter = itertools.count(1)


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_payload(one_time: int = 2) -> dict[str, Any]:
    """identity_key, signed_prekey (really signed) and one_time_prekeys as the client sends."""
    identity = Ed25519PrivateKey.generate()
    signed = raw_public(Ed25519PrivateKey.generate())
    return {
        "identity_key": list(raw_public(identity)),
        "signed_prekey": {
            "key_id": 1,
            "public_key": list(signed),
            "signature": list(identity.sign(signed)),
        },
        "one_time_prekeys": [
            {"key_id": i, "public_key": list(raw_public(Ed25519PrivateKey.generate()))}
            for i in range(1, one_time + 1)
        ],
    }


def register_body(username: str | None = None, **overrides: Any) -> dict[str, Any]:
    n = next(_counter)
    username = username or f"user{n}"
    body = {
        "username": username,
        "email": f"{username.lower()}@example.com",
        "password": PASSWORD,
        "display_name": username.capitalize(),
        **key_payload(),
    }
    body.update(overrides)
    return body


async def register(
    client: httpx.AsyncClient, username: str | None = None, **overrides: Any
) -> dict[str, Any]:
    response = await client.post("/api/auth/register", json=register_body(username, **overrides))
    assert response.status_code == 200, response.text
    return dict(response.json())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class TestUser:
    __test__ = False  # not a pytest class

    row: UserRow
    token: str
    password: str = PASSWORD

    @property
    def id(self) -> UserId:
        return self.row.id

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


async def make_user(
    ctx: Ctx,
    username: str | None = None,
    *,
    is_admin: bool = False,
    is_owner: bool = False,
    suspended: bool = False,
    password: str = PASSWORD,
) -> TestUser:
    """A user inserted with SQL (fast), with an access token for it."""
    n = next(_counter)
    username = username or f"member{n}"
    user_id = UserId(uuid7())
    async with ctx.db.transaction("test_make_user") as tx:
        await users_repo.insert_user(
            tx.conn,
            user_id=user_id,
            username=username,
            display_name=username.capitalize(),
            email=f"{username.lower()}@example.com",
            password_hash=await ctx.passwords.hash(password),
            recovery_code_hash=codes.code_hash("AAAA-BBBB-CCCC-DDDD"),
        )
        await tx.conn.execute(
            "UPDATE users SET is_admin = $2, is_owner = $3,"
            " suspended_at = CASE WHEN $4 THEN now() END WHERE id = $1",
            user_id,
            is_admin,
            is_owner,
            suspended,
        )
        row = await users_repo.select_user(tx.conn, user_id)
    assert row is not None
    if suspended:
        ctx.suspensions.mark(user_id, True)
    token = ctx.tokens.issue_access_token(
        user_id=user_id, username=username, is_admin=is_admin, is_owner=is_owner
    )
    return TestUser(row=row, token=token, password=password)
