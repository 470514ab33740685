"""SQL for groups and their members and invites (tables groups, group_members,
group_invites). No permission checks here: see services/permissions.py and services/groups.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chatalot.db.database import Conn
from chatalot.ids import CommunityId, GroupId, UserId

# Every GroupRow query selects these, with the live member count.
GROUP_COLUMNS = (
    "g.id, g.name, g.description, g.owner_id, g.community_id, g.created_at, g.visibility,"
    " g.discoverable, g.assigned_member_id, g.allow_invites, g.icon_url, g.banner_url,"
    " g.accent_color,"
    " (SELECT count(*) FROM group_members m WHERE m.group_id = g.id) AS member_count"
)


@dataclass(frozen=True, slots=True)
class GroupRow:
    id: GroupId
    name: str
    description: str | None
    owner_id: UserId | None
    community_id: CommunityId
    created_at: datetime
    visibility: str
    discoverable: bool
    assigned_member_id: UserId | None
    allow_invites: bool
    icon_url: str | None
    banner_url: str | None
    accent_color: str | None
    member_count: int

    @property
    def personal(self) -> bool:
        return self.assigned_member_id is not None


def group_row(record: Any) -> GroupRow:
    return GroupRow(**dict(record))


async def select_group(conn: Conn, group_id: GroupId) -> GroupRow | None:
    record = await conn.fetchrow(f"SELECT {GROUP_COLUMNS} FROM groups g WHERE g.id = $1", group_id)
    return group_row(record) if record else None


async def select_group_role(conn: Conn, group_id: GroupId, user_id: UserId) -> str | None:
    role: str | None = await conn.fetchval(
        "SELECT role FROM group_members WHERE group_id = $1 AND user_id = $2", group_id, user_id
    )
    return role


async def list_member_groups_in_community(
    conn: Conn, community_id: CommunityId, user_id: UserId
) -> list[GroupRow]:
    """The community's groups that ``user_id`` belongs to, by name."""
    rows = await conn.fetch(
        f"""
        SELECT {GROUP_COLUMNS}
          FROM groups g
          JOIN group_members gm ON gm.group_id = g.id AND gm.user_id = $2
         WHERE g.community_id = $1
         ORDER BY g.name, g.id
        """,
        community_id,
        user_id,
    )
    return [group_row(r) for r in rows]
