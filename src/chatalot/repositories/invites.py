"""SQL for registration invites (instance-level, created by admins)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from chatalot.db.database import Conn
from chatalot.ids import UserId

_COLUMNS = "id, code, created_by, max_uses, used_count, expires_at, created_at"


@dataclass(frozen=True, slots=True)
class RegistrationInviteRow:
    id: uuid.UUID
    code: str
    created_by: UserId | None
    max_uses: int | None
    used_count: int
    expires_at: datetime | None
    created_at: datetime


async def consume_registration_invite(
    conn: Conn, code: str, now: datetime
) -> RegistrationInviteRow | None:
    """Atomically uses one seat of a valid invite; None when unknown, expired or used up."""
    record = await conn.fetchrow(
        f"""
        UPDATE registration_invites SET used_count = used_count + 1
         WHERE code = $1
           AND (max_uses IS NULL OR used_count < max_uses)
           AND (expires_at IS NULL OR expires_at > $2)
     RETURNING {_COLUMNS}
        """,
        code,
        now,
    )
    return RegistrationInviteRow(**dict(record)) if record else None


async def insert_registration_invite(
    conn: Conn,
    *,
    invite_id: uuid.UUID,
    code: str,
    created_by: UserId,
    max_uses: int | None,
    expires_at: datetime | None,
) -> RegistrationInviteRow:
    record = await conn.fetchrow(
        f"""
        INSERT INTO registration_invites (id, code, created_by, max_uses, expires_at)
             VALUES ($1, $2, $3, $4, $5)
          RETURNING {_COLUMNS}
        """,
        invite_id,
        code,
        created_by,
        max_uses,
        expires_at,
    )
    return RegistrationInviteRow(**dict(record))


async def list_registration_invites(conn: Conn, limit: int) -> list[RegistrationInviteRow]:
    records = await conn.fetch(
        f"SELECT {_COLUMNS} FROM registration_invites ORDER BY created_at DESC, id DESC LIMIT $1",
        limit,
    )
    return [RegistrationInviteRow(**dict(r)) for r in records]


async def delete_registration_invite(conn: Conn, invite_id: uuid.UUID) -> bool:
    status = await conn.execute("DELETE FROM registration_invites WHERE id = $1", invite_id)
    return bool(status == "DELETE 1")
