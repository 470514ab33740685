"""Request -> Actor: the bearer token, checked on every protected route.

401 only for a missing, malformed, forged or expired token, or a suspended user (the client
logs out on 401, so nothing else may produce it).

The Authorization and User-Agent values come from the edge's one pass over the headers
(api/request_facts.py); the framework's header map is built only where no edge ran."""

from __future__ import annotations

from typing import Any

from litestar import Request

from chatalot.api.deps import CtxDep
from chatalot.api.request_facts import facts_of
from chatalot.errors import Unauthorized
from chatalot.services.actor import Actor, RequestMeta, device_name
from chatalot.services.token_check import verify_token

_BEARER = "bearer "
_MAX_USER_AGENT_BYTES = 512


def _headers(request: Request[Any, Any, Any]) -> tuple[str, str | None, str | None]:
    """(Authorization or "", User-Agent or None, client address or None)."""
    facts = facts_of(request.scope)
    if facts is not None:
        authorization = facts.authorization
        agent = facts.user_agent
        return (
            authorization.decode("latin-1") if authorization is not None else "",
            agent.decode("latin-1") if agent is not None else None,
            facts.client_ip,
        )
    client = request.client
    return (
        request.headers.get("authorization", ""),
        request.headers.get("user-agent"),
        client.host if client else None,
    )


def _meta(user_agent: str | None, ip: str | None) -> RequestMeta:
    if user_agent is not None and len(user_agent.encode()) > _MAX_USER_AGENT_BYTES:
        user_agent = None
    return RequestMeta(ip=ip, user_agent=user_agent, device_name=device_name(user_agent))


def request_meta(request: Request[Any, Any, Any]) -> RequestMeta:
    _, user_agent, ip = _headers(request)
    return _meta(user_agent, ip)


async def provide_meta(request: Request[Any, Any, Any]) -> RequestMeta:
    return request_meta(request)


async def provide_actor(request: Request[Any, Any, Any], ctx: CtxDep) -> Actor:
    header, user_agent, ip = _headers(request)
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
        meta=_meta(user_agent, ip),
        session_id=claims.session_id,
    )
