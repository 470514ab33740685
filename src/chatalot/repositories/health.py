"""The database liveness probe."""

from __future__ import annotations

from chatalot.db.database import Conn


async def select_one(conn: Conn) -> bool:
    """True when the server answers ``SELECT 1``."""
    return bool(await conn.fetchval("SELECT 1") == 1)
