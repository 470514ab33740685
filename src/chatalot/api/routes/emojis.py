"""Custom emoji: `POST /api/communities/{community_id}/emojis` (multipart `file` +
`shortcode`), `DELETE /api/communities/{community_id}/emojis/{emoji_id}` (community managers)
and the public `GET /api/emojis/{emoji_id}` (services/emojis.py). The list is
`GET /api/communities/{community_id}/emojis` (communities.py)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, post
from litestar.params import FromPath
from litestar.response import Stream

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import binary_part, binary_response, errors, multipart
from chatalot.api.params import parse_uuid
from chatalot.api.responses import empty
from chatalot.api.routes.communities import community_id_of
from chatalot.api.uploads import UPLOAD_BODY_BYTES, PartLimit, image_stream, read_parts
from chatalot.protocol.api.communities import CustomEmojiOut
from chatalot.protocol.time import rfc3339
from chatalot.repositories.communities import CustomEmojiRow
from chatalot.services import emojis as emojis_service
from chatalot.services.emojis import EmojiParts

EMOJIS = "/api/communities/{community_id:str}/emojis"
EMOJI_PARTS = {
    "file": PartLimit(emojis_service.MAX_EMOJI_BYTES),
    "shortcode": PartLimit(emojis_service.MAX_SHORTCODE_PART_BYTES, stop=False),
}


def emoji_out(row: CustomEmojiRow) -> CustomEmojiOut:
    return CustomEmojiOut(
        id=str(row.id),
        community_id=str(row.community_id),
        shortcode=row.shortcode,
        url=f"/api/emojis/{row.id}",
        content_type=row.content_type,
        uploaded_by=str(row.uploaded_by) if row.uploaded_by is not None else None,
        created_at=rfc3339(row.created_at),
    )


async def _read(request: Request[Any, Any, Any]) -> EmojiParts:
    parts = await read_parts(request, EMOJI_PARTS)
    return EmojiParts(file=parts.get("file"), shortcode=parts.get("shortcode"))


@post(
    EMOJIS,
    status_code=200,
    request_max_body_size=UPLOAD_BODY_BYTES,
    responses=errors(403, 404, 409),
    opt=multipart(
        required=("file", "shortcode"),
        file=binary_part(*emojis_service.EXTENSIONS),
        shortcode={"type": "string", "pattern": "^[A-Za-z0-9_]{2,32}$"},
    ),
)
async def post_community_emoji(
    ctx: CtxDep, actor: ActorDep, request: Request[Any, Any, Any], community_id: FromPath[str]
) -> CustomEmojiOut:
    row = await emojis_service.create_emoji(
        ctx, actor, community_id_of(community_id), lambda: _read(request)
    )
    return emoji_out(row)


@delete(EMOJIS + "/{emoji_id:str}", status_code=200, responses=errors(403, 404))
async def delete_community_emoji(
    ctx: CtxDep, actor: ActorDep, community_id: FromPath[str], emoji_id: FromPath[str]
) -> Response[bytes]:
    await emojis_service.delete_emoji(
        ctx, actor, community_id_of(community_id), parse_uuid(emoji_id, "emoji ID")
    )
    return empty()


@get(
    "/api/emojis/{emoji_id:str}",
    responses={**binary_response("image/*", "The emoji image."), **errors(404)},
)
async def get_emoji(ctx: CtxDep, emoji_id: FromPath[str]) -> Stream:
    image = await emojis_service.open_emoji(ctx, parse_uuid(emoji_id, "emoji ID"))
    return image_stream(image, cache_control="public, max-age=86400")


HANDLERS = [post_community_emoji, delete_community_emoji, get_emoji]
