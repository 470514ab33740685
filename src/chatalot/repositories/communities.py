"""SQL for communities and their members, bans, invites and custom emoji (tables communities,
community_members, community_bans, community_invites, custom_emojis). No permission checks here: see
services/permissions.py and services/communities.py."""

from __future__ import annotations

import uuid
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
    """A user's place in one community: stored role (None: not a member), ban, and whether
    the community exists at all."""

    role: str | None
    banned: bool
    exists: bool = True


async def select_standing(conn: Conn, community_id: CommunityId, user_id: UserId) -> Standing:
    record = await conn.fetchrow(
        """
        SELECT (SELECT role FROM community_members
                 WHERE community_id = $1 AND user_id = $2) AS role,
               EXISTS (SELECT 1 FROM community_bans
                        WHERE community_id = $1 AND user_id = $2) AS banned,
               EXISTS (SELECT 1 FROM communities WHERE id = $1) AS exists
        """,
        community_id,
        user_id,
    )
    return Standing(role=record["role"], banned=record["banned"], exists=record["exists"])


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


# -- communities -----------------------------------------------------------------------------


async def list_user_communities(
    conn: Conn, user_id: UserId, *, limit: int, offset: int
) -> list[CommunityRow]:
    """The communities ``user_id`` is a member of, by name."""
    rows = await conn.fetch(
        f"""
        SELECT {COMMUNITY_COLUMNS}
          FROM communities c
          JOIN community_members me ON me.community_id = c.id AND me.user_id = $1
         ORDER BY c.name, c.id
         LIMIT $2 OFFSET $3
        """,
        user_id,
        limit,
        offset,
    )
    return [community_row(r) for r in rows]


async def insert_community(
    conn: Conn,
    *,
    community_id: CommunityId,
    name: str,
    description: str | None,
    owner_id: UserId,
) -> None:
    """The community and its owner's ``owner`` membership."""
    await conn.execute(
        "INSERT INTO communities (id, name, description, owner_id) VALUES ($1, $2, $3, $4)",
        community_id,
        name,
        description,
        owner_id,
    )
    await conn.execute(
        "INSERT INTO community_members (community_id, user_id, role) VALUES ($1, $2, 'owner')",
        community_id,
        owner_id,
    )


# Columns update_community may set (whitelist for the dynamic SET list).
UPDATABLE_COLUMNS = frozenset(
    (
        "name",
        "description",
        "icon_url",
        "banner_url",
        "who_can_create_groups",
        "who_can_create_invites",
        "discoverable",
        "community_theme",
        "welcome_message",
    )
)


async def update_community(
    conn: Conn, community_id: CommunityId, changes: dict[str, Any]
) -> CommunityRow | None:
    """Sets the given columns (keys of ``changes``, from UPDATABLE_COLUMNS) and ``updated_at``;
    None when the community does not exist."""
    unknown = set(changes) - UPDATABLE_COLUMNS
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    columns = sorted(changes)
    sets = "".join(f", {column} = ${i}" for i, column in enumerate(columns, start=2))
    updated = await conn.fetchval(
        f"UPDATE communities SET updated_at = now(){sets} WHERE id = $1 RETURNING id",
        community_id,
        *(changes[c] for c in columns),
    )
    if updated is None:
        return None
    return await select_community(conn, community_id)


async def delete_community(conn: Conn, community_id: CommunityId) -> bool:
    """Deletes the community (members, bans, invites, groups with their channels, emoji rows
    go with it: ON DELETE CASCADE)."""
    status = await conn.execute("DELETE FROM communities WHERE id = $1", community_id)
    return bool(status == "DELETE 1")


@dataclass(frozen=True, slots=True)
class LockedCommunity:
    owner_id: UserId | None


async def lock_community(conn: Conn, community_id: CommunityId) -> LockedCommunity | None:
    """Locks the community row (``FOR UPDATE``) until the transaction ends; None when it does
    not exist."""
    record = await conn.fetchrow(
        "SELECT owner_id FROM communities WHERE id = $1 FOR UPDATE", community_id
    )
    return LockedCommunity(record["owner_id"]) if record else None


async def update_owner(conn: Conn, community_id: CommunityId, owner_id: UserId) -> None:
    await conn.execute(
        "UPDATE communities SET owner_id = $2, updated_at = now() WHERE id = $1",
        community_id,
        owner_id,
    )


# -- members ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommunityMemberRow:
    user_id: UserId
    username: str
    display_name: str
    avatar_url: str | None
    role: str
    nickname: str | None
    joined_at: datetime


