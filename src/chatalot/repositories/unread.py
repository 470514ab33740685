"""SQL for unread counts and read cursors (tables read_cursors, messages). Cursors are written by
the realtime layer (``mark_read``); these queries only read them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chatalot.db.database import Conn
from chatalot.ids import ChannelId, MessageId, UserId


@dataclass(frozen=True, slots=True)
class UnreadCountRow:
    channel_id: ChannelId
    unread_count: int


@dataclass(frozen=True, slots=True)
class ReadCursorRow:
    user_id: UserId
    last_read_message_id: MessageId | None
    last_read_at: datetime


async def list_unread_counts(conn: Conn, user_id: UserId) -> list[UnreadCountRow]:
    """For each of the user's channels with unread messages: how many. Unread: not deleted,
    not sent by the user (webhook messages, with no sender, count), newer than the message the
    user's cursor points at (or than the cursor's time when that message is gone; every
    message when there is no cursor). One statement for all channels."""
    rows = await conn.fetch(
        """
        SELECT cm.channel_id, count(*) AS unread_count
          FROM channel_members cm
          LEFT JOIN read_cursors rc ON rc.user_id = cm.user_id AND rc.channel_id = cm.channel_id
          LEFT JOIN messages seen ON seen.id = rc.last_read_message_id
          JOIN messages m ON m.channel_id = cm.channel_id
         WHERE cm.user_id = $1
           AND m.deleted_at IS NULL
           AND m.sender_id IS DISTINCT FROM $1
           AND m.created_at > COALESCE(seen.created_at, rc.last_read_at, '-infinity')
         GROUP BY cm.channel_id
         ORDER BY cm.channel_id
        """,
        user_id,
    )
    return [UnreadCountRow(r["channel_id"], r["unread_count"]) for r in rows]


async def list_read_cursors(conn: Conn, channel_id: ChannelId) -> list[ReadCursorRow]:
    """The cursors of the channel's current members."""
    rows = await conn.fetch(
        """
        SELECT rc.user_id, rc.last_read_message_id, rc.last_read_at
          FROM read_cursors rc
          JOIN channel_members cm ON cm.channel_id = rc.channel_id AND cm.user_id = rc.user_id
         WHERE rc.channel_id = $1
         ORDER BY rc.last_read_at DESC, rc.user_id
        """,
        channel_id,
    )
    return [ReadCursorRow(**dict(r)) for r in rows]
