"""`GET /api/channels/{id}/pins` (members), `POST` and `DELETE /api/channels/{id}/pins/{msg_id}`
(channel moderators and above)."""

from __future__ import annotations

from litestar import Response, delete, get, post
from litestar.params import FromPath

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import errors
from chatalot.api.params import parse_uuid
from chatalot.api.responses import empty
from chatalot.ids import ChannelId
from chatalot.protocol.api.pins import PinnedMessageOut
from chatalot.protocol.time import rfc3339, rfc3339_or_none
from chatalot.services import pins as pins_service


@get("/api/channels/{channel_id:str}/pins", responses=errors(403, 404))
async def list_pins(
    ctx: CtxDep, actor: ActorDep, channel_id: FromPath[str]
) -> list[PinnedMessageOut]:
    rows = await pins_service.list_pins(ctx, actor, ChannelId(parse_uuid(channel_id, "channel id")))
    return [
        PinnedMessageOut(
            id=str(r.id),
            channel_id=str(r.channel_id),
            sender_id=str(r.sender_id) if r.sender_id else None,
            ciphertext=list(r.ciphertext),
            nonce=list(r.nonce),
            message_type=r.message_type,
            reply_to_id=str(r.reply_to_id) if r.reply_to_id else None,
            sender_key_id=str(r.sender_key_id) if r.sender_key_id else None,
            edited_at=rfc3339_or_none(r.edited_at),
            created_at=rfc3339(r.created_at),
            pinned_by=str(r.pinned_by) if r.pinned_by else None,
            pinned_at=rfc3339(r.pinned_at),
        )
        for r in rows
    ]


@post(
    "/api/channels/{channel_id:str}/pins/{message_id:str}",
    status_code=200,
    responses=errors(403, 404, 409),
)
async def post_pin(
    ctx: CtxDep, actor: ActorDep, channel_id: FromPath[str], message_id: FromPath[str]
) -> Response[bytes]:
    """The body, if any, is ignored."""
    await pins_service.pin_message(
        ctx,
        actor,
        ChannelId(parse_uuid(channel_id, "channel id")),
        parse_uuid(message_id, "message id"),
    )
    return empty()


@delete(
    "/api/channels/{channel_id:str}/pins/{message_id:str}",
    status_code=200,
    responses=errors(403, 404),
)
async def delete_pin(
    ctx: CtxDep, actor: ActorDep, channel_id: FromPath[str], message_id: FromPath[str]
) -> Response[bytes]:
    await pins_service.unpin_message(
        ctx,
        actor,
        ChannelId(parse_uuid(channel_id, "channel id")),
        parse_uuid(message_id, "message id"),
    )
    return empty()


HANDLERS = [list_pins, post_pin, delete_pin]
