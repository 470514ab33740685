"""SQL for bookmarks (table bookmarks). No permission checks: see services/bookmarks.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from chatalot.db.database import Conn
from chatalot.db.errors import on_foreign_key_violation
from chatalot.ids import UserId

_COLUMNS = "id, message_id, note, created_at"


@dataclass(frozen=True, slots=True)
class BookmarkRow:
    id: uuid.UUID
    message_id: uuid.UUID
    note: str | None
    created_at: datetime


async def insert_bookmark(
    conn: Conn,
    *,
    bookmark_id: uuid.UUID,
    user_id: UserId,
    message_id: uuid.UUID,
    note: str | None,
    created_at: datetime,
) -> BookmarkRow | None:
    """None when the user has already bookmarked that message (also when a concurrent request
    just did: the unique (user_id, message_id) decides). NotFound ``message not found`` when the
    message was deleted meanwhile."""
    with on_foreign_key_violation("message not found"):
        record = await conn.fetchrow(
            f"""
            INSERT INTO bookmarks (id, user_id, message_id, note, created_at)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (user_id, message_id) DO NOTHING
            RETURNING {_COLUMNS}
            """,
            bookmark_id,
            user_id,
            message_id,
            note,
            created_at,
        )
    return BookmarkRow(**dict(record)) if record else None


async def list_user_bookmarks(
    conn: Conn, user_id: UserId, *, limit: int, offset: int
) -> list[BookmarkRow]:
    """Newest first."""
    records = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM bookmarks
         WHERE user_id = $1
         ORDER BY created_at DESC, id DESC
         LIMIT $2 OFFSET $3
        """,
        user_id,
        limit,
        offset,
    )
    return [BookmarkRow(**dict(r)) for r in records]


async def delete_bookmark(conn: Conn, bookmark_id: uuid.UUID, user_id: UserId) -> bool:
    """Only the user's own bookmark; True when one was removed."""
    status = await conn.execute(
        "DELETE FROM bookmarks WHERE id = $1 AND user_id = $2", bookmark_id, user_id
    )
    return str(status) == "DELETE 1"
