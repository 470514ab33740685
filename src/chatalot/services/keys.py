"""The end-to-end key directory (spec rest-api 2.4, ws-auth-ops 7): users upload their public
key material; anyone signed in fetches a user's X3DH bundle, which consumes one of that user's
one-time prekeys. The server never sees a private key.

Beyond the original:
- a user may hold at most ``MAX_UNUSED_ONE_TIME_PREKEYS`` unused one-time prekeys (400 beyond
  that), so one client cannot fill the table; the client keeps about 100;
- ``POST /api/keys/register`` also checks that every one-time prekey is 32 bytes (the original
  stored any length there and refused them only on the one-time upload route);
- only a user's ``KEPT_SIGNED_PREKEYS`` newest signed prekeys are kept (only the newest is ever
  served; the original kept every one forever);
- key uploads of one user are serialised (a per-user lock), so the caps hold with several
  server processes; bundle fetches claim a one-time prekey with ``FOR UPDATE SKIP LOCKED``, so
  two fetches never get the same key.

As in the original, any signed-in user may fetch any user's bundle (also a suspended user's:
the keys are public, and the original did not check).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from chatalot.context import Ctx
from chatalot.errors import Invalid, NotFound
from chatalot.ids import UserId
from chatalot.protocol import events
from chatalot.protocol.api.keys import (
    MAX_PREKEYS_PER_UPLOAD,
    KeysRegisterIn,
    OneTimePrekeyIn,
    SignedPrekeyIn,
)
from chatalot.repositories import keys as keys_repo
from chatalot.repositories.keys import OneTimePrekeyRow, SignedPrekeyRow
from chatalot.services.actor import Actor
from chatalot.services.audience import Users

log = logging.getLogger("chatalot_server")

KEYS_LOW_THRESHOLD = 25
MAX_UNUSED_ONE_TIME_PREKEYS = 1000
KEPT_SIGNED_PREKEYS = 10

TOO_MANY_PER_UPLOAD = f"maximum {MAX_PREKEYS_PER_UPLOAD} one-time prekeys per upload"
ONE_TIME_KEY_SIZE = "each prekey public_key must be exactly 32 bytes"
SIGNATURE_SIZE = "signature must be 64 bytes"
NO_IDENTITY_KEY = "must register identity key before uploading signed prekey"
BUNDLE_NOT_FOUND = "key bundle not found"


@dataclass(frozen=True, slots=True)
class KeyBundle:
    identity_key: bytes
    signed_prekey: SignedPrekeyRow
    one_time_prekey: OneTimePrekeyRow | None


# -- validation (shared with registration) --------------------------------------------------


def verify_signed_prekey(identity_key: bytes, public_key: bytes, signature: bytes) -> None:
    """The signed prekey's signature must verify as Ed25519 by ``identity_key`` over the raw
    32-byte public key. Registration's messages: ``invalid identity key`` /
    ``signed prekey signature verification failed``. Lengths are checked by the caller (each
    route has its own messages)."""
    try:
        public = Ed25519PublicKey.from_public_bytes(identity_key)
    except ValueError:
        raise Invalid("invalid identity key") from None
    try:
        public.verify(signature, public_key)
    except InvalidSignature:
        raise Invalid("signed prekey signature verification failed") from None


def fingerprint(identity_key: bytes) -> str:
    """Lowercase hex SHA-256 of the identity key (as registration stores it)."""
    return hashlib.sha256(identity_key).hexdigest()


def check_one_time_prekeys(prekeys: Sequence[OneTimePrekeyIn]) -> list[tuple[int, bytes]]:
    """At most 200 per upload, each 32 bytes; returns (key_id, public_key) pairs."""
    if len(prekeys) > MAX_PREKEYS_PER_UPLOAD:
        raise Invalid(TOO_MANY_PER_UPLOAD)
    checked = []
    for prekey in prekeys:
        key = bytes(prekey.public_key)
        if len(key) != 32:
            raise Invalid(ONE_TIME_KEY_SIZE)
        checked.append((prekey.key_id, key))
    return checked


def _check_signed_sizes(public_key: bytes, signature: bytes, *, public_message: str) -> None:
    if len(public_key) != 32:
        raise Invalid(public_message)
    if len(signature) != 64:
        raise Invalid(SIGNATURE_SIZE)


# -- uploads --------------------------------------------------------------------------------


async def register_keys(ctx: Ctx, actor: Actor, body: KeysRegisterIn) -> None:
    """A full upload (accounts made without keys, key resets, and the client on every app
    open): upserts the identity key and the signed prekey; a non-empty one-time list replaces
    all of the user's one-time prekeys. The same payload twice is fine."""
    identity = bytes(body.identity_key)
    signed = bytes(body.signed_prekey.public_key)
    signature = bytes(body.signed_prekey.signature)
    if len(identity) != 32:
        raise Invalid("identity key must be 32 bytes")
    _check_signed_sizes(signed, signature, public_message="signed prekey must be 32 bytes")
    verify_signed_prekey(identity, signed, signature)
    one_time = check_one_time_prekeys(body.one_time_prekeys)
    async with ctx.db.transaction("register_keys") as tx:
        await keys_repo.lock_user_keys(tx.conn, actor.user_id)
        await keys_repo.upsert_identity_key(
            tx.conn, user_id=actor.user_id, identity_key=identity, fingerprint=fingerprint(identity)
        )
        await keys_repo.upsert_signed_prekey(
            tx.conn,
            user_id=actor.user_id,
            key_id=body.signed_prekey.key_id,
            public_key=signed,
            signature=signature,
        )
        await keys_repo.delete_old_signed_prekeys(tx.conn, actor.user_id, keep=KEPT_SIGNED_PREKEYS)
        if one_time:
            await keys_repo.delete_one_time_prekeys(tx.conn, actor.user_id)
            await keys_repo.insert_one_time_prekeys(
                tx.conn, user_id=actor.user_id, prekeys=one_time
            )
    log.info("Late E2E key registration completed (user %s)", actor.user_id)


