"""SQL for the community discover list (tables communities, community_members,
community_bans). No permission checks here: see services/community_discover.py."""

from __future__ import annotations

from dataclasses import dataclass

from chatalot.db.database import Conn
from chatalot.ids import CommunityId, UserId


@dataclass(frozen=True, slots=True)
class DiscoverCommunityRow:
    id: CommunityId
    name: str
    description: str | None
    icon_url: str | None
    banner_url: str | None
    member_count: int
    is_member: bool


_SQL_LIST_DISCOVERABLE_COMMUNITIES = """
    SELECT c.id, c.name, c.description, c.icon_url, c.banner_url,
           (SELECT count(*) FROM community_members m WHERE m.community_id = c.id)
               AS member_count,
           EXISTS (SELECT 1 FROM community_members m
                    WHERE m.community_id = c.id AND m.user_id = $1) AS is_member
      FROM communities c
     WHERE c.discoverable
       AND NOT EXISTS (SELECT 1 FROM community_bans b
                        WHERE b.community_id = c.id AND b.user_id = $1)
     ORDER BY member_count DESC, c.name, c.id
     LIMIT $2 OFFSET $3
"""


async def list_discoverable_communities(
    conn: Conn, user_id: UserId, *, limit: int, offset: int
) -> list[DiscoverCommunityRow]:
    """Discoverable communities ``user_id`` is not banned from, biggest first, then by name,
    with whether ``user_id`` is a member (one statement)."""
    records = await conn.fetch(_SQL_LIST_DISCOVERABLE_COMMUNITIES, user_id, limit, offset)
    return [DiscoverCommunityRow(**dict(r)) for r in records]
