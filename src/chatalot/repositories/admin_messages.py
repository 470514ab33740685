"""SQL for the instance admin's message tools (table messages): quarantine and purges (hard
deletes). What a hard delete does to rows that point at a message is described in
repositories/message_retention.py (replies and thread replies keep their text; reactions,
pins, bookmarks and edits go with it). No permission checks: services/admin_content.py."""

from __future__ import annotations

import uuid
from datetime import datetime

from chatalot.db.database import Conn
from chatalot.ids import ChannelId, UserId


async def update_quarantine_message(
    conn: Conn, message_id: uuid.UUID, by: UserId, at: datetime
) -> ChannelId | None:
    """Quarantines the message unless it already is; its channel, or None when it is missing
    or already quarantined."""
    channel_id: ChannelId | None = await conn.fetchval(
        "UPDATE messages SET quarantined_at = $3, quarantined_by = $2"
        " WHERE id = $1 AND quarantined_at IS NULL RETURNING channel_id",
        message_id,
        by,
        at,
    )
    return channel_id


async def update_unquarantine_message(conn: Conn, message_id: uuid.UUID) -> ChannelId | None:
    channel_id: ChannelId | None = await conn.fetchval(
        "UPDATE messages SET quarantined_at = NULL, quarantined_by = NULL"
        " WHERE id = $1 AND quarantined_at IS NOT NULL RETURNING channel_id",
        message_id,
    )
    return channel_id


async def delete_message(conn: Conn, message_id: uuid.UUID) -> ChannelId | None:
    """Hard-deletes one message; its channel, or None when there was none."""
    channel_id: ChannelId | None = await conn.fetchval(
        "DELETE FROM messages WHERE id = $1 RETURNING channel_id", message_id
    )
    return channel_id


async def delete_messages_of_sender(conn: Conn, sender_id: UserId, *, limit: int) -> int:
    """Hard-deletes up to ``limit`` messages sent by ``sender_id``; how many it deleted."""
    status: str = await conn.execute(
        """
        WITH batch AS MATERIALIZED (
            SELECT id FROM messages WHERE sender_id = $1 LIMIT $2 FOR UPDATE
        )
        DELETE FROM messages m USING batch WHERE m.id = batch.id
        """,
        sender_id,
        limit,
    )
    return int(status.split()[-1])


async def delete_messages_of_channel(conn: Conn, channel_id: ChannelId, *, limit: int) -> int:
    """Hard-deletes up to ``limit`` messages of the channel; how many it deleted."""
    status: str = await conn.execute(
        """
        WITH batch AS MATERIALIZED (
            SELECT id FROM messages WHERE channel_id = $1 LIMIT $2 FOR UPDATE
        )
        DELETE FROM messages m USING batch WHERE m.id = batch.id
        """,
        channel_id,
        limit,
    )
    return int(status.split()[-1])
