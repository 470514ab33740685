"""SQL for the audit log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chatalot.db.database import Conn
from chatalot.ids import UserId

_COLUMNS = "id, user_id, action, ip_address, user_agent, metadata, created_at"


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: uuid.UUID
    user_id: UserId | None
    action: str
    ip_address: str | None
    user_agent: str | None
    metadata: Any
    created_at: datetime


async def insert_audit(
    conn: Conn,
    *,
    entry_id: uuid.UUID,
    user_id: UserId | None,
    action: str,
    ip_address: str | None,
    user_agent: str | None,
    metadata: dict[str, Any] | None,
) -> None:
    await conn.execute(
        """
        INSERT INTO audit_log (id, user_id, action, ip_address, user_agent, metadata)
             VALUES ($1, $2, $3, $4, $5, $6)
        """,
        entry_id,
        user_id,
        action,
        ip_address,
        user_agent,
        metadata,
    )


async def list_audit(
    conn: Conn,
    *,
    action: str | None,
    user_id: UserId | None,
    limit: int,
    offset: int,
) -> list[AuditRow]:
    records = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM audit_log
         WHERE ($1::text IS NULL OR action = $1) AND ($2::uuid IS NULL OR user_id = $2)
         ORDER BY created_at DESC, id DESC
         LIMIT $3 OFFSET $4
        """,
        action,
        user_id,
        limit,
        offset,
    )
    return [AuditRow(**dict(r)) for r in records]


async def count_audit(conn: Conn, *, action: str | None, user_id: UserId | None) -> int:
    return int(
        await conn.fetchval(
            """
            SELECT count(*) FROM audit_log
             WHERE ($1::text IS NULL OR action = $1) AND ($2::uuid IS NULL OR user_id = $2)
            """,
            action,
            user_id,
        )
    )


async def delete_audit_older_than(conn: Conn, cutoff: datetime) -> int:
    status = await conn.execute("DELETE FROM audit_log WHERE created_at < $1", cutoff)
    return int(status.split()[-1])
