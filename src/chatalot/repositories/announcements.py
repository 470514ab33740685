"""SQL for instance announcements (tables announcements, announcement_dismissals). No
permission checks, no events: see services/announcements.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from chatalot.db.database import Conn
from chatalot.ids import UserId

_COLUMNS = "a.id, a.title, a.body, a.created_by, a.created_at"


@dataclass(frozen=True, slots=True)
class AnnouncementRow:
    id: uuid.UUID
    title: str
    body: str
    created_by: UserId | None  # None once the admin's account is deleted
    created_at: datetime


async def insert_announcement(
    conn: Conn,
    *,
    announcement_id: uuid.UUID,
    title: str,
    body: str,
    created_by: UserId,
    created_at: datetime,
) -> AnnouncementRow:
    record = await conn.fetchrow(
        f"""
        INSERT INTO announcements AS a (id, title, body, created_by, created_at)
        VALUES ($1, $2, $3, $4, $5)
        RETURNING {_COLUMNS}
        """,
        announcement_id,
        title,
        body,
        created_by,
        created_at,
    )
    return AnnouncementRow(**dict(record))


async def list_announcements(conn: Conn, *, limit: int) -> list[AnnouncementRow]:
    """Newest first."""
    records = await conn.fetch(
        f"SELECT {_COLUMNS} FROM announcements a ORDER BY a.created_at DESC, a.id DESC LIMIT $1",
        limit,
    )
    return [AnnouncementRow(**dict(r)) for r in records]


async def list_undismissed_announcements(
    conn: Conn, user_id: UserId, *, limit: int
) -> list[AnnouncementRow]:
    """The announcements ``user_id`` has not dismissed, newest first."""
    records = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM announcements a
         WHERE NOT EXISTS (SELECT 1 FROM announcement_dismissals d
                            WHERE d.announcement_id = a.id AND d.user_id = $1)
         ORDER BY a.created_at DESC, a.id DESC
         LIMIT $2
        """,
        user_id,
        limit,
    )
    return [AnnouncementRow(**dict(r)) for r in records]


async def insert_dismissal(
    conn: Conn, *, user_id: UserId, announcement_id: uuid.UUID, dismissed_at: datetime
) -> bool | None:
    """Records the dismissal (once: dismissing again changes nothing). True when recorded now,
    False when it already was, None when the announcement does not exist (one statement, so
    an announcement deleted meanwhile is never a foreign-key error)."""
    record = await conn.fetchrow(
        """
        WITH target AS (SELECT id FROM announcements WHERE id = $2 FOR KEY SHARE),
             added AS (
                INSERT INTO announcement_dismissals (user_id, announcement_id, dismissed_at)
                SELECT $1, id, $3 FROM target
                ON CONFLICT (user_id, announcement_id) DO NOTHING
                RETURNING 1
             )
        SELECT EXISTS (SELECT 1 FROM target) AS found, EXISTS (SELECT 1 FROM added) AS added
        """,
        user_id,
        announcement_id,
        dismissed_at,
    )
    if not record["found"]:
        return None
    return bool(record["added"])
