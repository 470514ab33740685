"""SQL for groups, their members and their channels (tables groups, group_members, and the
group side of channels / channel_members). Group invites: repositories/group_invites.py.
No permission checks here: see services/permissions.py and services/groups.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chatalot.db.database import Conn
from chatalot.ids import ChannelId, CommunityId, GroupId, UserId
from chatalot.repositories.channels import CHANNEL_COLUMNS, ChannelRow, channel_row

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


# -- group rows ------------------------------------------------------------------------------

DISCOVER_LIMIT = 200
GROUP_MEMBER_JOIN_CAP = 5000  # community members added to a new public group
CHANNEL_MEMBER_JOIN_CAP = 10_000  # group members added to a new group channel


async def lock_community_groups(conn: Conn, community_id: CommunityId) -> None:
    """Serialises group creation in one community until the transaction ends (so the
    per-community cap holds across server processes)."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('chatalot:groups:' || $1::uuid::text, 0))",
        community_id,
    )


async def lock_group(conn: Conn, group_id: GroupId) -> bool:
    """``SELECT ... FOR UPDATE`` of the group row (serialises channel creation in the group and
    ownership changes). False when the group does not exist."""
    found = await conn.fetchval("SELECT true FROM groups WHERE id = $1 FOR UPDATE", group_id)
    return bool(found)


async def count_community_groups(conn: Conn, community_id: CommunityId) -> int:
    return int(
        await conn.fetchval("SELECT count(*) FROM groups WHERE community_id = $1", community_id)
    )


async def insert_group(
    conn: Conn,
    *,
    group_id: GroupId,
    name: str,
    description: str | None,
    owner_id: UserId,
    community_id: CommunityId,
    visibility: str,
    assigned_member_id: UserId | None,
) -> None:
    await conn.execute(
        """
        INSERT INTO groups (id, name, description, owner_id, community_id, visibility,
                            discoverable, assigned_member_id, allow_invites)
        VALUES ($1, $2, $3, $4, $5, $6, true, $7, false)
        """,
        group_id,
        name,
        description,
        owner_id,
        community_id,
        visibility,
        assigned_member_id,
    )


async def insert_group_member(
    conn: Conn, group_id: GroupId, user_id: UserId, role: str = "member"
) -> bool:
    """Adds the membership unless it exists (then the stored role is kept). True if added."""
    status = await conn.execute(
        """
        INSERT INTO group_members (group_id, user_id, role) VALUES ($1, $2, $3)
        ON CONFLICT (group_id, user_id) DO NOTHING
        """,
        group_id,
        user_id,
        role,
    )
    return bool(status == "INSERT 0 1")


async def insert_community_members_into_group(
    conn: Conn, group_id: GroupId, community_id: CommunityId
) -> None:
    """Every member of the community (the first GROUP_MEMBER_JOIN_CAP by join time) joins the
    group as ``member``; existing memberships keep their role."""
    await conn.execute(
        """
        INSERT INTO group_members (group_id, user_id, role)
        SELECT $1, cm.user_id, 'member'
          FROM (SELECT user_id FROM community_members
                 WHERE community_id = $2
                 ORDER BY joined_at, user_id
                 LIMIT $3) cm
        ON CONFLICT (group_id, user_id) DO NOTHING
        """,
        group_id,
        community_id,
        GROUP_MEMBER_JOIN_CAP,
    )


async def insert_group_members_into_channels(
    conn: Conn, group_id: GroupId, *, discoverable_only: bool
) -> None:
    """Every group member joins the group's channels (or only its discoverable ones) as
    ``member``; existing channel memberships keep their role."""
    await conn.execute(
        """
        INSERT INTO channel_members (channel_id, user_id, role)
        SELECT ch.id, gm.user_id, 'member'
          FROM channels ch
          JOIN group_members gm ON gm.group_id = ch.group_id
         WHERE ch.group_id = $1 AND (ch.discoverable OR NOT $2)
        ON CONFLICT (channel_id, user_id) DO NOTHING
        """,
        group_id,
        discoverable_only,
    )


async def list_member_groups(conn: Conn, user_id: UserId) -> list[GroupRow]:
    """Every group ``user_id`` belongs to, by name."""
    rows = await conn.fetch(
        f"""
        SELECT {GROUP_COLUMNS}
          FROM groups g
          JOIN group_members gm ON gm.group_id = g.id AND gm.user_id = $1
         ORDER BY g.name, g.id
        """,
        user_id,
    )
    return [group_row(r) for r in rows]


async def list_all_groups(conn: Conn, limit: int = DISCOVER_LIMIT) -> list[GroupRow]:
    """Every group on the instance (the first ``limit`` by name)."""
    rows = await conn.fetch(
        f"SELECT {GROUP_COLUMNS} FROM groups g ORDER BY g.name, g.id LIMIT $1", limit
    )
    return [group_row(r) for r in rows]


async def list_discoverable_groups(
    conn: Conn, user_id: UserId, limit: int = DISCOVER_LIMIT
) -> list[GroupRow]:
    """Groups of the user's communities that are public and discoverable, or that the user
    already belongs to (the first ``limit`` by name)."""
    rows = await conn.fetch(
        f"""
        SELECT {GROUP_COLUMNS}
          FROM groups g
          JOIN community_members cm ON cm.community_id = g.community_id AND cm.user_id = $1
         WHERE (g.visibility = 'public' AND g.discoverable)
            OR EXISTS (SELECT 1 FROM group_members gm
                        WHERE gm.group_id = g.id AND gm.user_id = $1)
         ORDER BY g.name, g.id
         LIMIT $2
        """,
        user_id,
        limit,
    )
    return [group_row(r) for r in rows]


