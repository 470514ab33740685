"""`/api/channels/{id}/...` membership routes: join, leave, members, roles, kick, ban, unban,
ownership transfer."""

from __future__ import annotations

from typing import Annotated

from litestar import Response, get, patch, post
from litestar.params import FromPath, JSONBody

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import errors, integer_query
from chatalot.api.params import parse_int, parse_uuid
from chatalot.api.responses import empty
from chatalot.protocol.api.channels import (
    ChannelBanIn,
    ChannelMemberOut,
    ChannelRoleIn,
    TransferChannelOwnershipIn,
)
from chatalot.protocol.time import rfc3339
from chatalot.services import channel_members as members_service

MAX_OFFSET = 1_000_000_000


@post("/api/channels/{channel_id:str}/join", status_code=200, responses=errors(403, 404))
async def post_join_channel(
    ctx: CtxDep, actor: ActorDep, channel_id: FromPath[str]
) -> Response[bytes]:
    await members_service.join_channel(ctx, actor, parse_uuid(channel_id, "channel id"))
    return empty()


@post("/api/channels/{channel_id:str}/leave", status_code=200)
async def post_leave_channel(
    ctx: CtxDep, actor: ActorDep, channel_id: FromPath[str]
) -> Response[bytes]:
    await members_service.leave_channel(ctx, actor, parse_uuid(channel_id, "channel id"))
    return empty()


@get("/api/channels/{channel_id:str}/members", responses=errors(403, 404))
async def list_channel_members(
    ctx: CtxDep,
    actor: ActorDep,
    channel_id: FromPath[str],
    limit: Annotated[str | None, integer_query(None, None, "clamped to 1-500")] = None,
    offset: Annotated[str | None, integer_query(None, None, "negative counts as 0")] = None,
) -> list[ChannelMemberOut]:
    """``limit`` default 200, clamped to 1..500; ``offset`` default 0, clamped to 0.."""
    rows = await members_service.list_members(
        ctx,
        actor,
        parse_uuid(channel_id, "channel id"),
        limit=parse_int(limit, "limit", default=200, low=1, high=500, clamp=True),
        offset=parse_int(offset, "offset", default=0, low=0, high=MAX_OFFSET, clamp=True),
    )
    return [
        ChannelMemberOut(
            user_id=str(r.user_id),
            username=r.username,
            display_name=r.display_name,
            avatar_url=r.avatar_url,
            role=r.role,
            joined_at=rfc3339(r.joined_at),
        )
        for r in rows
    ]


@patch(
    "/api/channels/{channel_id:str}/members/{user_id:str}/role",
    responses=errors(403, 404),
)
async def patch_channel_member_role(
    ctx: CtxDep,
    actor: ActorDep,
    channel_id: FromPath[str],
    user_id: FromPath[str],
    data: JSONBody[ChannelRoleIn],
) -> Response[bytes]:
    await members_service.update_member_role(
        ctx,
        actor,
        parse_uuid(channel_id, "channel id"),
        parse_uuid(user_id, "user id"),
        data.role,
    )
    return empty()


@post(
    "/api/channels/{channel_id:str}/members/{user_id:str}/kick",
    status_code=200,
    responses=errors(403, 404),
)
async def post_kick_channel_member(
    ctx: CtxDep, actor: ActorDep, channel_id: FromPath[str], user_id: FromPath[str]
) -> Response[bytes]:
    await members_service.kick_member(
        ctx, actor, parse_uuid(channel_id, "channel id"), parse_uuid(user_id, "user id")
    )
    return empty()


@post(
    "/api/channels/{channel_id:str}/members/{user_id:str}/ban",
    status_code=200,
    responses=errors(403, 404),
)
async def post_ban_channel_member(
    ctx: CtxDep,
    actor: ActorDep,
    channel_id: FromPath[str],
    user_id: FromPath[str],
    data: JSONBody[ChannelBanIn],
) -> Response[bytes]:
    await members_service.ban_member(
        ctx,
        actor,
        parse_uuid(channel_id, "channel id"),
        parse_uuid(user_id, "user id"),
        data.reason,
    )
    return empty()


@post(
    "/api/channels/{channel_id:str}/members/{user_id:str}/unban",
    status_code=200,
    responses=errors(403, 404),
)
async def post_unban_channel_member(
    ctx: CtxDep, actor: ActorDep, channel_id: FromPath[str], user_id: FromPath[str]
) -> Response[bytes]:
    await members_service.unban_member(
        ctx, actor, parse_uuid(channel_id, "channel id"), parse_uuid(user_id, "user id")
    )
    return empty()


@post(
    "/api/channels/{channel_id:str}/transfer-ownership",
    status_code=200,
    responses=errors(403, 404),
)
async def post_transfer_channel_ownership(
    ctx: CtxDep,
    actor: ActorDep,
    channel_id: FromPath[str],
    data: JSONBody[TransferChannelOwnershipIn],
) -> Response[bytes]:
    await members_service.transfer_ownership(
        ctx,
        actor,
        parse_uuid(channel_id, "channel id"),
        parse_uuid(data.new_owner_id, "new_owner_id"),
    )
    return empty()


HANDLERS = [
    post_join_channel,
    post_leave_channel,
    list_channel_members,
    patch_channel_member_role,
    post_kick_channel_member,
    post_ban_channel_member,
    post_unban_channel_member,
    post_transfer_channel_ownership,
]
