"""SQL that spans the membership tables of communities, groups and channels: joining a group
with its channels, and removing a user from a community or group with everything below it.

Every removal returns the ids of the channels the user was removed from, so the service can
emit ``AccessRevoked`` (and sender-key rotations) for exactly those."""

from __future__ import annotations

from collections.abc import Sequence

from chatalot.db.database import Conn
from chatalot.ids import ChannelId, CommunityId, GroupId, UserId


async def remove_from_community(
    conn: Conn, community_id: CommunityId, user_id: UserId
) -> list[ChannelId]:
    """Removes the user from every channel and group of the community and from the community
    itself. Returns the channels they were removed from."""
    rows = await conn.fetch(
        """
        DELETE FROM channel_members cm
         USING channels ch, groups g
         WHERE cm.user_id = $2 AND cm.channel_id = ch.id AND ch.group_id = g.id
           AND g.community_id = $1
        RETURNING cm.channel_id
        """,
        community_id,
        user_id,
    )
    await conn.execute(
        """
        DELETE FROM group_members gm
         USING groups g
         WHERE gm.user_id = $2 AND gm.group_id = g.id AND g.community_id = $1
        """,
        community_id,
        user_id,
    )
    await conn.execute(
        "DELETE FROM community_members WHERE community_id = $1 AND user_id = $2",
        community_id,
        user_id,
    )
    return [r["channel_id"] for r in rows]


async def remove_from_group(conn: Conn, group_id: GroupId, user_id: UserId) -> list[ChannelId]:
    """Removes the user from every channel of the group and from the group. Returns the
    channels they were removed from."""
    rows = await conn.fetch(
        """
        DELETE FROM channel_members cm
         USING channels ch
         WHERE cm.user_id = $2 AND cm.channel_id = ch.id AND ch.group_id = $1
        RETURNING cm.channel_id
        """,
        group_id,
        user_id,
    )
    await conn.execute(
        "DELETE FROM group_members WHERE group_id = $1 AND user_id = $2", group_id, user_id
    )
    return [r["channel_id"] for r in rows]


async def join_group(
    conn: Conn, group_id: GroupId, user_id: UserId, *, discoverable_channels_only: bool
) -> bool:
    """Adds the user to the group as ``member`` (kept if already in it, with their role) and
    to its channels (all of them, or only the discoverable ones). True if newly in the group."""
    status = await conn.execute(
        """
        INSERT INTO group_members (group_id, user_id, role) VALUES ($1, $2, 'member')
        ON CONFLICT (group_id, user_id) DO NOTHING
        """,
        group_id,
        user_id,
    )
    await conn.execute(
        """
        INSERT INTO channel_members (channel_id, user_id, role)
        SELECT ch.id, $2, 'member' FROM channels ch
         WHERE ch.group_id = $1 AND (ch.discoverable OR NOT $3)
        ON CONFLICT (channel_id, user_id) DO NOTHING
        """,
        group_id,
        user_id,
        discoverable_channels_only,
    )
    return bool(status == "INSERT 0 1")


async def join_public_groups(conn: Conn, community_id: CommunityId, user_id: UserId) -> None:
    """A new community member joins every public group of the community (as ``member``) and
    each one's discoverable channels."""
    await conn.execute(
        """
        INSERT INTO group_members (group_id, user_id, role)
        SELECT g.id, $2, 'member' FROM groups g
         WHERE g.community_id = $1 AND g.visibility = 'public'
        ON CONFLICT (group_id, user_id) DO NOTHING
        """,
        community_id,
        user_id,
    )
    await conn.execute(
        """
        INSERT INTO channel_members (channel_id, user_id, role)
        SELECT ch.id, $2, 'member' FROM channels ch
          JOIN groups g ON g.id = ch.group_id
         WHERE g.community_id = $1 AND g.visibility = 'public' AND ch.discoverable
        ON CONFLICT (channel_id, user_id) DO NOTHING
        """,
        community_id,
        user_id,
    )


async def list_community_channel_member_pairs(
    conn: Conn, community_id: CommunityId
) -> list[tuple[UserId, ChannelId]]:
    """(user, channel) for every channel membership inside the community's groups: who loses
    what when the community is deleted."""
    rows = await conn.fetch(
        """
        SELECT cm.user_id, cm.channel_id
          FROM channel_members cm
          JOIN channels ch ON ch.id = cm.channel_id
          JOIN groups g ON g.id = ch.group_id
         WHERE g.community_id = $1
        """,
        community_id,
    )
    return [(r["user_id"], r["channel_id"]) for r in rows]


async def list_group_channel_member_pairs(
    conn: Conn, group_id: GroupId
) -> list[tuple[UserId, ChannelId]]:
    """(user, channel) for every channel membership inside the group."""
    rows = await conn.fetch(
        """
        SELECT cm.user_id, cm.channel_id
          FROM channel_members cm
          JOIN channels ch ON ch.id = cm.channel_id
         WHERE ch.group_id = $1
        """,
        group_id,
    )
    return [(r["user_id"], r["channel_id"]) for r in rows]


async def list_channel_ids_of_user(conn: Conn, user_id: UserId) -> list[ChannelId]:
    """Every channel the user is a member of (DMs included)."""
    rows = await conn.fetch("SELECT channel_id FROM channel_members WHERE user_id = $1", user_id)
    return [r["channel_id"] for r in rows]


async def delete_sender_key_distributions(
    conn: Conn, user_id: UserId, channel_ids: Sequence[ChannelId]
) -> None:
    """The user's sender-key distributions in these channels (they can no longer read them)."""
    if channel_ids:
        await conn.execute(
            "DELETE FROM sender_key_distributions WHERE user_id = $1 AND channel_id = ANY($2)",
            user_id,
            list(channel_ids),
        )


async def list_community_mates(conn: Conn, user_id: UserId, *, limit: int) -> list[UserId]:
    """The distinct users who share at least one community with ``user_id`` (not the user),
    at most ``limit`` of them."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT other.user_id
        FROM community_members mine
        JOIN community_members other
          ON other.community_id = mine.community_id AND other.user_id <> mine.user_id
        WHERE mine.user_id = $1
        LIMIT $2
        """,
        user_id,
        limit,
    )
    return [r["user_id"] for r in rows]
