"""`/api/communities/{cid}/channels/{chid}/...`: community moderators' timeouts and warnings
in the community's channels."""

from __future__ import annotations

from litestar import Response, delete, get, post
from litestar.params import FromPath, JSONBody

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import errors
from chatalot.api.params import parse_uuid
from chatalot.api.responses import empty
from chatalot.protocol.api.moderation import TimeoutIn, TimeoutOut, WarnIn, WarningOut
from chatalot.protocol.time import rfc3339
from chatalot.repositories.moderation import TimeoutRow, WarningRow
from chatalot.services import moderation as moderation_service

_BASE = "/api/communities/{community_id:str}/channels/{channel_id:str}"


def _id(value: object | None) -> str | None:
    return str(value) if value is not None else None


def _timeout(row: TimeoutRow) -> TimeoutOut:
    return TimeoutOut(
        id=str(row.id),
        user_id=str(row.user_id),
        channel_id=str(row.channel_id),
        issued_by=_id(row.issued_by),
        reason=row.reason,
        expires_at=rfc3339(row.expires_at),
        created_at=rfc3339(row.created_at),
    )


def _warning(row: WarningRow) -> WarningOut:
    return WarningOut(
        id=str(row.id),
        user_id=str(row.user_id),
        channel_id=str(row.channel_id),
        issued_by=_id(row.issued_by),
        reason=row.reason,
        created_at=rfc3339(row.created_at),
    )


@post(f"{_BASE}/timeout", status_code=200, responses=errors(403, 404))
async def post_timeout(
    ctx: CtxDep,
    actor: ActorDep,
    community_id: FromPath[str],
    channel_id: FromPath[str],
    data: JSONBody[TimeoutIn],
) -> TimeoutOut:
    row = await moderation_service.timeout_user(
        ctx,
        actor,
        parse_uuid(community_id, "community ID"),
        parse_uuid(channel_id, "channel id"),
        user_id=parse_uuid(data.user_id, "user_id"),
        duration_seconds=data.duration_seconds,
        reason=data.reason,
    )
    return _timeout(row)


@delete(f"{_BASE}/timeout/{{user_id:str}}", status_code=200, responses=errors(403, 404))
async def delete_timeout(
    ctx: CtxDep,
    actor: ActorDep,
    community_id: FromPath[str],
    channel_id: FromPath[str],
    user_id: FromPath[str],
) -> Response[bytes]:
    await moderation_service.remove_timeout(
        ctx,
        actor,
        parse_uuid(community_id, "community ID"),
        parse_uuid(channel_id, "channel id"),
        parse_uuid(user_id, "user id"),
    )
    return empty()


@post(f"{_BASE}/warn", status_code=200, responses=errors(403, 404))
async def post_warning(
    ctx: CtxDep,
    actor: ActorDep,
    community_id: FromPath[str],
    channel_id: FromPath[str],
    data: JSONBody[WarnIn],
) -> WarningOut:
    row = await moderation_service.warn_user(
        ctx,
        actor,
        parse_uuid(community_id, "community ID"),
        parse_uuid(channel_id, "channel id"),
        user_id=parse_uuid(data.user_id, "user_id"),
        reason=data.reason,
    )
    return _warning(row)


@get(f"{_BASE}/warnings/{{user_id:str}}", responses=errors(403, 404))
async def list_warnings(
    ctx: CtxDep,
    actor: ActorDep,
    community_id: FromPath[str],
    channel_id: FromPath[str],
    user_id: FromPath[str],
) -> list[WarningOut]:
    rows = await moderation_service.list_warnings(
        ctx,
        actor,
        parse_uuid(community_id, "community ID"),
        parse_uuid(channel_id, "channel id"),
        parse_uuid(user_id, "user id"),
    )
    return [_warning(r) for r in rows]


HANDLERS = [post_timeout, delete_timeout, post_warning, list_warnings]
