"""Request -> Actor: the bearer token, checked on every protected route.

401 only for a missing, malformed, forged or expired token, or a suspended user (the client
logs out on 401, so nothing else may produce it)."""

from __future__ import annotations

from typing import Any

from litestar import Request

from chatalot.api.deps import CtxDep
from chatalot.errors import Unauthorized
from chatalot.services.actor import Actor, RequestMeta, device_name
from chatalot.services.token_check import verify_token

CLIENT_IP_KEY = "chatalot.client_ip"
_BEARER = "bearer "


def request_meta(request: Request[Any, Any, Any]) -> RequestMeta:
    user_agent = request.headers.get("user-agent")
    if user_agent is not None and len(user_agent.encode()) > 512:
        user_agent = None
    ip = request.scope.get(CLIENT_IP_KEY)  # set by the edge (api/middleware.py)
    if not isinstance(ip, str):
        client = request.client
        ip = client.host if client else None
    return RequestMeta(ip=ip, user_agent=user_agent, device_name=device_name(user_agent))


async def provide_meta(request: Request[Any, Any, Any]) -> RequestMeta:
    return request_meta(request)


async def provide_actor(request: Request[Any, Any, Any], ctx: CtxDep) -> Actor:
    header = request.headers.get("authorization", "")
    if header[: len(_BEARER)].lower() != _BEARER:  # the scheme is case-insensitive (RFC 9110)
        raise Unauthorized()
    claims = await verify_token(ctx, header[len(_BEARER) :].strip())
    if claims is None:
        raise Unauthorized()
    return Actor(
        user_id=claims.user_id,  # type: ignore[arg-type]  # a verified UserId
        username=claims.username,
        is_admin=claims.is_admin,
        is_owner=claims.is_owner,
        meta=request_meta(request),
        session_id=claims.session_id,
    )
