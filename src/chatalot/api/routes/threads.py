"""`GET /api/channels/{id}/threads/{msg_id}`: a thread's replies, oldest first (channel members
only). Replies are sent over the WebSocket (``send_message`` with ``thread_id``)."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.params import FromPath

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import described_query, errors, integer_query
from chatalot.api.params import parse_int, parse_uuid
from chatalot.api.routes.messages import message_out
from chatalot.ids import ChannelId
from chatalot.protocol.api.messages import MessageOut
from chatalot.services import threads as threads_service
from chatalot.services.messages import DEFAULT_PAGE, MAX_PAGE


@get("/api/channels/{channel_id:str}/threads/{message_id:str}", responses=errors(403, 404))
async def list_thread_replies(
    ctx: CtxDep,
    actor: ActorDep,
    channel_id: FromPath[str],
    message_id: FromPath[str],
    before: Annotated[str | None, described_query(format="uuid")] = None,
    limit: Annotated[str | None, integer_query(1, MAX_PAGE)] = None,
) -> list[MessageOut]:
    """``before``: only replies older than that message, still oldest first."""
    views = await threads_service.list_thread_replies(
        ctx,
        actor,
        ChannelId(parse_uuid(channel_id, "channel id")),
        parse_uuid(message_id, "message id"),
        before=parse_uuid(before, "before") if before else None,
        limit=parse_int(limit, "limit", default=DEFAULT_PAGE, low=1, high=MAX_PAGE),
    )
    return [message_out(v) for v in views]


HANDLERS = [list_thread_replies]