async def list_members(
    conn: Conn, community_id: CommunityId, *, limit: int, offset: int
) -> list[CommunityMemberRow]:
    """Owner, admins, moderators, then everyone else; each by join time."""
    rows = await conn.fetch(
        """
        SELECT m.user_id, u.username, u.display_name, u.avatar_url, m.role, m.nickname,
               m.joined_at
          FROM community_members m
          JOIN users u ON u.id = m.user_id
         WHERE m.community_id = $1
         ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1
                              WHEN 'moderator' THEN 2 ELSE 3 END,
                  m.joined_at, m.user_id
         LIMIT $2 OFFSET $3
        """,
        community_id,
        limit,
        offset,
    )
    return [CommunityMemberRow(**dict(r)) for r in rows]


async def select_member_role_for_update(
    conn: Conn, community_id: CommunityId, user_id: UserId
) -> str | None:
    """The stored role (None: not a member), with the membership row locked (``FOR UPDATE``)
    until the transaction ends."""
    role: str | None = await conn.fetchval(
        "SELECT role FROM community_members WHERE community_id = $1 AND user_id = $2 FOR UPDATE",
        community_id,
        user_id,
    )
    return role


async def select_user_is_instance_owner(conn: Conn, user_id: UserId) -> bool | None:
    """Whether the user is the instance owner; None when there is no such user."""
    value: bool | None = await conn.fetchval("SELECT is_owner FROM users WHERE id = $1", user_id)
    return value


async def update_member_role(
    conn: Conn, community_id: CommunityId, user_id: UserId, role: str
) -> bool:
    status = await conn.execute(
        "UPDATE community_members SET role = $3 WHERE community_id = $1 AND user_id = $2",
        community_id,
        user_id,
        role,
    )
    return bool(status == "UPDATE 1")


async def update_owner_memberships(
    conn: Conn, community_id: CommunityId, *, new_owner: UserId
) -> None:
    """``new_owner`` becomes the only ``owner`` member: any other ``owner`` becomes ``admin``."""
    await conn.execute(
        """
        UPDATE community_members
           SET role = CASE WHEN user_id = $2 THEN 'owner' ELSE 'admin' END
         WHERE community_id = $1 AND (user_id = $2 OR role = 'owner')
        """,
        community_id,
        new_owner,
    )


async def update_member_nickname(
    conn: Conn, community_id: CommunityId, user_id: UserId, nickname: str | None
) -> bool:
    status = await conn.execute(
        "UPDATE community_members SET nickname = $3 WHERE community_id = $1 AND user_id = $2",
        community_id,
        user_id,
        nickname,
    )
    return bool(status == "UPDATE 1")


# -- bans ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommunityBanRow:
    user_id: UserId
    username: str
    display_name: str
    reason: str | None
    created_at: datetime


async def list_bans(conn: Conn, community_id: CommunityId, *, limit: int) -> list[CommunityBanRow]:
    """Newest first."""
    rows = await conn.fetch(
        """
        SELECT b.user_id, u.username, u.display_name, b.reason, b.created_at
          FROM community_bans b
          JOIN users u ON u.id = b.user_id
         WHERE b.community_id = $1
         ORDER BY b.created_at DESC, b.user_id
         LIMIT $2
        """,
        community_id,
        limit,
    )
    return [CommunityBanRow(**dict(r)) for r in rows]


async def insert_ban(
    conn: Conn,
    community_id: CommunityId,
    user_id: UserId,
    *,
    banned_by: UserId,
    reason: str | None,
) -> bool:
    """False when the user was already banned (the earlier ban and its reason are kept)."""
    status = await conn.execute(
        """
        INSERT INTO community_bans (community_id, user_id, banned_by, reason)
             VALUES ($1, $2, $3, $4)
        ON CONFLICT (community_id, user_id) DO NOTHING
        """,
        community_id,
        user_id,
        banned_by,
        reason,
    )
    return bool(status == "INSERT 0 1")


async def delete_ban(conn: Conn, community_id: CommunityId, user_id: UserId) -> bool:
    status = await conn.execute(
        "DELETE FROM community_bans WHERE community_id = $1 AND user_id = $2",
        community_id,
        user_id,
    )
    return bool(status == "DELETE 1")


# -- custom emojis ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CustomEmojiRow:
    id: uuid.UUID
    community_id: CommunityId
    shortcode: str
    content_type: str
    uploaded_by: UserId | None
    created_at: datetime


async def list_custom_emojis(
    conn: Conn, community_id: CommunityId, *, limit: int
) -> list[CustomEmojiRow]:
    """By shortcode."""
    rows = await conn.fetch(
        """
        SELECT id, community_id, shortcode, content_type, uploaded_by, created_at
          FROM custom_emojis
         WHERE community_id = $1
         ORDER BY shortcode
         LIMIT $2
        """,
        community_id,
        limit,
    )
    return [CustomEmojiRow(**dict(r)) for r in rows]
