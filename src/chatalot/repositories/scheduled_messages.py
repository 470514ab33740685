"""SQL for scheduled messages (table scheduled_messages). No permission checks, no events: see
services/scheduled_messages.py (the REST side) and services/scheduled_delivery.py (the job).

``ciphertext`` and ``nonce`` are TEXT here (the strings the client sent), unlike messages."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from chatalot.db.database import Conn
from chatalot.ids import ChannelId, UserId

_COLUMNS = "s.id, s.channel_id, s.user_id, s.scheduled_for, s.created_at, s.content_preview"


@dataclass(frozen=True, slots=True)
class ScheduledRow:
    id: uuid.UUID
    channel_id: ChannelId
    user_id: UserId
    scheduled_for: datetime
    created_at: datetime
    content_preview: str | None


@dataclass(frozen=True, slots=True)
class DueRow:
    """A due scheduled message, claimed (locked) by the delivering transaction, with what its
    delivery is checked against, read in the claiming statement."""

    id: uuid.UUID
    channel_id: ChannelId
    user_id: UserId
    ciphertext: str
    nonce: str
    scheduled_for: datetime
    suspended: bool  # the author's account is suspended
    channel_type: str | None  # None: the channel does not exist
    archived: bool
    read_only: bool
    message_ttl_seconds: int | None
    member: bool  # the author is a member of the channel and not banned from it
    timed_out: bool  # the author has an unexpired timeout in the channel


async def lock_user_scheduled(conn: Conn, user_id: UserId) -> None:
    """Serialises scheduling by one user until the transaction ends (so the per-user limit
    holds under concurrent requests, on every server process)."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('chatalot:scheduled:' || $1::uuid::text,"
        " 0))",
        user_id,
    )


async def count_user_scheduled(conn: Conn, user_id: UserId) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM scheduled_messages WHERE user_id = $1", user_id
    )
    return count


async def insert_scheduled_message(
    conn: Conn,
    *,
    scheduled_id: uuid.UUID,
    channel_id: ChannelId,
    user_id: UserId,
    ciphertext: str,
    nonce: str,
    scheduled_for: datetime,
    created_at: datetime,
    content_preview: str | None,
) -> ScheduledRow:
    record = await conn.fetchrow(
        f"""
        INSERT INTO scheduled_messages AS s (id, channel_id, user_id, ciphertext, nonce,
                                             scheduled_for, created_at, content_preview)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        RETURNING {_COLUMNS}
        """,
        scheduled_id,
        channel_id,
        user_id,
        ciphertext,
        nonce,
        scheduled_for,
        created_at,
        content_preview,
    )
    return ScheduledRow(**dict(record))


async def list_user_scheduled(conn: Conn, user_id: UserId, *, limit: int) -> list[ScheduledRow]:
    """The user's scheduled messages, soonest first."""
    records = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM scheduled_messages s
         WHERE s.user_id = $1
         ORDER BY s.scheduled_for, s.id
         LIMIT $2
        """,
        user_id,
        limit,
    )
    return [ScheduledRow(**dict(r)) for r in records]


async def delete_user_scheduled(conn: Conn, scheduled_id: uuid.UUID, user_id: UserId) -> bool:
    """Only the user's own; True when one was removed."""
    status = await conn.execute(
        "DELETE FROM scheduled_messages WHERE id = $1 AND user_id = $2", scheduled_id, user_id
    )
    return str(status) == "DELETE 1"


async def list_due_for_delivery(
    conn: Conn, now: datetime, *, limit: int, skip: Sequence[uuid.UUID] = ()
) -> list[DueRow]:
    """Claims up to ``limit`` scheduled messages due at ``now`` (oldest first) for the current
    transaction: their rows stay locked until it ends, and rows another transaction holds are
    skipped, so concurrent deliverers (other server processes) never claim the same row.
    ``skip``: ids left out (kept for a later run after a failed delivery)."""
    records = await conn.fetch(
        """
        SELECT s.id, s.channel_id, s.user_id, s.ciphertext, s.nonce, s.scheduled_for,
               u.suspended_at IS NOT NULL AS suspended,
               ch.channel_type::text AS channel_type,
               coalesce(ch.archived, false) AS archived,
               coalesce(ch.read_only, false) AS read_only,
               ch.message_ttl_seconds,
               (cm.user_id IS NOT NULL
                AND NOT EXISTS (SELECT 1 FROM channel_bans b
                                 WHERE b.channel_id = s.channel_id AND b.user_id = s.user_id))
                   AS member,
               EXISTS (SELECT 1 FROM user_timeouts t
                        WHERE t.channel_id = s.channel_id AND t.user_id = s.user_id
                          AND t.expires_at > $1) AS timed_out
          FROM scheduled_messages s
          JOIN users u ON u.id = s.user_id
          LEFT JOIN channels ch ON ch.id = s.channel_id
          LEFT JOIN channel_members cm ON cm.channel_id = s.channel_id AND cm.user_id = s.user_id
         WHERE s.scheduled_for <= $1 AND NOT (s.id = ANY($3::uuid[]))
         ORDER BY s.scheduled_for, s.id
         LIMIT $2
           FOR UPDATE OF s SKIP LOCKED
        """,
        now,
        limit,
        list(skip),
    )
    return [DueRow(**dict(r)) for r in records]


async def delete_scheduled_message(conn: Conn, scheduled_id: uuid.UUID) -> bool:
    status = await conn.execute("DELETE FROM scheduled_messages WHERE id = $1", scheduled_id)
    return str(status) == "DELETE 1"
