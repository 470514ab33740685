"""SQL for the instance admins' view of every community (tables communities, users,
community_members, groups, channels). No permission checks here: see
services/admin_communities.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chatalot.db.database import Conn
from chatalot.db.like import contains_pattern
from chatalot.ids import CommunityId, UserId


@dataclass(frozen=True, slots=True)
class AdminCommunityRow:
    id: CommunityId
    name: str
    description: str | None
    owner_id: UserId | None
    owner_username: str | None
    member_count: int
    group_count: int
    channel_count: int
    discoverable: bool
    created_at: datetime


_SQL_LIST_ADMIN_COMMUNITIES = """
    SELECT c.id, c.name, c.description, c.owner_id, u.username AS owner_username,
           (SELECT count(*) FROM community_members m WHERE m.community_id = c.id)
               AS member_count,
           (SELECT count(*) FROM groups g WHERE g.community_id = c.id) AS group_count,
           (SELECT count(*) FROM channels ch JOIN groups g ON g.id = ch.group_id
             WHERE g.community_id = c.id) AS channel_count,
           c.discoverable, c.created_at
      FROM communities c
      LEFT JOIN users u ON u.id = c.owner_id
     WHERE $1::text IS NULL OR c.name ILIKE $1 ESCAPE '\\'
     ORDER BY c.created_at DESC, c.id DESC
     LIMIT $2 OFFSET $3
"""


async def list_admin_communities(
    conn: Conn, *, search: str | None, limit: int, offset: int
) -> list[AdminCommunityRow]:
    """Newest communities first, with their counts (one statement, whatever the page size);
    ``search`` is matched literally (wildcards escaped), ignoring case, against the name."""
    pattern = contains_pattern(search) if search else None
    records = await conn.fetch(_SQL_LIST_ADMIN_COMMUNITIES, pattern, limit, offset)
    return [AdminCommunityRow(**dict(r)) for r in records]


async def count_admin_communities(conn: Conn, *, search: str | None) -> int:
    """How many communities ``list_admin_communities`` pages through."""
    pattern = contains_pattern(search) if search else None
    total: int = await conn.fetchval(
        """
        SELECT count(*) FROM communities c
         WHERE $1::text IS NULL OR c.name ILIKE $1 ESCAPE '\\'
        """,
        pattern,
    )
    return total
