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


async def list_unread_counts(conn: Conn, user_id: UserId, now: datetime) -> list[UnreadCountRow]:
    """For each of the user's channels with unread messages: how many. Unread: not deleted,
    not expired at ``now`` (the clean-up job deletes them within minutes), not sent by the user
    (webhook messages, with no sender, count), newer than the message the user's cursor points
    at (or than the cursor's time when that message is gone; every message when there is no
    cursor). One statement for all channels."""
    rows = await conn.fetch(
        """
        SELECT cm.channel_id, count(*) AS unread_count
          FROM channel_members cm
          LEFT JOIN read_cursors rc ON rc.user_id = cm.user_id AND rc.channel_id = cm.channel_id
          LEFT JOIN messages seen ON seen.id = rc.last_read_message_id
          JOIN messages m ON m.channel_id = cm.channel_id
         WHERE cm.user_id = $1
           AND m.deleted_at IS NULL
           AND (m.expires_at IS NULL OR m.expires_at > $2)
           AND m.sender_id IS DISTINCT FROM $1
           AND m.created_at > COALESCE(seen.created_at, rc.last_read_at, '-infinity')
         GROUP BY cm.channel_id
         ORDER BY cm.channel_id
        """,
        user_id,
        now,
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


async def upsert_read_cursor(
    conn: Conn, *, user_id: UserId, channel_id: ChannelId, message_id: MessageId, now: datetime
) -> bool:
    """Moves the user's cursor in the channel to ``message_id`` if that message is in the
    channel (an unknown or foreign id changes nothing); True if it moved."""
    status = await conn.execute(
        """
        INSERT INTO read_cursors AS rc (user_id, channel_id, last_read_message_id, last_read_at)
        SELECT $1, $2, m.id, $4 FROM messages m WHERE m.id = $3 AND m.channel_id = $2
        ON CONFLICT (user_id, channel_id) DO UPDATE
           SET last_read_message_id = EXCLUDED.last_read_message_id,
               last_read_at = EXCLUDED.last_read_at
        """,
        user_id,
        channel_id,
        message_id,
        now,
    )
    return bool(status == "INSERT 0 1")


async def upsert_all_read_cursors(conn: Conn, user_id: UserId, now: datetime) -> int:
    """Every channel of the user read up to its newest message that is not deleted; returns
    how many cursors were written (one statement)."""
    status = await conn.execute(
        """
        INSERT INTO read_cursors AS rc (user_id, channel_id, last_read_message_id, last_read_at)
        SELECT cm.user_id, cm.channel_id, newest.id, $2
          FROM channel_members cm
          JOIN LATERAL (
                SELECT m.id FROM messages m
                 WHERE m.channel_id = cm.channel_id AND m.deleted_at IS NULL
                 ORDER BY m.created_at DESC, m.id DESC
                 LIMIT 1
               ) newest ON true
         WHERE cm.user_id = $1
        ON CONFLICT (user_id, channel_id) DO UPDATE
           SET last_read_message_id = EXCLUDED.last_read_message_id,
               last_read_at = EXCLUDED.last_read_at
        """,
        user_id,
        now,
    )
    return int(status.split()[-1])
