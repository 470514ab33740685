"""`/api/auth/*` request and response bodies."""

from __future__ import annotations

from typing import Annotated

import msgspec

from chatalot.protocol.api.constraints import (
    DISPLAY_NAME,
    EMAIL,
    PASSWORD,
    PUBLIC_KEY,
    RECOVERY_CODE,
    SIGNATURE,
    USERNAME,
    documented,
)
from chatalot.protocol.api.users import UserPublic
from chatalot.protocol.bytes import ByteList, Int32


class SignedPrekeyIn(msgspec.Struct):
    key_id: Int32
    public_key: Annotated[ByteList, PUBLIC_KEY]
    signature: Annotated[ByteList, SIGNATURE]


class OneTimePrekeyIn(msgspec.Struct):
    key_id: Int32
    public_key: Annotated[ByteList, PUBLIC_KEY]


class RegisterIn(msgspec.Struct):
    username: Annotated[str, USERNAME]
    email: Annotated[str, EMAIL]
    password: Annotated[str, PASSWORD]
    display_name: Annotated[str, DISPLAY_NAME]
    identity_key: Annotated[ByteList, PUBLIC_KEY]
    signed_prekey: SignedPrekeyIn
    one_time_prekeys: Annotated[list[OneTimePrekeyIn], documented(maxItems=1000)]
    invite_code: str | None = None


class LoginIn(msgspec.Struct):
    username: str
    password: str
    totp_code: str | None = None


class RefreshIn(msgspec.Struct):
    refresh_token: str


class RecoverIn(msgspec.Struct):
    username: Annotated[str, USERNAME]
    recovery_code: Annotated[str, RECOVERY_CODE]
    new_password: Annotated[str, PASSWORD]


class AuthOut(msgspec.Struct, omit_defaults=True):
    access_token: str
    refresh_token: str
    user: UserPublic
    recovery_code: str | None = None


class TokensOut(msgspec.Struct):
    access_token: str
    refresh_token: str


class RecoveryCodeOut(msgspec.Struct):
    recovery_code: str


class IceServerOut(msgspec.Struct, omit_defaults=True):
    urls: str | list[str]
    username: str | None = None
    credential: str | None = None


class ServerConfigOut(msgspec.Struct, omit_defaults=True):
    registration_mode: str
    max_messages_cache: int
    max_pins_per_channel: int
    e2e_enabled: bool
    public_url: str | None = None
    ice_servers: list[IceServerOut] | None = None


class TurnCredentialsOut(msgspec.Struct):
    """`GET /api/voice/turn-credentials` (the shape of Synapse's `/voip/turnServer`, with
    `credential` as in RTCIceServer): `username` is `"<unix expiry>:<user id>"`."""

    username: str
    credential: str
    ttl: Annotated[int, msgspec.Meta(ge=0)]  # seconds from now
    uris: list[str]
