"""SQL for channels and their members and bans (tables channels, channel_members,
channel_bans). No permission checks here: see services/permissions.py and services/channels.py."""

from __future__ import annotations

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