async def upload_signed_prekey(ctx: Ctx, actor: Actor, body: SignedPrekeyIn) -> None:
    """Verified against the stored identity key; upserted by (user, key_id), which makes it the
    newest (the one bundles serve)."""
    public_key = bytes(body.public_key)
    signature = bytes(body.signature)
    _check_signed_sizes(public_key, signature, public_message="public key must be 32 bytes")
    async with ctx.db.transaction("upload_signed_prekey") as tx:
        await keys_repo.lock_user_keys(tx.conn, actor.user_id)
        identity = await keys_repo.select_identity_key(tx.conn, actor.user_id)
        if identity is None:
            raise Invalid(NO_IDENTITY_KEY)
        verify_signed_prekey(identity, public_key, signature)
        await keys_repo.upsert_signed_prekey(
            tx.conn,
            user_id=actor.user_id,
            key_id=body.key_id,
            public_key=public_key,
            signature=signature,
        )
        await keys_repo.delete_old_signed_prekeys(tx.conn, actor.user_id, keep=KEPT_SIGNED_PREKEYS)


async def upload_one_time_prekeys(
    ctx: Ctx, actor: Actor, prekeys: Sequence[OneTimePrekeyIn]
) -> None:
    """Adds prekeys; a key_id the user already has (used or not) is skipped. At most
    ``MAX_UNUSED_ONE_TIME_PREKEYS`` unused ones per user."""
    checked = check_one_time_prekeys(prekeys)
    if not checked:
        return
    async with ctx.db.transaction("upload_one_time_prekeys") as tx:
        await keys_repo.lock_user_keys(tx.conn, actor.user_id)
        held = await keys_repo.count_unused_one_time_prekeys(tx.conn, actor.user_id)
        await keys_repo.insert_one_time_prekeys(tx.conn, user_id=actor.user_id, prekeys=checked)
        if await keys_repo.count_unused_one_time_prekeys(tx.conn, actor.user_id) > (
            MAX_UNUSED_ONE_TIME_PREKEYS
        ):
            raise Invalid(
                f"too many one-time prekeys: at most {MAX_UNUSED_ONE_TIME_PREKEYS} unused per "
                f"user (you have {held})"
            )


async def count_one_time_prekeys(ctx: Ctx, actor: Actor) -> int:
    """The caller's unused one-time prekeys."""
    async with ctx.db.connection() as conn:
        return await keys_repo.count_unused_one_time_prekeys(conn, actor.user_id)


# -- bundles --------------------------------------------------------------------------------


async def fetch_bundle(ctx: Ctx, actor: Actor, user_id: UserId) -> KeyBundle:
    """The user's identity key, newest signed prekey and one claimed one-time prekey (None
    when none is left). When fewer than 25 unused remain afterwards, ``keys_low`` goes to
    every session of that user (each time, also at 0)."""
    async with ctx.db.transaction("fetch_key_bundle") as tx:
        identity = await keys_repo.select_identity_key(tx.conn, user_id)
        signed = await keys_repo.select_latest_signed_prekey(tx.conn, user_id)
        if identity is None or signed is None:
            raise NotFound(BUNDLE_NOT_FOUND)
        one_time = await keys_repo.claim_one_time_prekey(tx.conn, user_id)
        remaining = await keys_repo.count_unused_one_time_prekeys(tx.conn, user_id)
        if remaining < KEYS_LOW_THRESHOLD:
            tx.emit(events.KeysLow(remaining=remaining), to=Users.of([user_id]))
    return KeyBundle(identity, signed, one_time)
