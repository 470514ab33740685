"""Community moderators acting in one of the community's channels (spec rest-api 2.5):
timeouts and warnings. ``active_timeout`` is what editing checks (sending reads the timeout
with the rest of its context: repositories/messages.py ``select_send_context``).

Every action passes the community gate and needs comm-mod; the channel must sit in a group of
that community (404 otherwise). Nobody acts on someone at or above their own community level,
nor on the instance owner. One timeout per user and channel: a new one replaces the old.
An expired timeout is not active (removing it is a 404).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from chatalot.context import Ctx
from chatalot.db.database import Conn
from chatalot.errors import Forbidden, Invalid, NotFound
from chatalot.ids import ChannelId, CommunityId, UserId, uuid7
from chatalot.protocol import events
from chatalot.protocol.time import rfc3339
from chatalot.repositories import channels as channels_repo
from chatalot.repositories import communities as communities_repo
from chatalot.repositories import moderation as moderation_repo
from chatalot.repositories import users as users_repo
from chatalot.repositories.channels import ChannelRow
from chatalot.repositories.moderation import TimeoutRow, WarningRow
from chatalot.services import permissions
from chatalot.services.actor import Actor
from chatalot.services.admin import check_text
from chatalot.services.audience import ChannelSubscribers
from chatalot.services.audit import record_audit
from chatalot.services.permissions import CommunityAccess

MIN_TIMEOUT = 60
MAX_TIMEOUT = 2_592_000
MAX_TIMEOUT_REASON = 500
MAX_WARNING_REASON = 1000
NOT_A_MEMBER = "user is not a member of this channel"


async def active_timeout(
    conn: Conn, channel_id: ChannelId, user_id: UserId, now: datetime
) -> TimeoutRow | None:
    """The user's unexpired timeout in the channel, if any (for message sending)."""
    return await moderation_repo.select_active_timeout(conn, channel_id, user_id, now)


async def _moderate(
    conn: Conn, actor: Actor, community_id: uuid.UUID, channel_id: uuid.UUID
) -> tuple[CommunityAccess, ChannelRow]:
    """The gate, comm-mod, then the channel (404 unless in a group of this community)."""
    access = await permissions.access_community(conn, actor, CommunityId(community_id))
    access.require_moderator()
    place = await channels_repo.select_channel_place(conn, ChannelId(channel_id))
    if place is None or place.community_id != access.community_id:
        raise NotFound("channel not found in this community")
    return access, place.channel


async def _require_above(conn: Conn, access: CommunityAccess, target: UserId) -> None:
    """403 unless the caller's community level is strictly above the target's (the instance
    owner is above everyone)."""
    role = await communities_repo.select_member_role(conn, access.community_id, target)
    user = await users_repo.select_user(conn, target)
    level = permissions.target_level(role, is_instance_owner=bool(user and user.is_owner))
    if not permissions.can_moderate(access.role, level):
        raise Forbidden()


async def timeout_user(
    ctx: Ctx,
    actor: Actor,
    community_id: uuid.UUID,
    channel_id: uuid.UUID,
    *,
    user_id: uuid.UUID,
    duration_seconds: int,
    reason: str | None,
) -> TimeoutRow:
    target = UserId(user_id)
    now = ctx.clock.now()
    async with ctx.db.transaction("timeout_user") as tx:
        access, channel = await _moderate(tx.conn, actor, community_id, channel_id)
        # locks the target's membership: concurrent timeouts of the same user serialise
        if await channels_repo.select_channel_role_for_update(tx.conn, channel.id, target) is None:
            raise Invalid(NOT_A_MEMBER)
        await _require_above(tx.conn, access, target)
        if not MIN_TIMEOUT <= duration_seconds <= MAX_TIMEOUT:
            raise Invalid("duration must be between 60 seconds and 30 days")
        if reason is not None:
            check_text(
                reason,
                field="timeout reason",
                limit=MAX_TIMEOUT_REASON,
                message="timeout reason must be at most 500 characters",
            )
            reason = reason.strip() or None
        await moderation_repo.delete_timeouts(tx.conn, channel.id, target)
        timeout = await moderation_repo.insert_timeout(
            tx.conn,
            timeout_id=uuid7(),
            channel_id=channel.id,
            user_id=target,
            issued_by=actor.user_id,
            reason=reason,
            expires_at=now + timedelta(seconds=duration_seconds),
            created_at=now,
        )
        tx.emit(
            events.UserTimedOut(
                channel_id=str(channel.id),
                user_id=str(target),
                expires_at=rfc3339(timeout.expires_at),
                reason=timeout.reason,
            ),
            to=ChannelSubscribers(channel.id),
        )
    return timeout


async def remove_timeout(
    ctx: Ctx, actor: Actor, community_id: uuid.UUID, channel_id: uuid.UUID, user_id: uuid.UUID
) -> None:
    target = UserId(user_id)
    now = ctx.clock.now()
    async with ctx.db.transaction("remove_timeout") as tx:
        _, channel = await _moderate(tx.conn, actor, community_id, channel_id)
        if await moderation_repo.select_active_timeout(tx.conn, channel.id, target, now) is None:
            raise NotFound("no active timeout found")
        await moderation_repo.delete_timeouts(tx.conn, channel.id, target)
        await record_audit(
            tx.conn,
            "timeout_removed",
            user_id=actor.user_id,
            meta=actor.meta,
            metadata={"channel_id": str(channel.id), "target_user_id": str(target)},
        )


async def warn_user(
    ctx: Ctx,
    actor: Actor,
    community_id: uuid.UUID,
    channel_id: uuid.UUID,
    *,
    user_id: uuid.UUID,
    reason: str,
) -> WarningRow:
    """The reason is stored as given (not trimmed), 1-1000 bytes."""
    target = UserId(user_id)
    now = ctx.clock.now()
    async with ctx.db.transaction("warn_user") as tx:
        access, channel = await _moderate(tx.conn, actor, community_id, channel_id)
        await _require_above(tx.conn, access, target)
        if await channels_repo.select_channel_role_for_update(tx.conn, channel.id, target) is None:
            raise Invalid(NOT_A_MEMBER)
        message = "reason must be 1-1000 characters"
        if not reason:
            raise Invalid(message)
        check_text(reason, field="reason", limit=MAX_WARNING_REASON, message=message)
        warning = await moderation_repo.insert_warning(
            tx.conn,
            warning_id=uuid7(),
            channel_id=channel.id,
            user_id=target,
            issued_by=actor.user_id,
            reason=reason,
            created_at=now,
        )
        count = await moderation_repo.count_warnings(tx.conn, channel.id, target)
        tx.emit(
            events.UserWarned(
                channel_id=str(channel.id),
                user_id=str(target),
                reason=reason,
                warning_count=count,
            ),
            to=ChannelSubscribers(channel.id),
        )
    return warning


async def list_warnings(
    ctx: Ctx, actor: Actor, community_id: uuid.UUID, channel_id: uuid.UUID, user_id: uuid.UUID
) -> list[WarningRow]:
    """Newest first."""
    async with ctx.db.connection() as conn:
        _, channel = await _moderate(conn, actor, community_id, channel_id)
        return await moderation_repo.list_warnings(conn, channel.id, UserId(user_id))
