"""SQL for channels and their members and bans (tables channels, channel_members,
channel_bans). No permission checks here: see services/permissions.py and services/channels.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chatalot.db.database import Conn
from chatalot.ids import ChannelId, CommunityId, GroupId, UserId

CHANNEL_COLUMNS = (
    "ch.id, ch.name, ch.channel_type::text AS channel_type, ch.topic, ch.created_by,"
    " ch.created_at, ch.group_id, ch.read_only, ch.slow_mode_seconds, ch.message_ttl_seconds,"
    " ch.discoverable, ch.archived, ch.voice_background"
)


@dataclass(frozen=True, slots=True)
class ChannelRow:
    id: ChannelId
    name: str | None
    channel_type: str  # text, voice, dm, gallery
    topic: str | None
    created_by: UserId | None
    created_at: datetime
    group_id: GroupId | None
    read_only: bool
    slow_mode_seconds: int
    message_ttl_seconds: int | None
    discoverable: bool
    archived: bool
    voice_background: str | None


def channel_row(record: Any) -> ChannelRow:
    return ChannelRow(**dict(record))


@dataclass(frozen=True, slots=True)
class ChannelPlace:
    """Where a channel sits: its group and that group's community (None for DMs and
    standalone channels)."""

    channel: ChannelRow
    community_id: CommunityId | None


async def select_channel(conn: Conn, channel_id: ChannelId) -> ChannelRow | None:
    record = await conn.fetchrow(
        f"SELECT {CHANNEL_COLUMNS} FROM channels ch WHERE ch.id = $1", channel_id
    )
    return channel_row(record) if record else None


async def select_channel_place(conn: Conn, channel_id: ChannelId) -> ChannelPlace | None:
    record = await conn.fetchrow(
        f"""
        SELECT {CHANNEL_COLUMNS}, g.community_id AS community_id
          FROM channels ch
          LEFT JOIN groups g ON g.id = ch.group_id
         WHERE ch.id = $1
        """,
        channel_id,
    )
    if record is None:
        return None
    values = dict(record)
    community_id = values.pop("community_id")
    return ChannelPlace(channel_row(values), community_id)


async def select_channel_role(conn: Conn, channel_id: ChannelId, user_id: UserId) -> str | None:
    role: str | None = await conn.fetchval(
        "SELECT role FROM channel_members WHERE channel_id = $1 AND user_id = $2",
        channel_id,
        user_id,
    )
    return role


async def insert_channel(
    conn: Conn,
    *,
    channel_id: ChannelId,
    name: str | None,
    channel_type: str,
    topic: str | None,
    created_by: UserId | None,
    group_id: GroupId | None,
    discoverable: bool = True,
) -> ChannelRow:
    record = await conn.fetchrow(
        f"""
        INSERT INTO channels AS ch (id, name, channel_type, topic, created_by, group_id,
                                    discoverable)
        VALUES ($1, $2, $3::channel_type, $4, $5, $6, $7)
        RETURNING {CHANNEL_COLUMNS}
        """,
        channel_id,
        name,
        channel_type,
        topic,
        created_by,
        group_id,
        discoverable,
    )
    return channel_row(record)


async def insert_channel_member(
    conn: Conn, channel_id: ChannelId, user_id: UserId, role: str = "member"
) -> bool:
    """Adds the membership unless it exists (then the stored role is kept). True if added."""
    status = await conn.execute(
        """
        INSERT INTO channel_members (channel_id, user_id, role) VALUES ($1, $2, $3)
        ON CONFLICT (channel_id, user_id) DO NOTHING
        """,
        channel_id,
        user_id,
        role,
    )
    return bool(status == "INSERT 0 1")


async def list_member_ids(conn: Conn, channel_id: ChannelId) -> list[UserId]:
    rows = await conn.fetch("SELECT user_id FROM channel_members WHERE channel_id = $1", channel_id)
    return [r["user_id"] for r in rows]


# -- channels (beyond the foundation) ------------------------------------------------------


async def list_member_channels(conn: Conn, user_id: UserId) -> list[ChannelRow]:
    """Every channel ``user_id`` is a member of (DMs included), oldest first."""
    records = await conn.fetch(
        f"""
        SELECT {CHANNEL_COLUMNS}
          FROM channels ch
          JOIN channel_members cm ON cm.channel_id = ch.id AND cm.user_id = $1
         ORDER BY ch.created_at, ch.id
        """,
        user_id,
    )
    return [channel_row(r) for r in records]


@dataclass(frozen=True, slots=True)
class ChannelChanges:
    """A PATCH: None = unchanged, except ``clear_*`` flags which set the column to NULL."""

    name: str | None = None
    topic: str | None = None
    clear_topic: bool = False
    read_only: bool | None = None
    slow_mode_seconds: int | None = None
    message_ttl_seconds: int | None = None
    clear_message_ttl: bool = False
    discoverable: bool | None = None
    archived: bool | None = None
    voice_background: str | None = None
    clear_voice_background: bool = False


async def update_channel(
    conn: Conn, channel_id: ChannelId, changes: ChannelChanges
) -> ChannelRow | None:
    record = await conn.fetchrow(
        f"""
        UPDATE channels AS ch
           SET name = COALESCE($2, ch.name),
               topic = CASE WHEN $4 THEN NULL ELSE COALESCE($3, ch.topic) END,
               read_only = COALESCE($5, ch.read_only),
               slow_mode_seconds = COALESCE($6, ch.slow_mode_seconds),
               message_ttl_seconds = CASE WHEN $8 THEN NULL
                                          ELSE COALESCE($7, ch.message_ttl_seconds) END,
               discoverable = COALESCE($9, ch.discoverable),
               archived = COALESCE($10, ch.archived),
               voice_background = CASE WHEN $12 THEN NULL
                                       ELSE COALESCE($11, ch.voice_background) END,
               updated_at = now()
         WHERE ch.id = $1
     RETURNING {CHANNEL_COLUMNS}
        """,
        channel_id,
        changes.name,
        changes.topic,
        changes.clear_topic,
        changes.read_only,
        changes.slow_mode_seconds,
        changes.message_ttl_seconds,
        changes.clear_message_ttl,
        changes.discoverable,
        changes.archived,
        changes.voice_background,
        changes.clear_voice_background,
    )
    return channel_row(record) if record else None


# -- channel members -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChannelMemberRow:
    user_id: UserId
    username: str
    display_name: str
    avatar_url: str | None
    role: str
    joined_at: datetime


async def list_channel_members(
    conn: Conn,
    channel_id: ChannelId,
    *,
    group_id: GroupId | None,
    limit: int,
    offset: int,
) -> list[ChannelMemberRow]:
    """Explicit members with their stored role; with ``group_id``, also that group's members
    who have not joined the channel (role ``member``, joined when they joined the group).
    Ordered owner, admin, moderator, others, then by joining time."""
    records = await conn.fetch(
        """
        SELECT user_id, username, display_name, avatar_url, role, joined_at FROM (
            SELECT u.id AS user_id, u.username, u.display_name, u.avatar_url, cm.role,
                   cm.joined_at
              FROM channel_members cm
              JOIN users u ON u.id = cm.user_id
             WHERE cm.channel_id = $1
            UNION ALL
            SELECT u.id, u.username, u.display_name, u.avatar_url, 'member', gm.joined_at
              FROM group_members gm
              JOIN users u ON u.id = gm.user_id
             WHERE $2::uuid IS NOT NULL AND gm.group_id = $2
               AND NOT EXISTS (SELECT 1 FROM channel_members x
                                WHERE x.channel_id = $1 AND x.user_id = gm.user_id)
        ) m
         ORDER BY CASE role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 WHEN 'moderator' THEN 2
                  ELSE 3 END, joined_at, user_id
         LIMIT $3 OFFSET $4
        """,
        channel_id,
        group_id,
        limit,
        offset,
    )
    return [ChannelMemberRow(**dict(r)) for r in records]


async def select_channel_role_for_update(
    conn: Conn, channel_id: ChannelId, user_id: UserId
) -> str | None:
    """The stored role, locking the membership row (SELECT ... FOR UPDATE) until the
    transaction ends."""
    role: str | None = await conn.fetchval(
        "SELECT role FROM channel_members WHERE channel_id = $1 AND user_id = $2 FOR UPDATE",
        channel_id,
        user_id,
    )
    return role


async def update_channel_member_role(
    conn: Conn, channel_id: ChannelId, user_id: UserId, role: str
) -> bool:
    status = await conn.execute(
        "UPDATE channel_members SET role = $3 WHERE channel_id = $1 AND user_id = $2",
        channel_id,
        user_id,
        role,
    )
    return bool(status == "UPDATE 1")


async def delete_channel_member(conn: Conn, channel_id: ChannelId, user_id: UserId) -> bool:
    status = await conn.execute(
        "DELETE FROM channel_members WHERE channel_id = $1 AND user_id = $2", channel_id, user_id
    )
    return bool(status == "DELETE 1")


# -- channel bans --------------------------------------------------------------------------


async def exists_channel_ban(conn: Conn, channel_id: ChannelId, user_id: UserId) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM channel_bans WHERE channel_id = $1 AND user_id = $2)",
            channel_id,
            user_id,
        )
    )


async def insert_channel_ban(
    conn: Conn,
    channel_id: ChannelId,
    user_id: UserId,
    *,
    banned_by: UserId,
    reason: str | None,
) -> bool:
    """Adds the ban unless one exists (the existing ban is kept). True if added."""
    status = await conn.execute(
        """
        INSERT INTO channel_bans (channel_id, user_id, banned_by, reason) VALUES ($1, $2, $3, $4)
        ON CONFLICT (channel_id, user_id) DO NOTHING
        """,
        channel_id,
        user_id,
        banned_by,
        reason,
    )
    return bool(status == "INSERT 0 1")


async def delete_channel_ban(conn: Conn, channel_id: ChannelId, user_id: UserId) -> bool:
    status = await conn.execute(
        "DELETE FROM channel_bans WHERE channel_id = $1 AND user_id = $2", channel_id, user_id
    )
    return bool(status == "DELETE 1")


async def select_member_channel_ids(
    conn: Conn, user_id: UserId, channel_ids: Sequence[ChannelId]
) -> set[ChannelId]:
    """Which of ``channel_ids`` the user is a member of (one query for a whole subscribe)."""
    rows = await conn.fetch(
        "SELECT channel_id FROM channel_members"
        " WHERE user_id = $1 AND channel_id = ANY($2::uuid[])",
        user_id,
        list(channel_ids),
    )
    return {row["channel_id"] for row in rows}
