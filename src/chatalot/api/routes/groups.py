"""``/api/groups*``: groups, their members and their channels (spec rest-api 2.6)."""

from __future__ import annotations

from typing import Annotated

from litestar import Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import errors, integer_query
from chatalot.api.params import parse_int, parse_uuid
from chatalot.api.responses import empty
from chatalot.api.space_shapes import channel_out, group_out
from chatalot.ids import ChannelId, CommunityId, GroupId, UserId
from chatalot.protocol.api.channels import ChannelOut
from chatalot.protocol.api.groups import (
    CreateGroupChannelIn,
    CreateGroupIn,
    GroupMemberOut,
    GroupOut,
    TransferGroupOwnershipIn,
    UpdateGroupChannelIn,
    UpdateGroupIn,
)
from chatalot.protocol.time import rfc3339
from chatalot.services import groups as groups_service

MAX_OFFSET = 2_147_483_647


def _group_id(value: str) -> GroupId:
    return GroupId(parse_uuid(value, "group id"))


def _channel_id(value: str) -> ChannelId:
    return ChannelId(parse_uuid(value, "channel id"))


@get("/api/groups")
async def list_groups(ctx: CtxDep, actor: ActorDep) -> list[GroupOut]:
    return [group_out(g) for g in await groups_service.list_groups(ctx, actor)]


@post("/api/groups", status_code=200, responses=errors(403, 404))
async def post_group(ctx: CtxDep, actor: ActorDep, data: JSONBody[CreateGroupIn]) -> GroupOut:
    assigned = data.assigned_member_id
    group = await groups_service.create_group(
        ctx,
        actor,
        data,
        community_id=CommunityId(parse_uuid(data.community_id, "community_id")),
        assigned_member_id=UserId(parse_uuid(assigned, "assigned_member_id"))
        if assigned is not None
        else None,
    )
    return group_out(group)


@get("/api/groups/discover")
async def list_discover_groups(ctx: CtxDep, actor: ActorDep) -> list[GroupOut]:
    return [group_out(g) for g in await groups_service.discover_groups(ctx, actor)]


@get("/api/groups/{group_id:str}", responses=errors(403, 404))
async def get_group(ctx: CtxDep, actor: ActorDep, group_id: FromPath[str]) -> GroupOut:
    return group_out(await groups_service.get_group(ctx, actor, _group_id(group_id)))


@patch("/api/groups/{group_id:str}", responses=errors(403, 404))
async def patch_group(
    ctx: CtxDep, actor: ActorDep, group_id: FromPath[str], data: JSONBody[UpdateGroupIn]
) -> GroupOut:
    return group_out(await groups_service.update_group(ctx, actor, _group_id(group_id), data))


@delete("/api/groups/{group_id:str}", status_code=200, responses=errors(403, 404))
async def delete_group(ctx: CtxDep, actor: ActorDep, group_id: FromPath[str]) -> Response[bytes]:
    await groups_service.delete_group(ctx, actor, _group_id(group_id))
    return empty()


@post("/api/groups/{group_id:str}/transfer-ownership", status_code=200, responses=errors(403, 404))
async def post_transfer_group_ownership(
    ctx: CtxDep, actor: ActorDep, group_id: FromPath[str], data: JSONBody[TransferGroupOwnershipIn]
) -> Response[bytes]:
    await groups_service.transfer_ownership(
        ctx,
        actor,
        _group_id(group_id),
        UserId(parse_uuid(data.new_owner_id, "new_owner_id")),
    )
    return empty()


@post("/api/groups/{group_id:str}/join", status_code=200, responses=errors(403, 404))
async def post_join_group(ctx: CtxDep, actor: ActorDep, group_id: FromPath[str]) -> Response[bytes]:
    await groups_service.join_group(ctx, actor, _group_id(group_id))
    return empty()


@post("/api/groups/{group_id:str}/leave", status_code=200, responses=errors(403))
async def post_leave_group(
    ctx: CtxDep, actor: ActorDep, group_id: FromPath[str]
) -> Response[bytes]:
    await groups_service.leave_group(ctx, actor, _group_id(group_id))
    return empty()


@get("/api/groups/{group_id:str}/members", responses=errors(403, 404))
async def list_group_members(
    ctx: CtxDep,
    actor: ActorDep,
    group_id: FromPath[str],
    limit: Annotated[
        str | None, integer_query(None, None, "clamped to 1-500 (default 200)")
    ] = None,
    offset: Annotated[str | None, integer_query(None, None, "negative means 0")] = None,
) -> list[GroupMemberOut]:
    rows = await groups_service.list_members(
        ctx,
        actor,
        _group_id(group_id),
        limit=parse_int(limit, "limit", default=200, low=1, high=500, clamp=True),
        offset=parse_int(offset, "offset", default=0, low=0, high=MAX_OFFSET, clamp=True),
    )
    return [
        GroupMemberOut(
            user_id=str(r.user_id),
            username=r.username,
            display_name=r.display_name,
            avatar_url=r.avatar_url,
            role=r.role,
            joined_at=rfc3339(r.joined_at),
        )
        for r in rows
    ]


@get("/api/groups/{group_id:str}/channels", responses=errors(403, 404))
async def list_group_channels(
    ctx: CtxDep, actor: ActorDep, group_id: FromPath[str]
) -> list[ChannelOut]:
    rows = await groups_service.list_channels(ctx, actor, _group_id(group_id))
    return [channel_out(r) for r in rows]


@post("/api/groups/{group_id:str}/channels", status_code=200, responses=errors(403, 404))
async def post_group_channel(
    ctx: CtxDep, actor: ActorDep, group_id: FromPath[str], data: JSONBody[CreateGroupChannelIn]
) -> ChannelOut:
    channel = await groups_service.create_channel(ctx, actor, _group_id(group_id), data)
    return channel_out(channel)


@patch("/api/groups/{group_id:str}/channels/{channel_id:str}", responses=errors(403, 404))
async def patch_group_channel(
    ctx: CtxDep,
    actor: ActorDep,
    group_id: FromPath[str],
    channel_id: FromPath[str],
    data: JSONBody[UpdateGroupChannelIn],
) -> ChannelOut:
    channel = await groups_service.update_channel(
        ctx, actor, _group_id(group_id), _channel_id(channel_id), data
    )
    return channel_out(channel)


@delete(
    "/api/groups/{group_id:str}/channels/{channel_id:str}",
    status_code=200,
    responses=errors(403, 404),
)
async def delete_group_channel(
    ctx: CtxDep, actor: ActorDep, group_id: FromPath[str], channel_id: FromPath[str]
) -> Response[bytes]:
    await groups_service.delete_channel(ctx, actor, _group_id(group_id), _channel_id(channel_id))
    return empty()


HANDLERS = [
    list_groups,
    post_group,
    list_discover_groups,
    get_group,
    patch_group,
    delete_group,
    post_transfer_group_ownership,
    post_join_group,
    post_leave_group,
    list_group_members,
    list_group_channels,
    post_group_channel,
    patch_group_channel,
    delete_group_channel,
]
