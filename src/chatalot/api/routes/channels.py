"""`/api/channels` and `/api/channels/{id}`: the caller's channels, creating, reading and
editing one (membership routes are in routes/channel_members.py)."""

from __future__ import annotations

from litestar import get, patch, post
from litestar.params import FromPath, JSONBody

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import errors
from chatalot.api.params import parse_uuid
from chatalot.api.space_shapes import channel_out
from chatalot.protocol.api.channels import ChannelOut, CreateChannelIn, UpdateChannelIn
from chatalot.services import channels as channels_service


@get("/api/channels")
async def list_channels(ctx: CtxDep, actor: ActorDep) -> list[ChannelOut]:
    return [channel_out(c) for c in await channels_service.list_channels(ctx, actor)]


@post("/api/channels", status_code=200, responses=errors(403, 404))
async def post_channel(ctx: CtxDep, actor: ActorDep, data: JSONBody[CreateChannelIn]) -> ChannelOut:
    group_id = parse_uuid(data.group_id, "group id") if data.group_id is not None else None
    row = await channels_service.create_channel(
        ctx,
        actor,
        name=data.name,
        channel_type=data.channel_type,
        topic=data.topic,
        group_id=group_id,
        discoverable=data.discoverable,
    )
    return channel_out(row)


@get("/api/channels/{channel_id:str}", responses=errors(403, 404))
async def get_channel(ctx: CtxDep, actor: ActorDep, channel_id: FromPath[str]) -> ChannelOut:
    row = await channels_service.get_channel(ctx, actor, parse_uuid(channel_id, "channel id"))
    return channel_out(row)


@patch("/api/channels/{channel_id:str}", responses=errors(403, 404))
async def patch_channel(
    ctx: CtxDep, actor: ActorDep, channel_id: FromPath[str], data: JSONBody[UpdateChannelIn]
) -> ChannelOut:
    row = await channels_service.update_channel(
        ctx, actor, parse_uuid(channel_id, "channel id"), data
    )
    return channel_out(row)


HANDLERS = [list_channels, post_channel, get_channel, patch_channel]
