"""Reading a thread (spec rest-api 2.9): the replies to one message, oldest first. Replies are
sent over the WebSocket (``send_message`` with ``thread_id``, services/messages.py).

Who: channel members only, like the channel's history (anyone else 403, instance staff
included, also for a channel that does not exist). The root must be a message of this channel
(404 ``thread root not found``), deleted or not.

``before`` (a message of the channel) keeps only the replies strictly older than it and still
returns them oldest first, so a page holds the OLDEST ``limit`` of them, as in the original.
Unlike the original, replies past their lifetime (``message_ttl_seconds``) are left out, as
they are from the history.
"""

from __future__ import annotations

import uuid

from chatalot.context import Ctx
from chatalot.errors import Forbidden, NotFound
from chatalot.ids import ChannelId
from chatalot.repositories import channels as channels_repo
from chatalot.repositories import messages as messages_repo
from chatalot.repositories import threads as threads_repo
from chatalot.services.actor import Actor
from chatalot.services.messages import MessageView


async def list_thread_replies(
    ctx: Ctx,
    actor: Actor,
    channel_id: ChannelId,
    root_id: uuid.UUID,
    *,
    before: uuid.UUID | None,
    limit: int,
) -> list[MessageView]:
    """The replies with their reactions (never thread counts: ``thread`` is None)."""
    now = ctx.clock.now()
    async with ctx.db.connection() as conn:
        if await channels_repo.select_channel_role(conn, channel_id, actor.user_id) is None:
            raise Forbidden()
        root = await messages_repo.select_message(conn, root_id)
        if root is None or root.channel_id != channel_id:
            raise NotFound("thread root not found")
        rows = await threads_repo.list_thread_replies(
            conn, channel_id, root_id, before=before, limit=limit, now=now
        )
        ids = [r.id for r in rows]
        reactions = await messages_repo.list_reactions(conn, ids) if ids else {}
    return [MessageView(r, reactions.get(r.id, []), None) for r in rows]
