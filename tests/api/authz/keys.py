"""/api/keys: the end-to-end key directory (any signed-in user; each acts on their own keys,
except the bundle, which anyone may fetch for anyone)."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from chatalot.context import Ctx
from chatalot.repositories import keys as keys_repo
from tests.api.authz import Case, any_user
from tests.support.auth import TestUser, key_payload, raw_public

# One identity key shared by every caller, so one signed-prekey body verifies for all of them.
_IDENTITY = Ed25519PrivateKey.generate()
_SIGNED = raw_public(Ed25519PrivateKey.generate())
_SIGNATURE = _IDENTITY.sign(_SIGNED)
_SIGNED_BODY = {"key_id": 5, "public_key": list(_SIGNED), "signature": list(_SIGNATURE)}


async def _everyone_has_keys(ctx: Ctx, callers: dict[str, TestUser]) -> None:
    """Every caller has the shared identity key, a signed prekey and two one-time prekeys."""
    async with ctx.db.transaction("test_keys") as tx:
        for user in callers.values():
            await keys_repo.upsert_identity_key(
                tx.conn, user_id=user.id, identity_key=raw_public(_IDENTITY), fingerprint="f"
            )
            await keys_repo.upsert_signed_prekey(
                tx.conn,
                user_id=user.id,
                key_id=1,
                public_key=_SIGNED,
                signature=_SIGNATURE,
            )
            await keys_repo.insert_one_time_prekeys(
                tx.conn, user_id=user.id, prekeys=[(1, bytes(32)), (2, bytes(32))]
            )


def _register(ids: dict[str, str]) -> dict[str, Any]:
    return key_payload(one_time=3)


def _prekeys(count: int, size: int = 32) -> list[dict[str, Any]]:
    return [{"key_id": i, "public_key": [7] * size} for i in range(1, count + 1)]


CASES = [
    Case("POST", "/api/keys/register", "/api/keys/register", any_user(200), body=_register),
    Case(
        "POST",
        "/api/keys/register",
        "/api/keys/register",
        any_user(400),
        body=lambda ids: {**key_payload(), "identity_key": [1] * 31},
        note="identity key of the wrong length",
    ),
    Case(
        "POST",
        "/api/keys/register",
        "/api/keys/register",
        any_user(400),
        body=lambda ids: {**key_payload(), "one_time_prekeys": _prekeys(201)},
        note="more than 200 one-time prekeys",
    ),
    Case(
        "GET",
        "/api/keys/{user_id:str}/bundle",
        "/api/keys/{other}/bundle",
        any_user(200),
        setup=_everyone_has_keys,
        note="any user may fetch anyone's bundle (the original's rule)",
    ),
    Case(
        "GET",
        "/api/keys/{user_id:str}/bundle",
        "/api/keys/{suspended}/bundle",
        any_user(200),
        setup=_everyone_has_keys,
        note="also a suspended user's (public keys; the original did not check)",
    ),
    Case(
        "GET",
        "/api/keys/{user_id:str}/bundle",
        "/api/keys/{other}/bundle",
        any_user(404),
        note="no keys uploaded",
    ),
    Case(
        "GET",
        "/api/keys/{user_id:str}/bundle",
        "/api/keys/{random}/bundle",
        any_user(404),
    ),
    Case(
        "GET",
        "/api/keys/{user_id:str}/bundle",
        "/api/keys/not-a-uuid/bundle",
        any_user(400),
    ),
    Case(
        "POST",
        "/api/keys/prekeys/signed",
        "/api/keys/prekeys/signed",
        any_user(200),
        body=_SIGNED_BODY,
        setup=_everyone_has_keys,
    ),
    Case(
        "POST",
        "/api/keys/prekeys/signed",
        "/api/keys/prekeys/signed",
        any_user(400),
        body=_SIGNED_BODY,
        note="no identity key registered yet",
    ),
    Case(
        "POST",
        "/api/keys/prekeys/signed",
        "/api/keys/prekeys/signed",
        any_user(400),
        body={**_SIGNED_BODY, "signature": [256] * 64},
        note="a byte above 255",
    ),
    Case(
        "POST",
        "/api/keys/prekeys/one-time",
        "/api/keys/prekeys/one-time",
        any_user(200),
        body=_prekeys(3),
    ),
    Case(
        "POST",
        "/api/keys/prekeys/one-time",
        "/api/keys/prekeys/one-time",
        any_user(400),
        body=_prekeys(2, size=31),
        note="a key of the wrong length",
    ),
    Case(
        "POST",
        "/api/keys/prekeys/one-time",
        "/api/keys/prekeys/one-time",
        any_user(400),
        body={"key_id": 1, "public_key": [7] * 32},
        note="not a top-level array",
    ),
    Case("GET", "/api/keys/prekeys/count", "/api/keys/prekeys/count", any_user(200)),
]
