"""SQL for communities and their members, bans and invites (tables communities,
community_members, community_bans, community_invites). No permission checks here: see
services/permissions.py and services/communities.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chatalot.db.database import Conn
from chatalot.ids import CommunityId, UserId

# Every CommunityRow query selects these, with the live member count.
COMMUNITY_COLUMNS = (
    "c.id, c.name, c.description, c.icon_url, c.owner_id, c.created_at,"
    " c.who_can_create_groups, c.who_can_create_invites, c.discoverable, c.community_theme,"
    " c.banner_url, c.welcome_message,"
    " (SELECT count(*) FROM community_members m WHERE m.community_id = c.id) AS member_count"
)


@dataclass(frozen=True, slots=True)
class CommunityRow:
    id: CommunityId
    name: str
    description: str | None
    icon_url: str | None
    owner_id: UserId | None
    created_at: datetime
    who_can_create_groups: str
    who_can_create_invites: str
    discoverable: bool
    community_theme: dict[str, Any] | None
    banner_url: str | None
    welcome_message: str | None
    member_count: int


def community_row(record: Any) -> CommunityRow:
    return CommunityRow(**dict(record))


@dataclass(frozen=True, slots=True)
class Standing:
    """A user's place in one community: stored role (None: not a member) and ban."""

    role: str | None
    banned: bool


async def select_standing(conn: Conn, community_id: CommunityId, user_id: UserId) -> Standing:
    record = await conn.fetchrow(
        """
        SELECT (SELECT role FROM community_members
                 WHERE community_id = $1 AND user_id = $2) AS role,
               EXISTS (SELECT 1 FROM community_bans
                        WHERE community_id = $1 AND user_id = $2) AS banned
        """,
        community_id,
        user_id,
    )
    return Standing(role=record["role"], banned=record["banned"])


async def select_community(conn: Conn, community_id: CommunityId) -> CommunityRow | None:
    record = await conn.fetchrow(
        f"SELECT {COMMUNITY_COLUMNS} FROM communities c WHERE c.id = $1", community_id
    )
    return community_row(record) if record else None


async def select_member_role(conn: Conn, community_id: CommunityId, user_id: UserId) -> str | None:
    role: str | None = await conn.fetchval(
        "SELECT role FROM community_members WHERE community_id = $1 AND user_id = $2",
        community_id,
        user_id,
    )
    return role


async def list_member_ids(conn: Conn, community_id: CommunityId) -> list[UserId]:
    """Every member's id (the audience of community-wide events)."""
    rows = await conn.fetch(
        "SELECT user_id FROM community_members WHERE community_id = $1", community_id
    )
    return [r["user_id"] for r in rows]


async def exists_shared_community(conn: Conn, user_a: UserId, user_b: UserId) -> bool:
    return bool(
        await conn.fetchval(
            """
            SELECT EXISTS (
                SELECT 1 FROM community_members a
                  JOIN community_members b ON b.community_id = a.community_id
                 WHERE a.user_id = $1 AND b.user_id = $2)
            """,
            user_a,
            user_b,
        )
    )
