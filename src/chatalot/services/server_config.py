"""What clients read before signing in (`GET /api/auth/config`)."""

from __future__ import annotations

import msgspec

from chatalot.config import IceServer
from chatalot.context import Ctx


class ServerConfig(msgspec.Struct, frozen=True):  # a struct: built on every request
    registration_mode: str
    public_url: str | None
    ice_servers: tuple[IceServer, ...]
    max_messages_cache: int
    max_pins_per_channel: int
    e2e_enabled: bool


def server_config(ctx: Ctx) -> ServerConfig:
    values = ctx.instance.values
    return ServerConfig(
        registration_mode=ctx.registration_mode,
        public_url=ctx.settings.public_url,
        ice_servers=ctx.settings.ice_servers,
        max_messages_cache=values.max_messages_cache,
        max_pins_per_channel=values.max_pins_per_channel,
        e2e_enabled=values.e2e_enabled,
    )
