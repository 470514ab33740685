"""SQL for hard-deleting messages past their lifetime (table messages; its dependants follow the
foreign keys). No permission checks: only background jobs call this (services/message_retention.py).

What a hard delete does to the rows that point at a message (every foreign key to ``messages``
is ``ON DELETE CASCADE`` or ``SET NULL``; tests/services/test_message_retention.py checks the
catalogue so a new one cannot slip in without a rule):

- reactions, pinned_messages, bookmarks, message_edits: deleted with it (cascade);
- messages.reply_to_id and messages.thread_id of other messages: set to NULL, so a reply keeps
  its text and a thread reply becomes an ordinary message;
- read_cursors.last_read_message_id: set to NULL; the row and its ``last_read_at`` stay, and the
  unread count then counts from ``last_read_at`` (repositories/unread.py), so the channel does
  not suddenly look entirely unread;
- reports.target_id (polymorphic, no foreign key): kept, a moderation record outlives its message.

Each statement deletes at most ``limit`` rows, chosen with ``FOR UPDATE SKIP LOCKED`` in a
MATERIALIZED CTE (as ``id IN (subquery with LIMIT)`` the planner may run the subquery more than
once and delete more than ``limit`` rows: a test saw 23 deleted in a batch of 10): a row
another transaction holds (a concurrent batch, a user editing it) is left for a later batch
instead of being waited for, and ``RETURNING`` names exactly the rows this statement deleted."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from chatalot.db.database import Conn
from chatalot.ids import ChannelId


@dataclass(frozen=True, slots=True)
class DeletedMessageRow:
    id: uuid.UUID
    channel_id: ChannelId
    deleted_at: datetime | None  # the soft-delete time, if it had been soft-deleted


async def try_lock_job(conn: Conn, job: str) -> bool:
    """Takes the job's advisory lock until the transaction ends, without waiting; False when
    another transaction (another server process) holds it."""
    locked: bool = await conn.fetchval(
        "SELECT pg_try_advisory_xact_lock(hashtextextended('chatalot:job:' || $1::text, 0))",
        job,
    )
    return locked


async def delete_expired_messages(
    conn: Conn, now: datetime, *, limit: int
) -> list[DeletedMessageRow]:
    """Up to ``limit`` messages whose ``expires_at`` is before ``now``, soonest expired first."""
    records = await conn.fetch(
        """
        WITH batch AS MATERIALIZED (
            SELECT e.id
              FROM messages e
             WHERE e.expires_at < $1
             ORDER BY e.expires_at
             LIMIT $2
               FOR UPDATE SKIP LOCKED
        )
        DELETE FROM messages m USING batch
         WHERE m.id = batch.id
        RETURNING m.id, m.channel_id, m.deleted_at
        """,
        now,
        limit,
    )
    return [DeletedMessageRow(**dict(r)) for r in records]


async def delete_soft_deleted_messages(
    conn: Conn, cutoff: datetime, *, limit: int
) -> list[DeletedMessageRow]:
    """Up to ``limit`` messages soft-deleted before ``cutoff``, oldest deletion first."""
    records = await conn.fetch(
        """
        WITH batch AS MATERIALIZED (
            SELECT d.id
              FROM messages d
             WHERE d.deleted_at < $1
             ORDER BY d.deleted_at
             LIMIT $2
               FOR UPDATE SKIP LOCKED
        )
        DELETE FROM messages m USING batch
         WHERE m.id = batch.id
        RETURNING m.id, m.channel_id, m.deleted_at
        """,
        cutoff,
        limit,
    )
    return [DeletedMessageRow(**dict(r)) for r in records]
