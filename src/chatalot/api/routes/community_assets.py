"""Community images: `POST /api/communities/{community_id}/icon|banner` (multipart, community
managers) and the public `GET /api/community-assets/{filename}` (services/assets.py)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get
from litestar.params import FromPath
from litestar.response import Stream

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import binary_response, errors
from chatalot.api.routes.communities import community_id_of
from chatalot.api.space_shapes import community_out
from chatalot.api.uploads import (
    ASSET_FILENAME,
    image_stream,
    image_upload_route,
    read_image_part,
)
from chatalot.protocol.api.communities import CommunityOut
from chatalot.services import assets as assets_service

C = "/api/communities/{community_id:str}"


async def _upload(
    ctx: CtxDep, actor: ActorDep, request: Request[Any, Any, Any], community_id: str, which: str
) -> CommunityOut:
    row = await assets_service.set_community_image(
        ctx,
        actor,
        community_id_of(community_id),
        which,
        lambda: read_image_part(request, which),
    )
    return community_out(row)


@image_upload_route(C + "/icon", "icon")
async def post_community_icon(
    ctx: CtxDep, actor: ActorDep, request: Request[Any, Any, Any], community_id: FromPath[str]
) -> CommunityOut:
    return await _upload(ctx, actor, request, community_id, "icon")


@image_upload_route(C + "/banner", "banner")
async def post_community_banner(
    ctx: CtxDep, actor: ActorDep, request: Request[Any, Any, Any], community_id: FromPath[str]
) -> CommunityOut:
    return await _upload(ctx, actor, request, community_id, "banner")


@get(
    "/api/community-assets/{filename:str}",
    responses={**binary_response("image/*", "The image."), **errors(404)},
)
async def get_community_asset(ctx: CtxDep, filename: Annotated[str, ASSET_FILENAME]) -> Stream:
    return image_stream(await assets_service.open_community_asset(ctx, filename))


HANDLERS = [post_community_icon, post_community_banner, get_community_asset]
