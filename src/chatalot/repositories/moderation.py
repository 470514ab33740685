"""SQL for channel timeouts and warnings (tables user_timeouts, warnings). No permission
checks here: see services/moderation.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from chatalot.db.database import Conn
from chatalot.ids import ChannelId, UserId

_TIMEOUT_COLUMNS = "id, user_id, channel_id, issued_by, reason, expires_at, created_at"
_WARNING_COLUMNS = "id, user_id, channel_id, issued_by, reason, created_at"


@dataclass(frozen=True, slots=True)
class TimeoutRow:
    id: uuid.UUID
    user_id: UserId
    channel_id: ChannelId
    issued_by: UserId | None
    reason: str | None
    expires_at: datetime
    created_at: datetime


@dataclass(frozen=True, slots=True)
class WarningRow:
    id: uuid.UUID
    user_id: UserId
    channel_id: ChannelId
    issued_by: UserId | None
    reason: str
    created_at: datetime


# -- timeouts --------------------------------------------------------------------------------


async def select_active_timeout(
    conn: Conn, channel_id: ChannelId, user_id: UserId, now: datetime
) -> TimeoutRow | None:
    """The user's timeout in the channel that has not expired at ``now`` (the latest, should
    there be several)."""
    record = await conn.fetchrow(
        f"""
        SELECT {_TIMEOUT_COLUMNS} FROM user_timeouts
         WHERE channel_id = $1 AND user_id = $2 AND expires_at > $3
         ORDER BY expires_at DESC
         LIMIT 1
        """,
        channel_id,
        user_id,
        now,
    )
    return TimeoutRow(**dict(record)) if record else None


async def delete_timeouts(conn: Conn, channel_id: ChannelId, user_id: UserId) -> int:
    """Every timeout (active or expired) of the user in the channel; how many there were."""
    status = await conn.execute(
        "DELETE FROM user_timeouts WHERE channel_id = $1 AND user_id = $2", channel_id, user_id
    )
    return int(status.split()[-1])


async def insert_timeout(
    conn: Conn,
    *,
    timeout_id: uuid.UUID,
    channel_id: ChannelId,
    user_id: UserId,
    issued_by: UserId,
    reason: str | None,
    expires_at: datetime,
    created_at: datetime,
) -> TimeoutRow:
    record = await conn.fetchrow(
        f"""
        INSERT INTO user_timeouts (id, user_id, channel_id, issued_by, reason, expires_at,
                                   created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
          RETURNING {_TIMEOUT_COLUMNS}
        """,
        timeout_id,
        user_id,
        channel_id,
        issued_by,
        reason,
        expires_at,
        created_at,
    )
    return TimeoutRow(**dict(record))


# -- warnings --------------------------------------------------------------------------------


async def insert_warning(
    conn: Conn,
    *,
    warning_id: uuid.UUID,
    channel_id: ChannelId,
    user_id: UserId,
    issued_by: UserId,
    reason: str,
    created_at: datetime,
) -> WarningRow:
    record = await conn.fetchrow(
        f"""
        INSERT INTO warnings (id, user_id, channel_id, issued_by, reason, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)
          RETURNING {_WARNING_COLUMNS}
        """,
        warning_id,
        user_id,
        channel_id,
        issued_by,
        reason,
        created_at,
    )
    return WarningRow(**dict(record))


async def count_warnings(conn: Conn, channel_id: ChannelId, user_id: UserId) -> int:
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM warnings WHERE channel_id = $1 AND user_id = $2",
            channel_id,
            user_id,
        )
    )


async def list_warnings(conn: Conn, channel_id: ChannelId, user_id: UserId) -> list[WarningRow]:
    """Newest first."""
    records = await conn.fetch(
        f"""
        SELECT {_WARNING_COLUMNS} FROM warnings
         WHERE channel_id = $1 AND user_id = $2
         ORDER BY created_at DESC, id DESC
        """,
        channel_id,
        user_id,
    )
    return [WarningRow(**dict(r)) for r in records]


async def delete_expired_timeouts(conn: Conn, now: datetime) -> int:
    """Timeouts that ended before ``now`` (they no longer count anyway); returns how many."""
    status = await conn.execute("DELETE FROM user_timeouts WHERE expires_at <= $1", now)
    return int(status.split()[-1])
