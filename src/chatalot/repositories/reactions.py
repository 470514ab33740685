"""SQL for message reactions (table reactions). No permissions, no events: see
services/reactions.py."""

from __future__ import annotations

import uuid

from chatalot.db.database import Conn
from chatalot.ids import UserId


async def lock_message_reactions(conn: Conn, message_id: uuid.UUID) -> None:
    """Serialises reaction changes of one message until the transaction ends (so the limit
    of distinct emojis holds under concurrent adds, on every server process)."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock("
        "hashtextextended('chatalot:reactions:' || $1::uuid::text, 0))",
        message_id,
    )


async def count_distinct_emojis(conn: Conn, message_id: uuid.UUID) -> int:
    count: int = await conn.fetchval(
        "SELECT count(DISTINCT emoji) FROM reactions WHERE message_id = $1", message_id
    )
    return count


async def insert_reaction(
    conn: Conn, *, message_id: uuid.UUID, user_id: UserId, emoji: str
) -> None:
    """Idempotent: reacting twice with the same emoji keeps one row."""
    await conn.execute(
        """
        INSERT INTO reactions (id, message_id, user_id, emoji) VALUES ($1, $2, $3, $4)
        ON CONFLICT (message_id, user_id, emoji) DO NOTHING
        """,
        uuid.uuid4(),
        message_id,
        user_id,
        emoji,
    )


async def delete_reaction(
    conn: Conn, *, message_id: uuid.UUID, user_id: UserId, emoji: str
) -> bool:
    status = await conn.execute(
        "DELETE FROM reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3",
        message_id,
        user_id,
        emoji,
    )
    return bool(status == "DELETE 1")
