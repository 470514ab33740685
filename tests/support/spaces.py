"""Fast SQL factories for communities, groups, channels and their memberships (tests only:
no permission checks, no events). Each returns the new row's id."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from chatalot.context import Ctx
from chatalot.ids import ChannelId, CommunityId, GroupId, UserId, uuid7
from tests.support.auth import TestUser, make_user

_counter = itertools.count(1)


async def make_community(
    ctx: Ctx,
    owner: UserId | None,
    *,
    name: str | None = None,
    discoverable: bool = True,
    who_can_create_groups: str = "admin",
    who_can_create_invites: str = "admin",
) -> CommunityId:
    """A community owned by ``owner`` (who becomes its ``owner`` member)."""
    community_id = CommunityId(uuid7())
    async with ctx.db.transaction("test_make_community") as tx:
        await tx.conn.execute(
            """
            INSERT INTO communities (id, name, description, owner_id, discoverable,
                                     who_can_create_groups, who_can_create_invites)
            VALUES ($1, $2, '', $3, $4, $5, $6)
            """,
            community_id,
            name or f"Community {next(_counter)}",
            owner,
            discoverable,
            who_can_create_groups,
            who_can_create_invites,
        )
        if owner is not None:
            await tx.conn.execute(
                "INSERT INTO community_members (community_id, user_id, role)"
                " VALUES ($1, $2, 'owner')",
                community_id,
                owner,
            )
    return community_id


async def add_community_member(
    ctx: Ctx, community_id: CommunityId, user_id: UserId, role: str = "member"
) -> None:
    async with ctx.db.transaction("test_add_community_member") as tx:
        await tx.conn.execute(
            "INSERT INTO community_members (community_id, user_id, role) VALUES ($1, $2, $3)",
            community_id,
            user_id,
            role,
        )


async def ban_from_community(
    ctx: Ctx, community_id: CommunityId, user_id: UserId, *, by: UserId | None = None
) -> None:
    async with ctx.db.transaction("test_ban_from_community") as tx:
        await tx.conn.execute(
            "INSERT INTO community_bans (community_id, user_id, banned_by, reason)"
            " VALUES ($1, $2, $3, 'test ban')",
            community_id,
            user_id,
            by,
        )


async def make_group(
    ctx: Ctx,
    community_id: CommunityId,
    owner: UserId | None,
    *,
    name: str | None = None,
    visibility: str = "public",
    discoverable: bool = True,
    assigned_member_id: UserId | None = None,
) -> GroupId:
    """A group; ``owner`` (or the assigned member of a personal group) is its ``owner``
    member."""
    group_id = GroupId(uuid7())
    async with ctx.db.transaction("test_make_group") as tx:
        await tx.conn.execute(
            """
            INSERT INTO groups (id, name, description, owner_id, community_id, visibility,
                                discoverable, assigned_member_id)
            VALUES ($1, $2, '', $3, $4, $5, $6, $7)
            """,
            group_id,
            name or f"Group {next(_counter)}",
            owner,
            community_id,
            visibility,
            discoverable,
            assigned_member_id,
        )
        member = assigned_member_id or owner
        if member is not None:
            await tx.conn.execute(
                "INSERT INTO group_members (group_id, user_id, role) VALUES ($1, $2, 'owner')",
                group_id,
                member,
            )
    return group_id


async def add_group_member(
    ctx: Ctx, group_id: GroupId, user_id: UserId, role: str = "member"
) -> None:
    async with ctx.db.transaction("test_add_group_member") as tx:
        await tx.conn.execute(
            "INSERT INTO group_members (group_id, user_id, role) VALUES ($1, $2, $3)",
            group_id,
            user_id,
            role,
        )


async def make_channel(
    ctx: Ctx,
    group_id: GroupId | None,
    creator: UserId | None,
    *,
    name: str | None = "general",
    channel_type: str = "text",
    discoverable: bool = True,
) -> ChannelId:
    """A channel; ``creator`` is its ``owner`` member."""
    channel_id = ChannelId(uuid7())
    async with ctx.db.transaction("test_make_channel") as tx:
        await tx.conn.execute(
            """
            INSERT INTO channels (id, name, channel_type, created_by, group_id, discoverable)
            VALUES ($1, $2, $3::channel_type, $4, $5, $6)
            """,
            channel_id,
            name,
            channel_type,
            creator,
            group_id,
            discoverable,
        )
        if creator is not None:
            await tx.conn.execute(
                "INSERT INTO channel_members (channel_id, user_id, role) VALUES ($1, $2, 'owner')",
                channel_id,
                creator,
            )
    return channel_id


async def add_channel_member(
    ctx: Ctx, channel_id: ChannelId, user_id: UserId, role: str = "member"
) -> None:
    async with ctx.db.transaction("test_add_channel_member") as tx:
        await tx.conn.execute(
            "INSERT INTO channel_members (channel_id, user_id, role) VALUES ($1, $2, $3)"
            " ON CONFLICT (channel_id, user_id) DO UPDATE SET role = EXCLUDED.role",
            channel_id,
            user_id,
            role,
        )


async def time_out(
    ctx: Ctx,
    channel_id: ChannelId,
    user_id: UserId,
    *,
    until: datetime | None = None,
    by: UserId | None = None,
) -> None:
    """An active timeout (an hour from the ctx clock unless ``until``)."""
    expires = until or ctx.clock.now() + timedelta(hours=1)
    async with ctx.db.transaction("test_time_out") as tx:
        await tx.conn.execute(
            "INSERT INTO user_timeouts (id, user_id, channel_id, issued_by, reason, expires_at)"
            " VALUES ($1, $2, $3, $4, 'test timeout', $5)",
            uuid7(),
            user_id,
            channel_id,
            by,
            expires,
        )


async def make_community_invite(
    ctx: Ctx,
    community_id: CommunityId,
    created_by: UserId | None,
    *,
    code: str | None = None,
    max_uses: int | None = None,
    used_count: int = 0,
    expires_at: datetime | None = None,
) -> tuple[str, str]:
    """(invite id, code)."""
    invite_id = uuid7()
    code = code or f"c{next(_counter):011d}"
    async with ctx.db.transaction("test_make_community_invite") as tx:
        await tx.conn.execute(
            """
            INSERT INTO community_invites (id, community_id, code, created_by, max_uses,
                                           used_count, expires_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            """,
            invite_id,
            community_id,
            code,
            created_by,
            max_uses,
            used_count,
            expires_at,
        )
    return str(invite_id), code


async def make_group_invite(
    ctx: Ctx,
    group_id: GroupId,
    created_by: UserId | None,
    *,
    code: str | None = None,
    max_uses: int | None = None,
    used_count: int = 0,
    expires_at: datetime | None = None,
) -> tuple[str, str]:
    """(invite id, code)."""
    invite_id = uuid7()
    code = code or f"g{next(_counter):011d}"
    async with ctx.db.transaction("test_make_group_invite") as tx:
        await tx.conn.execute(
            """
            INSERT INTO group_invites (id, group_id, code, created_by, max_uses, used_count,
                                       expires_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            """,
            invite_id,
            group_id,
            code,
            created_by,
            max_uses,
            used_count,
            expires_at,
        )
    return str(invite_id), code


async def sql(ctx: Ctx, query: str, *args: Any) -> Any:
    """The rows of one statement, in its own transaction (for checking what was stored)."""
    async with ctx.db.transaction("test_sql") as tx:
        return await tx.conn.fetch(query, *args)


async def room(ctx: Ctx) -> tuple[TestUser, TestUser, ChannelId]:
    """A channel owned by ``owner`` with ``member`` in it."""
    owner, member = await make_user(ctx), await make_user(ctx)
    channel = await make_channel(ctx, None, owner.id)
    await add_channel_member(ctx, channel, member.id)
    return owner, member, channel
