"""What clients read before signing in (`GET /api/auth/config`)."""

from __future__ import annotations

import msgspec

from chatalot.config import IceServer
from chatalot.context import Ctx
from chatalot.ids import UserId
from chatalot.services import turn
from chatalot.services.token_check import verify_token


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


async def with_turn_credentials(ctx: Ctx, config: ServerConfig, access_token: str) -> ServerConfig:
    """``config`` plus a TURN entry with fresh credentials (services/turn.py) when TURN is
    configured and ``access_token`` is valid. A missing or invalid token only means no entry:
    the route is public and never answers 401."""
    if not turn.turn_configured(ctx):
        return config
    claims = await verify_token(ctx, access_token)
    if claims is None:
        return config
    entry = turn.turn_credentials(ctx, UserId(claims.user_id)).ice_server()
    return msgspec.structs.replace(config, ice_servers=(*config.ice_servers, entry))
