"""`/api/auth/*`: public; the auth rate limiter applies to all five routes."""

from __future__ import annotations

from litestar import get, post
from litestar.params import JSONBody

from chatalot.api.deps import CtxDep, MetaDep
from chatalot.api.openapi import errors
from chatalot.api.shapes import user_public
from chatalot.protocol.api.auth import (
    AuthOut,
    IceServerOut,
    LoginIn,
    RecoverIn,
    RecoveryCodeOut,
    RefreshIn,
    RegisterIn,
    ServerConfigOut,
    TokensOut,
)
from chatalot.services import auth as auth_service
from chatalot.services.server_config import server_config


@post("/api/auth/register", status_code=200, responses=errors(409))
async def post_register(ctx: CtxDep, meta: MetaDep, data: JSONBody[RegisterIn]) -> AuthOut:
    result = await auth_service.register(ctx, data, meta)
    return AuthOut(
        access_token=result.access_token,
        refresh_token=result.refresh_token,
        user=user_public(result.user),
        recovery_code=result.recovery_code,
    )


@post("/api/auth/login", status_code=200, responses=errors(401))
async def post_login(ctx: CtxDep, meta: MetaDep, data: JSONBody[LoginIn]) -> AuthOut:
    result = await auth_service.login(ctx, data, meta)
    return AuthOut(
        access_token=result.access_token,
        refresh_token=result.refresh_token,
        user=user_public(result.user),
    )


@post("/api/auth/refresh", status_code=200, responses=errors(401))
async def post_refresh(ctx: CtxDep, meta: MetaDep, data: JSONBody[RefreshIn]) -> TokensOut:
    pair = await auth_service.refresh(ctx, data.refresh_token, meta)
    return TokensOut(access_token=pair.access_token, refresh_token=pair.refresh_token)


@post("/api/auth/recover", status_code=200)
async def post_recover(ctx: CtxDep, meta: MetaDep, data: JSONBody[RecoverIn]) -> RecoveryCodeOut:
    return RecoveryCodeOut(recovery_code=await auth_service.recover(ctx, data, meta))


@get("/api/auth/config")
async def get_auth_config(ctx: CtxDep) -> ServerConfigOut:
    config = server_config(ctx)
    ice = [
        IceServerOut(
            urls=list(s.urls) if len(s.urls) != 1 else s.urls[0],
            username=s.username,
            credential=s.credential,
        )
        for s in config.ice_servers
    ]
    return ServerConfigOut(
        registration_mode=config.registration_mode,
        max_messages_cache=config.max_messages_cache,
        max_pins_per_channel=config.max_pins_per_channel,
        e2e_enabled=config.e2e_enabled,
        public_url=config.public_url,
        ice_servers=ice or None,
    )


HANDLERS = [post_register, post_login, post_refresh, post_recover, get_auth_config]
