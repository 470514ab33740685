"""Profile images: `POST /api/account/avatar|banner|voice-background` (multipart),
`DELETE /api/account/voice-background`, and the public `GET /api/avatars/{filename}`.

Uploads are parsed here as a stream: only the wanted part is kept, and reading stops as soon
as it is larger than the 10 MiB limit, so an over-size upload is never held in memory (nor
spooled to disk) in full. A request that is not multipart, or is broken multipart, is a 400.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

from litestar import Request, Response, delete, get, post
from litestar.response import Stream
from multipart import (  # type: ignore[import-untyped]  # no type information shipped
    MultipartError,
    MultipartSegment,
    PushMultipartParser,
)

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import (
    IMAGE_PART,
    binary_response,
    described_path,
    errors,
    multipart,
)
from chatalot.api.responses import empty
from chatalot.api.shapes import user_public
from chatalot.errors import Invalid
from chatalot.protocol.api.account import VoiceBackgroundOut
from chatalot.protocol.api.users import UserPublic
from chatalot.repositories.users import UserRow
from chatalot.services import accounts as accounts_service
from chatalot.services import images
from chatalot.services.images import ImageKind, ImageUpload, OpenImage

AVATAR_FILENAME = described_path(
    pattern="^[A-Za-z0-9_-]{1,64}(\\.[A-Za-z0-9_-]{1,16}){0,2}$", maxLength=200
)
MAX_PARTS = 16
CHUNK_BYTES = 64 * 1024
# The image itself is limited to MAX_IMAGE_BYTES by the part reader (with a message naming the
# image); the request as a whole may carry that plus the multipart framing and small fields.
UPLOAD_BODY_BYTES = images.MAX_IMAGE_BYTES + 1024 * 1024


class _PartReader:
    """Collects the body of the last part named ``field`` (at most ``limit`` + 1 bytes)."""

    def __init__(self, field: str, limit: int) -> None:
        self.field = field
        self.limit = limit
        self.found: ImageUpload | None = None
        self.too_large = False
        self._content_type: str | None = None
        self._buffer: bytearray | None = None

    def feed(self, event: Any) -> None:
        if isinstance(event, MultipartSegment):
            wanted = event.name == self.field
            self._buffer = bytearray() if wanted else None
            self._content_type = event.content_type if wanted else None
        elif event is None:
            if self._buffer is not None:
                self.found = ImageUpload(self._content_type, bytes(self._buffer))
            self._buffer = None
        elif self._buffer is not None:
            self._buffer.extend(event[: self.limit + 1 - len(self._buffer)])
            if len(self._buffer) > self.limit:
                self.too_large = True
                self.found = ImageUpload(self._content_type, bytes(self._buffer))


async def read_image_part(request: Request[Any, Any, Any], field: str) -> ImageUpload | None:
    """The last file part named ``field``, or None. An over-size part is returned cut at
    MAX_IMAGE_BYTES + 1 bytes (the service refuses it) without reading the rest."""
    media_type, options = request.content_type
    if media_type != "multipart/form-data":
        raise Invalid("multipart error: expected a multipart/form-data request")
    boundary = options.get("boundary")
    if not boundary:
        raise Invalid("multipart error: missing boundary")
    reader = _PartReader(field, images.MAX_IMAGE_BYTES)
    try:
        parser = PushMultipartParser(boundary, max_segment_count=MAX_PARTS)
        async for chunk in request.stream():
            if not chunk:
                continue
            for event in parser.parse(chunk):
                reader.feed(event)
                if reader.too_large:
                    parser.close(check_complete=False)
                    return reader.found
            if parser.closed:
                break
        if not parser.closed:
            parser.close()  # raises when the stream ended in the middle
    except MultipartError as exc:
        raise Invalid(f"multipart error: {exc}") from None
    return reader.found


def _upload_route(path: str, kind: ImageKind) -> post:
    """POST ``path``: a multipart upload of one image in the part ``kind.field``."""
    return post(
        path,
        status_code=200,
        request_max_body_size=UPLOAD_BODY_BYTES,
        responses=errors(404),
        opt=multipart(required=(kind.field,), **{kind.field: IMAGE_PART}),
    )


async def _upload(
    ctx: CtxDep, actor: ActorDep, request: Request[Any, Any, Any], kind: ImageKind
) -> UserRow:
    upload = await read_image_part(request, kind.field)
    return await accounts_service.set_profile_image(ctx, actor, kind, upload)


@_upload_route("/api/account/avatar", images.AVATAR)
async def post_avatar(ctx: CtxDep, actor: ActorDep, request: Request[Any, Any, Any]) -> UserPublic:
    return user_public(await _upload(ctx, actor, request, images.AVATAR))


@_upload_route("/api/account/banner", images.BANNER)
async def post_banner(ctx: CtxDep, actor: ActorDep, request: Request[Any, Any, Any]) -> UserPublic:
    return user_public(await _upload(ctx, actor, request, images.BANNER))


@_upload_route("/api/account/voice-background", images.VOICE_BACKGROUND)
async def post_voice_background(
    ctx: CtxDep, actor: ActorDep, request: Request[Any, Any, Any]
) -> VoiceBackgroundOut:
    user = await _upload(ctx, actor, request, images.VOICE_BACKGROUND)
    return VoiceBackgroundOut(url=user.voice_background_url or "")


@delete("/api/account/voice-background", status_code=200)
async def delete_voice_background(ctx: CtxDep, actor: ActorDep) -> Response[bytes]:
    await accounts_service.clear_voice_background(ctx, actor)
    return empty()


async def _chunks(image: OpenImage) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(image.handle.read, CHUNK_BYTES):
            yield chunk
    finally:
        image.handle.close()


@get(
    "/api/avatars/{filename:str}",
    responses={**binary_response("image/*", "The image."), **errors(404)},
)
async def get_avatar(ctx: CtxDep, filename: Annotated[str, AVATAR_FILENAME]) -> Stream:
    image = await images.open_avatar(ctx, filename)
    return Stream(
        _chunks(image),
        media_type=image.media_type,
        headers={
            "Cache-Control": "public, max-age=3600",
            "Content-Length": str(image.size),
        },
    )


HANDLERS = [post_avatar, post_banner, post_voice_background, delete_voice_background, get_avatar]