# Columns ``update_group`` may set (whitelist for the dynamic SET list).
UPDATABLE_GROUP_COLUMNS = frozenset(
    (
        "name",
        "description",
        "visibility",
        "discoverable",
        "allow_invites",
        "icon_url",
        "banner_url",
        "accent_color",
    )
)


async def update_group(conn: Conn, group_id: GroupId, changes: dict[str, Any]) -> GroupRow | None:
    """Sets the given columns (names from UPDATABLE_GROUP_COLUMNS; a value of None stores
    NULL) and ``updated_at``. Returns the updated group, None if it does not exist."""
    unknown = set(changes) - UPDATABLE_GROUP_COLUMNS
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    columns = sorted(changes)
    assignments = ", ".join(f"{c} = ${i}" for i, c in enumerate(columns, start=2))
    sets = f"{assignments}, updated_at = now()" if assignments else "updated_at = now()"
    found = await conn.fetchval(
        f"UPDATE groups SET {sets} WHERE id = $1 RETURNING true",
        group_id,
        *(changes[c] for c in columns),
    )
    if not found:
        return None
    return await select_group(conn, group_id)


async def delete_group(conn: Conn, group_id: GroupId) -> bool:
    """Deletes the group (its channels, messages, members and invites go with it)."""
    status = await conn.execute("DELETE FROM groups WHERE id = $1", group_id)
    return bool(status == "DELETE 1")


async def update_group_owner(conn: Conn, group_id: GroupId, owner_id: UserId) -> None:
    await conn.execute(
        "UPDATE groups SET owner_id = $2, updated_at = now() WHERE id = $1", group_id, owner_id
    )


async def update_group_member_role(
    conn: Conn, group_id: GroupId, user_id: UserId, role: str
) -> None:
    await conn.execute(
        "UPDATE group_members SET role = $3 WHERE group_id = $1 AND user_id = $2",
        group_id,
        user_id,
        role,
    )


# -- group members -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GroupMemberRow:
    user_id: UserId
    username: str
    display_name: str
    avatar_url: str | None
    role: str
    joined_at: datetime


async def list_group_members(
    conn: Conn, group_id: GroupId, *, limit: int, offset: int
) -> list[GroupMemberRow]:
    """Owner first, then admins, then everyone else; each by join time."""
    rows = await conn.fetch(
        """
        SELECT gm.user_id, u.username, u.display_name, u.avatar_url, gm.role, gm.joined_at
          FROM group_members gm
          JOIN users u ON u.id = gm.user_id
         WHERE gm.group_id = $1
         ORDER BY CASE gm.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END,
                  gm.joined_at, gm.user_id
         LIMIT $2 OFFSET $3
        """,
        group_id,
        limit,
        offset,
    )
    return [GroupMemberRow(**dict(r)) for r in rows]


# -- the group's channels ----------------------------------------------------------------------


async def list_visible_group_channels(
    conn: Conn, group_id: GroupId, user_id: UserId
) -> list[ChannelRow]:
    """The group's channels that are discoverable or have ``user_id`` as a member, oldest
    first."""
    rows = await conn.fetch(
        f"""
        SELECT {CHANNEL_COLUMNS}
          FROM channels ch
         WHERE ch.group_id = $1
           AND (ch.discoverable
                OR EXISTS (SELECT 1 FROM channel_members cm
                            WHERE cm.channel_id = ch.id AND cm.user_id = $2))
         ORDER BY ch.created_at, ch.id
        """,
        group_id,
        user_id,
    )
    return [channel_row(r) for r in rows]


async def count_group_channels(conn: Conn, group_id: GroupId) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM channels WHERE group_id = $1", group_id))


async def insert_group_members_into_channel(
    conn: Conn, channel_id: ChannelId, group_id: GroupId
) -> None:
    """The group's members (the first CHANNEL_MEMBER_JOIN_CAP by join time) join the channel
    as ``member``; existing channel memberships keep their role."""
    await conn.execute(
        """
        INSERT INTO channel_members (channel_id, user_id, role)
        SELECT $1, gm.user_id, 'member'
          FROM (SELECT user_id FROM group_members
                 WHERE group_id = $2
                 ORDER BY joined_at, user_id
                 LIMIT $3) gm
        ON CONFLICT (channel_id, user_id) DO NOTHING
        """,
        channel_id,
        group_id,
        CHANNEL_MEMBER_JOIN_CAP,
    )


# Columns ``update_group_channel`` may set (whitelist for the dynamic SET list).
UPDATABLE_CHANNEL_COLUMNS = frozenset(
    (
        "name",
        "topic",
        "read_only",
        "slow_mode_seconds",
        "discoverable",
        "archived",
        "voice_background",
    )
)


async def update_group_channel(
    conn: Conn, channel_id: ChannelId, changes: dict[str, Any]
) -> ChannelRow | None:
    """Sets the given channel columns (names from UPDATABLE_CHANNEL_COLUMNS; None stores
    NULL) and ``updated_at``. None if the channel does not exist."""
    unknown = set(changes) - UPDATABLE_CHANNEL_COLUMNS
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    columns = sorted(changes)
    assignments = "".join(f"{c} = ${i}, " for i, c in enumerate(columns, start=2))
    record = await conn.fetchrow(
        f"""
        UPDATE channels AS ch SET {assignments}updated_at = now()
         WHERE ch.id = $1
     RETURNING {CHANNEL_COLUMNS}
        """,
        channel_id,
        *(changes[c] for c in columns),
    )
    return channel_row(record) if record else None


async def delete_channel(conn: Conn, channel_id: ChannelId) -> bool:
    """Deletes the channel (its members, messages and the rest go with it)."""
    status = await conn.execute("DELETE FROM channels WHERE id = $1", channel_id)
    return bool(status == "DELETE 1")
