"""SQL for in-app feedback submissions (the ``feedback`` table, ours: migration 042)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chatalot.db.database import Conn
from chatalot.ids import UserId

# The screenshot bytes are written but never read back into a row (up to 5 MiB each).
_COLUMNS = (
    "id, user_id, category, title, description, screenshot_type, github_issue_number, created_at"
)


@dataclass(frozen=True, slots=True)
class FeedbackRow:
    id: uuid.UUID
    user_id: UserId | None
    category: str
    title: str
    description: str
    screenshot_type: str | None
    github_issue_number: int | None
    created_at: datetime


def _row(record: Any) -> FeedbackRow:
    return FeedbackRow(**dict(record))


async def lock_user_feedback(conn: Conn, user_id: UserId) -> None:
    """Serialises one user's submissions until the transaction ends (the hourly limit is
    counted and enforced atomically, on every server process)."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext('chatalot:feedback:' || $1::uuid::text))", user_id
    )


async def list_feedback_times_since(conn: Conn, user_id: UserId, since: datetime) -> list[datetime]:
    """When the user's submissions after ``since`` were made, oldest first."""
    records = await conn.fetch(
        """
        SELECT created_at FROM feedback
         WHERE user_id = $1 AND created_at > $2
         ORDER BY created_at
        """,
        user_id,
        since,
    )
    return [r["created_at"] for r in records]


async def insert_feedback(
    conn: Conn,
    *,
    feedback_id: uuid.UUID,
    user_id: UserId,
    category: str,
    title: str,
    description: str,
    screenshot: bytes | None,
    screenshot_type: str | None,
    created_at: datetime,
) -> FeedbackRow:
    record = await conn.fetchrow(
        f"""
        INSERT INTO feedback (id, user_id, category, title, description, screenshot,
                              screenshot_type, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
          RETURNING {_COLUMNS}
        """,
        feedback_id,
        user_id,
        category,
        title,
        description,
        screenshot,
        screenshot_type,
        created_at,
    )
    return _row(record)


async def select_feedback(conn: Conn, feedback_id: uuid.UUID) -> FeedbackRow | None:
    record = await conn.fetchrow(f"SELECT {_COLUMNS} FROM feedback WHERE id = $1", feedback_id)
    return _row(record) if record else None


async def update_feedback_issue_number(
    conn: Conn, feedback_id: uuid.UUID, issue_number: int
) -> bool:
    status = await conn.execute(
        "UPDATE feedback SET github_issue_number = $2 WHERE id = $1", feedback_id, issue_number
    )
    return bool(status == "UPDATE 1")
