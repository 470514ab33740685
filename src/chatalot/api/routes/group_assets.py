"""Group images: `POST /api/groups/{group_id}/icon|banner` and
`POST /api/groups/{group_id}/channels/{channel_id}/voice-background` (multipart, group
admins), and the public `GET /api/group-assets/{filename}` (services/assets.py)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get
from litestar.params import FromPath
from litestar.response import Stream

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import binary_response, errors
from chatalot.api.params import parse_uuid
from chatalot.api.space_shapes import channel_out, group_out
from chatalot.api.uploads import (
    ASSET_FILENAME,
    image_stream,
    image_upload_route,
    read_image_part,
)
from chatalot.ids import ChannelId, GroupId
from chatalot.protocol.api.channels import ChannelOut
from chatalot.protocol.api.groups import GroupOut
from chatalot.services import assets as assets_service

G = "/api/groups/{group_id:str}"


def _group_id(value: str) -> GroupId:
    return GroupId(parse_uuid(value, "group id"))


def _channel_id(value: str) -> ChannelId:
    return ChannelId(parse_uuid(value, "channel id"))


async def _upload(
    ctx: CtxDep, actor: ActorDep, request: Request[Any, Any, Any], group_id: str, which: str
) -> GroupOut:
    group = await assets_service.set_group_image(
        ctx, actor, _group_id(group_id), which, lambda: read_image_part(request, which)
    )
    return group_out(group)


@image_upload_route(G + "/icon", "icon")
async def post_group_icon(
    ctx: CtxDep, actor: ActorDep, request: Request[Any, Any, Any], group_id: FromPath[str]
) -> GroupOut:
    return await _upload(ctx, actor, request, group_id, "icon")


@image_upload_route(G + "/banner", "banner")
async def post_group_banner(
    ctx: CtxDep, actor: ActorDep, request: Request[Any, Any, Any], group_id: FromPath[str]
) -> GroupOut:
    return await _upload(ctx, actor, request, group_id, "banner")


@image_upload_route(G + "/channels/{channel_id:str}/voice-background", "background")
async def post_group_channel_voice_background(
    ctx: CtxDep,
    actor: ActorDep,
    request: Request[Any, Any, Any],
    group_id: FromPath[str],
    channel_id: FromPath[str],
) -> ChannelOut:
    channel = await assets_service.set_channel_voice_background(
        ctx,
        actor,
        _group_id(group_id),
        _channel_id(channel_id),
        lambda: read_image_part(request, "background"),
    )
    return channel_out(channel)


@get(
    "/api/group-assets/{filename:str}",
    responses={**binary_response("image/*", "The image."), **errors(404)},
)
async def get_group_asset(ctx: CtxDep, filename: Annotated[str, ASSET_FILENAME]) -> Stream:
    return image_stream(await assets_service.open_group_asset(ctx, filename))


HANDLERS = [
    post_group_icon,
    post_group_banner,
    post_group_channel_voice_background,
    get_group_asset,
]
