"""Profile images: `POST /api/account/avatar|banner|voice-background` (multipart),
`DELETE /api/account/voice-background`, and the public `GET /api/avatars/{filename}`.

Uploads are parsed as a stream (api/uploads.py): only the wanted part is kept, and reading
stops as soon as it is larger than the 10 MiB limit. A request that is not multipart, or is
broken multipart, is a 400. Images are stored and served through ``ctx.storage``.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, delete, get
from litestar.response import Stream

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import (
    binary_response,
    errors,
)
from chatalot.api.responses import empty
from chatalot.api.shapes import user_public
from chatalot.api.uploads import (
    ASSET_FILENAME,
    image_stream,
    image_upload_route,
    read_image_part,
)
from chatalot.protocol.api.account import VoiceBackgroundOut
from chatalot.protocol.api.users import UserPublic
from chatalot.repositories.users import UserRow
from chatalot.services import accounts as accounts_service
from chatalot.services import images
from chatalot.services.images import ImageKind

AVATAR_FILENAME = ASSET_FILENAME


async def _upload(
    ctx: CtxDep, actor: ActorDep, request: Request[Any, Any, Any], kind: ImageKind
) -> UserRow:
    upload = await read_image_part(request, kind.field)
    return await accounts_service.set_profile_image(ctx, actor, kind, upload)


@image_upload_route("/api/account/avatar", images.AVATAR.field, statuses=(404,))
async def post_avatar(ctx: CtxDep, actor: ActorDep, request: Request[Any, Any, Any]) -> UserPublic:
    return user_public(await _upload(ctx, actor, request, images.AVATAR))


@image_upload_route("/api/account/banner", images.BANNER.field, statuses=(404,))
async def post_banner(ctx: CtxDep, actor: ActorDep, request: Request[Any, Any, Any]) -> UserPublic:
    return user_public(await _upload(ctx, actor, request, images.BANNER))


@image_upload_route("/api/account/voice-background", images.VOICE_BACKGROUND.field, statuses=(404,))
async def post_voice_background(
    ctx: CtxDep, actor: ActorDep, request: Request[Any, Any, Any]
) -> VoiceBackgroundOut:
    user = await _upload(ctx, actor, request, images.VOICE_BACKGROUND)
    return VoiceBackgroundOut(url=user.voice_background_url or "")


@delete("/api/account/voice-background", status_code=200)
async def delete_voice_background(ctx: CtxDep, actor: ActorDep) -> Response[bytes]:
    await accounts_service.clear_voice_background(ctx, actor)
    return empty()


@get(
    "/api/avatars/{filename:str}",
    responses={**binary_response("image/*", "The image."), **errors(404)},
)
async def get_avatar(ctx: CtxDep, filename: Annotated[str, AVATAR_FILENAME]) -> Stream:
    return image_stream(await images.open_image(ctx, images.AVATARS, filename))


HANDLERS = [post_avatar, post_banner, post_voice_background, delete_voice_background, get_avatar]
