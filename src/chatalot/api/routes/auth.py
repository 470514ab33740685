"""`/api/auth/*`: public; the auth rate limiter applies to all five routes."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import JSONBody

from chatalot.api.deps import CtxDep, MetaDep
from chatalot.api.openapi import errors
from chatalot.api.request_facts import facts_of
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
from chatalot.services.server_config import server_config, with_turn_credentials
from chatalot.services.turn import turn_configured


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


def _bearer_token(request: Request[Any, Any, Any]) -> str | None:
    """The bearer token of an optional Authorization header (read as api/auth.py reads it)."""
    facts = facts_of(request.scope)
    if facts is not None:
        raw = facts.authorization
        header = raw.decode("latin-1") if raw is not None else ""
    else:
        header = request.headers.get("authorization", "")
    if header[:7].lower() != "bearer ":
        return None
    return header[7:].strip() or None


@get(
    "/api/auth/config",
    description="Public. An `Authorization: Bearer` access token is optional: with a valid one "
    "and TURN configured (TURN_SHARED_SECRET, TURN_URIS), `ice_servers` also lists the TURN "
    "server with short-lived credentials for the caller; a missing or invalid token only means "
    "no such entry (never 401).",
)
async def get_auth_config(ctx: CtxDep, request: Request[Any, Any, Any]) -> ServerConfigOut:
    config = server_config(ctx)
    if turn_configured(ctx) and (token := _bearer_token(request)) is not None:
        config = await with_turn_credentials(ctx, config, token)
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
