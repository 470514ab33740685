"""SQL for pinned messages (table pinned_messages, read together with messages). No permission
checks, no events: see services/pins.py.

A pin is "visible" while its message is neither soft-deleted nor quarantined nor expired: the
list shows those, and only those count towards a channel's limit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from chatalot.db.database import Conn
from chatalot.db.errors import on_unique_violation
from chatalot.ids import ChannelId, UserId

_VISIBLE = (
    "m.deleted_at IS NULL AND m.quarantined_at IS NULL"
    " AND (m.expires_at IS NULL OR m.expires_at > $2)"
)


@dataclass(frozen=True, slots=True)
class PinRow:
    message_id: uuid.UUID
    channel_id: ChannelId
    pinned_by: UserId | None  # None once the user who pinned it is deleted
    pinned_at: datetime


@dataclass(frozen=True, slots=True)
class PinnedMessageRow:
    """A pinned message with its pin."""

    id: uuid.UUID
    channel_id: ChannelId
    sender_id: UserId | None
    ciphertext: bytes
    nonce: bytes
    message_type: str
    reply_to_id: uuid.UUID | None
    sender_key_id: uuid.UUID | None
    edited_at: datetime | None
    created_at: datetime
    pinned_by: UserId | None
    pinned_at: datetime


async def lock_channel_pins(conn: Conn, channel_id: ChannelId) -> None:
    """Serialises pinning in one channel until the transaction ends (so the per-channel limit
    holds under concurrent pins, on every server process)."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('chatalot:pins:' || $1::uuid::text, 0))",
        channel_id,
    )


async def count_visible_pins(conn: Conn, channel_id: ChannelId, now: datetime) -> int:
    count: int = await conn.fetchval(
        f"""
        SELECT count(*) FROM pinned_messages p
          JOIN messages m ON m.id = p.message_id
         WHERE p.channel_id = $1 AND {_VISIBLE}
        """,
        channel_id,
        now,
    )
    return count


async def exists_pin(conn: Conn, message_id: uuid.UUID) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pinned_messages WHERE message_id = $1)", message_id
        )
    )


async def insert_pin(
    conn: Conn,
    *,
    message_id: uuid.UUID,
    channel_id: ChannelId,
    pinned_by: UserId,
    pinned_at: datetime,
) -> PinRow:
    """Raises Conflict ``message is already pinned`` if it is."""
    with on_unique_violation("message is already pinned"):
        record = await conn.fetchrow(
            """
            INSERT INTO pinned_messages (message_id, channel_id, pinned_by, pinned_at)
            VALUES ($1, $2, $3, $4)
            RETURNING message_id, channel_id, pinned_by, pinned_at
            """,
            message_id,
            channel_id,
            pinned_by,
            pinned_at,
        )
    return PinRow(**dict(record))


async def delete_pin(conn: Conn, *, message_id: uuid.UUID, channel_id: ChannelId) -> bool:
    """Only the pin of that message in that channel; True when one was removed."""
    status = await conn.execute(
        "DELETE FROM pinned_messages WHERE message_id = $1 AND channel_id = $2",
        message_id,
        channel_id,
    )
    return str(status) == "DELETE 1"


async def list_pinned_messages(
    conn: Conn, channel_id: ChannelId, now: datetime
) -> list[PinnedMessageRow]:
    """The channel's visible pins, most recently pinned first."""
    records = await conn.fetch(
        f"""
        SELECT m.id, m.channel_id, m.sender_id, m.ciphertext, m.nonce, m.message_type,
               m.reply_to_id, m.sender_key_id, m.edited_at, m.created_at,
               p.pinned_by, p.pinned_at
          FROM pinned_messages p
          JOIN messages m ON m.id = p.message_id
         WHERE p.channel_id = $1 AND {_VISIBLE}
         ORDER BY p.pinned_at DESC, p.message_id DESC
        """,
        channel_id,
        now,
    )
    return [PinnedMessageRow(**dict(r)) for r in records]
