"""SQL for user_blocks: one-directional "blocker does not want to hear from blocked" rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chatalot.db.database import Conn
from chatalot.db.errors import on_foreign_key_violation
from chatalot.ids import UserId


@dataclass(frozen=True, slots=True)
class BlockRow:
    blocker_id: UserId
    blocked_id: UserId
    created_at: datetime


async def insert_block(conn: Conn, *, blocker_id: UserId, blocked_id: UserId) -> bool:
    """Adds the block; False when it already existed. Raises NotFound("user not found") when
    either user does not exist."""
    with on_foreign_key_violation("user not found"):
        status = await conn.execute(
            """
            INSERT INTO user_blocks (blocker_id, blocked_id) VALUES ($1, $2)
            ON CONFLICT (blocker_id, blocked_id) DO NOTHING
            """,
            blocker_id,
            blocked_id,
        )
    return bool(status == "INSERT 0 1")


async def delete_block(conn: Conn, *, blocker_id: UserId, blocked_id: UserId) -> bool:
    status = await conn.execute(
        "DELETE FROM user_blocks WHERE blocker_id = $1 AND blocked_id = $2",
        blocker_id,
        blocked_id,
    )
    return bool(status == "DELETE 1")


async def list_blocks(conn: Conn, blocker_id: UserId) -> list[BlockRow]:
    """The user's blocks, newest first."""
    records = await conn.fetch(
        """
        SELECT blocker_id, blocked_id, created_at FROM user_blocks
         WHERE blocker_id = $1
         ORDER BY created_at DESC, blocked_id
        """,
        blocker_id,
    )
    return [BlockRow(**dict(r)) for r in records]


async def exists_block_between(conn: Conn, *, user_a: UserId, user_b: UserId) -> bool:
    """True when either user blocked the other (DM creation and DM sends check this)."""
    return bool(
        await conn.fetchval(
            """
            SELECT EXISTS (SELECT 1 FROM user_blocks
                            WHERE (blocker_id = $1 AND blocked_id = $2)
                               OR (blocker_id = $2 AND blocked_id = $1))
            """,
            user_a,
            user_b,
        )
    )
