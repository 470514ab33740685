"""SQL for community invites (table community_invites) and the membership an accepted invite
creates (community_members). No permission checks here: see services/community_invites.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from chatalot.db.database import Conn
from chatalot.ids import CommunityId, UserId

_COLUMNS = "id, code, community_id, created_by, max_uses, used_count, expires_at, created_at"
LIST_LIMIT = 200


@dataclass(frozen=True, slots=True)
class CommunityInviteRow:
    id: uuid.UUID
    code: str
    community_id: CommunityId
    created_by: UserId | None
    max_uses: int | None
    used_count: int
    expires_at: datetime | None
    created_at: datetime


async def insert_community_invite(
    conn: Conn,
    *,
    invite_id: uuid.UUID,
    community_id: CommunityId,
    code: str,
    created_by: UserId,
    max_uses: int | None,
    expires_at: datetime | None,
    created_at: datetime,
) -> CommunityInviteRow:
    record = await conn.fetchrow(
        f"""
        INSERT INTO community_invites (id, community_id, code, created_by, max_uses,
                                       expires_at, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        RETURNING {_COLUMNS}
        """,
        invite_id,
        community_id,
        code,
        created_by,
        max_uses,
        expires_at,
        created_at,
    )
    return CommunityInviteRow(**dict(record))


async def list_community_invites(
    conn: Conn, community_id: CommunityId, limit: int = LIST_LIMIT
) -> list[CommunityInviteRow]:
    """The community's newest invites first."""
    rows = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM community_invites
         WHERE community_id = $1
         ORDER BY created_at DESC, id DESC
         LIMIT $2
        """,
        community_id,
        limit,
    )
    return [CommunityInviteRow(**dict(r)) for r in rows]


async def delete_community_invite(
    conn: Conn, invite_id: uuid.UUID, community_id: CommunityId
) -> bool:
    """Deletes the invite if it belongs to the community."""
    status = await conn.execute(
        "DELETE FROM community_invites WHERE id = $1 AND community_id = $2",
        invite_id,
        community_id,
    )
    return bool(status == "DELETE 1")


async def select_community_invite_by_code(conn: Conn, code: str) -> CommunityInviteRow | None:
    record = await conn.fetchrow(f"SELECT {_COLUMNS} FROM community_invites WHERE code = $1", code)
    return CommunityInviteRow(**dict(record)) if record else None


async def consume_community_invite(conn: Conn, invite_id: uuid.UUID, now: datetime) -> bool:
    """Atomically uses one seat of the invite: one conditional UPDATE, so concurrent accepts
    never push ``used_count`` past ``max_uses``. False when it is used up or expired."""
    found = await conn.fetchval(
        """
        UPDATE community_invites SET used_count = used_count + 1
         WHERE id = $1
           AND (max_uses IS NULL OR used_count < max_uses)
           AND (expires_at IS NULL OR expires_at > $2)
     RETURNING true
        """,
        invite_id,
        now,
    )
    return bool(found)


async def insert_community_member(
    conn: Conn, community_id: CommunityId, user_id: UserId, role: str = "member"
) -> bool:
    """Adds the membership unless the user already is a member. True if added."""
    status = await conn.execute(
        """
        INSERT INTO community_members (community_id, user_id, role) VALUES ($1, $2, $3)
        ON CONFLICT (community_id, user_id) DO NOTHING
        """,
        community_id,
        user_id,
        role,
    )
    return bool(status == "INSERT 0 1")
