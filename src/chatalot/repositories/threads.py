"""SQL for reading threads (replies are rows of messages whose thread_id is the root). Writing
replies is send_message's (repositories/messages.py). No permission checks: see
services/threads.py."""

from __future__ import annotations

import uuid
from datetime import datetime

from chatalot.db.database import Conn
from chatalot.ids import ChannelId
from chatalot.repositories.messages import MESSAGE_COLUMNS, MessageRow, message_row


async def list_thread_replies(
    conn: Conn,
    channel_id: ChannelId,
    root_id: uuid.UUID,
    *,
    before: uuid.UUID | None,
    limit: int,
    now: datetime,
) -> list[MessageRow]:
    """The root's replies that are neither deleted, quarantined nor expired, oldest first,
    ordered by (created_at, id). ``before``: only replies strictly older than that message of
    the channel in this order, still oldest first (so the oldest ``limit`` of them); an unknown
    id or one of another channel gives nothing."""
    if before is None:
        records = await conn.fetch(
            f"""
            SELECT {MESSAGE_COLUMNS} FROM messages m
             WHERE m.thread_id = $1 AND m.channel_id = $2
               AND m.deleted_at IS NULL AND m.quarantined_at IS NULL
               AND (m.expires_at IS NULL OR m.expires_at > $3)
             ORDER BY m.created_at, m.id
             LIMIT $4
            """,
            root_id,
            channel_id,
            now,
            limit,
        )
    else:
        records = await conn.fetch(
            f"""
            SELECT {MESSAGE_COLUMNS} FROM messages m
             WHERE m.thread_id = $1 AND m.channel_id = $2
               AND m.deleted_at IS NULL AND m.quarantined_at IS NULL
               AND (m.expires_at IS NULL OR m.expires_at > $3)
               AND (m.created_at, m.id) < (SELECT c.created_at, c.id FROM messages c
                                            WHERE c.id = $5 AND c.channel_id = $2)
             ORDER BY m.created_at, m.id
             LIMIT $4
            """,
            root_id,
            channel_id,
            now,
            limit,
            before,
        )
    return [message_row(r) for r in records]
