"""SQL for abuse reports (about a message, a user or a file; ``target_id`` is polymorphic and
has no foreign key). No permission checks here: see services/reports.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from chatalot.db.database import Conn
from chatalot.ids import UserId

_COLUMNS = (
    "id, reporter_id, report_type, target_id, reason, status, reviewed_by, reviewed_at,"
    " admin_notes, created_at"
)


@dataclass(frozen=True, slots=True)
class ReportRow:
    id: uuid.UUID
    reporter_id: UserId
    report_type: str
    target_id: uuid.UUID
    reason: str
    status: str
    reviewed_by: UserId | None
    reviewed_at: datetime | None
    admin_notes: str | None
    created_at: datetime


async def lock_reporter(conn: Conn, reporter_id: UserId) -> None:
    """Serialises this user's report submissions until the transaction ends (so the duplicate
    and hourly-limit checks hold across server processes)."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('chatalot:reports:' || $1::uuid::text, 0))",
        reporter_id,
    )


_TARGET_EXISTS = {
    "user": "SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)",
    "message": "SELECT EXISTS (SELECT 1 FROM messages WHERE id = $1)",
    "file": "SELECT EXISTS (SELECT 1 FROM files WHERE id = $1)",
}


async def exists_report_target(conn: Conn, *, report_type: str, target_id: uuid.UUID) -> bool:
    """Whether the user, message (deleted or not) or file ``target_id`` exists;
    ``report_type`` must be one of "user", "message", "file"."""
    return bool(await conn.fetchval(_TARGET_EXISTS[report_type], target_id))


async def exists_pending_report(
    conn: Conn, *, reporter_id: UserId, report_type: str, target_id: uuid.UUID
) -> bool:
    return bool(
        await conn.fetchval(
            """
            SELECT EXISTS (
                SELECT 1 FROM reports
                 WHERE reporter_id = $1 AND report_type = $2 AND target_id = $3
                   AND status = 'pending')
            """,
            reporter_id,
            report_type,
            target_id,
        )
    )


async def list_report_times_since(
    conn: Conn, reporter_id: UserId, since: datetime
) -> list[datetime]:
    """When this user filed reports after ``since``, oldest first."""
    records = await conn.fetch(
        """
        SELECT created_at FROM reports
         WHERE reporter_id = $1 AND created_at > $2
         ORDER BY created_at
        """,
        reporter_id,
        since,
    )
    return [r["created_at"] for r in records]


async def insert_report(
    conn: Conn,
    *,
    report_id: uuid.UUID,
    reporter_id: UserId,
    report_type: str,
    target_id: uuid.UUID,
    reason: str,
    created_at: datetime,
) -> ReportRow:
    record = await conn.fetchrow(
        f"""
        INSERT INTO reports (id, reporter_id, report_type, target_id, reason, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)
          RETURNING {_COLUMNS}
        """,
        report_id,
        reporter_id,
        report_type,
        target_id,
        reason,
        created_at,
    )
    return ReportRow(**dict(record))


async def list_reports(
    conn: Conn, *, status: str | None, limit: int, offset: int
) -> list[ReportRow]:
    """Newest first, optionally only those with ``status``."""
    records = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM reports
         WHERE ($1::text IS NULL OR status = $1)
         ORDER BY created_at DESC, id DESC
         LIMIT $2 OFFSET $3
        """,
        status,
        limit,
        offset,
    )
    return [ReportRow(**dict(r)) for r in records]


async def count_reports(conn: Conn, *, status: str | None) -> int:
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM reports WHERE ($1::text IS NULL OR status = $1)", status
        )
    )


async def update_report_review(
    conn: Conn,
    report_id: uuid.UUID,
    *,
    status: str,
    reviewed_by: UserId,
    reviewed_at: datetime,
    admin_notes: str | None,
) -> ReportRow | None:
    record = await conn.fetchrow(
        f"""
        UPDATE reports
           SET status = $2, reviewed_by = $3, reviewed_at = $4, admin_notes = $5
         WHERE id = $1
     RETURNING {_COLUMNS}
        """,
        report_id,
        status,
        reviewed_by,
        reviewed_at,
        admin_notes,
    )
    return ReportRow(**dict(record)) if record else None
