"""`/api/keys/*` (end-to-end key directory) and `/api/channels/{id}/sender-keys` bodies.

Byte fields are JSON arrays of integers 0-255 both ways. The prekey structs of registration
(``SignedPrekeyIn``, ``OneTimePrekeyIn``) are reused as they are: the same fields, the same
rules.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from chatalot.protocol.api.auth import OneTimePrekeyIn, SignedPrekeyIn
from chatalot.protocol.api.constraints import PUBLIC_KEY, documented
from chatalot.protocol.bytes import ByteList, Int32

# Any int64 (services/sender_keys.py checks the range: a msgspec bound would put +-2**63 in
# the document as floats, which round past it); the document states the range every JSON
# parser holds exactly.
Int64 = Annotated[
    int,
    documented(
        "A 64-bit signed integer (the client sends unsigned 32-bit values).",
        minimum=-(2**53 - 1),
        maximum=2**53 - 1,
    ),
]

MAX_PREKEYS_PER_UPLOAD = 200

# A top-level JSON array of one-time prekeys (POST /api/keys/prekeys/one-time).
OneTimePrekeysIn = Annotated[
    list[OneTimePrekeyIn], documented("At most 200 prekeys.", maxItems=MAX_PREKEYS_PER_UPLOAD)
]


class KeysRegisterIn(msgspec.Struct):
    """POST /api/keys/register: a full (re)upload of the caller's key material."""

    identity_key: Annotated[ByteList, PUBLIC_KEY]
    signed_prekey: SignedPrekeyIn
    one_time_prekeys: OneTimePrekeysIn


class SignedPrekeyOut(msgspec.Struct):
    key_id: Int32
    public_key: ByteList
    signature: ByteList


class OneTimePrekeyOut(msgspec.Struct):
    key_id: Int32
    public_key: ByteList


class KeyBundleOut(msgspec.Struct):
    """GET /api/keys/{user_id}/bundle: ``one_time_prekey`` is null when none was left."""

    identity_key: ByteList
    signed_prekey: SignedPrekeyOut
    one_time_prekey: OneTimePrekeyOut | None


class PrekeyCountOut(msgspec.Struct):
    count: int


class SenderKeyIn(msgspec.Struct):
    """POST /api/channels/{id}/sender-keys. ``distribution`` is opaque JSON, stored verbatim."""

    chain_id: Int64
    distribution: Annotated[
        Any, documented("Any JSON value (the client's sender-key distribution), at most 64 KB.")
    ]


class SenderKeyDistributionOut(msgspec.Struct):
    """The original's SenderKeyDistributionResponse: every key always present."""

    id: str
    channel_id: str
    user_id: str
    chain_id: int
    distribution: Any
    created_at: str


__all__ = [
    "Int64",
    "KeyBundleOut",
    "KeysRegisterIn",
    "OneTimePrekeyIn",
    "OneTimePrekeyOut",
    "OneTimePrekeysIn",
    "PrekeyCountOut",
    "SenderKeyDistributionOut",
    "SenderKeyIn",
    "SignedPrekeyIn",
    "SignedPrekeyOut",
]
