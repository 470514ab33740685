"""SQL for group invites (table group_invites). No permission checks here: see
services/group_invites.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from chatalot.db.database import Conn
from chatalot.ids import GroupId, UserId

_COLUMNS = "id, code, group_id, created_by, max_uses, used_count, expires_at, created_at"
LIST_LIMIT = 100


@dataclass(frozen=True, slots=True)
class GroupInviteRow:
    id: uuid.UUID
    code: str
    group_id: GroupId
    created_by: UserId | None
    max_uses: int | None
    used_count: int
    expires_at: datetime | None
    created_at: datetime


async def insert_group_invite(
    conn: Conn,
    *,
    invite_id: uuid.UUID,
    group_id: GroupId,
    code: str,
    created_by: UserId,
    max_uses: int | None,
    expires_at: datetime | None,
    created_at: datetime,
) -> GroupInviteRow:
    record = await conn.fetchrow(
        f"""
        INSERT INTO group_invites (id, group_id, code, created_by, max_uses, expires_at,
                                   created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        RETURNING {_COLUMNS}
        """,
        invite_id,
        group_id,
        code,
        created_by,
        max_uses,
        expires_at,
        created_at,
    )
    return GroupInviteRow(**dict(record))


async def list_group_invites(
    conn: Conn, group_id: GroupId, limit: int = LIST_LIMIT
) -> list[GroupInviteRow]:
    """The group's newest invites first."""
    rows = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM group_invites
         WHERE group_id = $1
         ORDER BY created_at DESC, id DESC
         LIMIT $2
        """,
        group_id,
        limit,
    )
    return [GroupInviteRow(**dict(r)) for r in rows]


async def delete_group_invite(conn: Conn, invite_id: uuid.UUID, group_id: GroupId) -> bool:
    """Deletes the invite if it belongs to the group."""
    status = await conn.execute(
        "DELETE FROM group_invites WHERE id = $1 AND group_id = $2", invite_id, group_id
    )
    return bool(status == "DELETE 1")


async def select_group_invite_by_code(conn: Conn, code: str) -> GroupInviteRow | None:
    record = await conn.fetchrow(f"SELECT {_COLUMNS} FROM group_invites WHERE code = $1", code)
    return GroupInviteRow(**dict(record)) if record else None


async def consume_group_invite(conn: Conn, invite_id: uuid.UUID, now: datetime) -> bool:
    """Atomically uses one seat of the invite: one conditional UPDATE, so concurrent accepts
    never push ``used_count`` past ``max_uses``. False when it is used up or expired."""
    found = await conn.fetchval(
        """
        UPDATE group_invites SET used_count = used_count + 1
         WHERE id = $1
           AND (max_uses IS NULL OR used_count < max_uses)
           AND (expires_at IS NULL OR expires_at > $2)
     RETURNING true
        """,
        invite_id,
        now,
    )
    return bool(found)
