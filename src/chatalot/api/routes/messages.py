"""`GET /api/channels/{id}/messages` (newest first, ``before`` paging) and
`GET /api/channels/{id}/messages/{message_id}/history`: channel members only. Sending, editing
and deleting happen over the WebSocket (realtime/session.py)."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.params import FromPath

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import described_query, errors, integer_query
from chatalot.api.params import parse_int, parse_uuid
from chatalot.ids import ChannelId
from chatalot.protocol.api.messages import MessageEditOut, MessageOut, ReactionOut
from chatalot.protocol.time import rfc3339, rfc3339_or_none
from chatalot.services import messages as messages_service
from chatalot.services.messages import DEFAULT_PAGE, MAX_PAGE, MessageView


def message_out(view: MessageView) -> MessageOut:
    row = view.row
    return MessageOut(
        id=str(row.id),
        channel_id=str(row.channel_id),
        sender_id=str(row.sender_id) if row.sender_id else None,
        ciphertext=list(row.ciphertext),
        nonce=list(row.nonce),
        message_type=row.message_type,
        reply_to_id=str(row.reply_to_id) if row.reply_to_id else None,
        sender_key_id=str(row.sender_key_id) if row.sender_key_id else None,
        edited_at=rfc3339_or_none(row.edited_at),
        created_at=rfc3339(row.created_at),
        reactions=[ReactionOut(r.emoji, [str(u) for u in r.user_ids]) for r in view.reactions]
        or None,
        thread_id=str(row.thread_id) if row.thread_id else None,
        thread_reply_count=view.thread.reply_count if view.thread else None,
        thread_last_reply_at=rfc3339(view.thread.last_reply_at) if view.thread else None,
    )


@get("/api/channels/{channel_id:str}/messages", responses=errors(403))
async def list_messages(
    ctx: CtxDep,
    actor: ActorDep,
    channel_id: FromPath[str],
    before: Annotated[str | None, described_query(format="uuid")] = None,
    limit: Annotated[str | None, integer_query(1, MAX_PAGE)] = None,
) -> list[MessageOut]:
    views = await messages_service.list_messages(
        ctx,
        actor,
        ChannelId(parse_uuid(channel_id, "channel id")),
        before=parse_uuid(before, "before") if before else None,
        limit=parse_int(limit, "limit", default=DEFAULT_PAGE, low=1, high=MAX_PAGE),
    )
    return [message_out(v) for v in views]


@get(
    "/api/channels/{channel_id:str}/messages/{message_id:str}/history",
    responses=errors(403, 404),
)
async def message_history(
    ctx: CtxDep, actor: ActorDep, channel_id: FromPath[str], message_id: FromPath[str]
) -> list[MessageEditOut]:
    rows = await messages_service.edit_history(
        ctx,
        actor,
        ChannelId(parse_uuid(channel_id, "channel id")),
        parse_uuid(message_id, "message id"),
    )
    return [
        MessageEditOut(
            id=str(r.id),
            old_ciphertext=list(r.old_ciphertext),
            old_nonce=list(r.old_nonce),
            edited_at=rfc3339(r.edited_at),
        )
        for r in rows
    ]


HANDLERS = [list_messages, message_history]
