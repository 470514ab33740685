"""Channel membership (spec rest-api 2.7): join, leave, the member list, roles, kick, ban,
unban and ownership transfer.

Fixed here, unlike the original:

- a DM channel cannot be joined (the original let anyone join any DM by its id);
- a user banned from a group channel's community cannot join its channels;
- nobody acts on the instance owner (role change, kick, ban);
- everyone who loses access (kick, ban, leave) stops receiving the channel's events at once
  (``revoke_access``);
- a kicked or banned member in the channel's call leaves it (``user_left_voice``, then
  ``voice_state_update``, as the original; unlike the original, nothing is broadcast when they
  were not in the call), and so does a member who leaves the channel;
- on ownership transfer only a caller who holds the stored ``owner`` role is demoted to
  ``admin`` (an instance admin transferring a channel they do not own keeps their own role).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from chatalot.context import Ctx
from chatalot.db.database import Conn
from chatalot.errors import Forbidden, Invalid, NotFound
from chatalot.ids import ChannelId, UserId
from chatalot.protocol import events
from chatalot.repositories import channels as channels_repo
from chatalot.repositories import communities as communities_repo
from chatalot.repositories import groups as groups_repo
from chatalot.repositories import memberships as memberships_repo
from chatalot.repositories import users as users_repo
from chatalot.repositories.channels import ChannelMemberRow
from chatalot.services import permissions
from chatalot.services import voice as voice_service
from chatalot.services.access_revocation import revoke_access
from chatalot.services.actor import Actor
from chatalot.services.admin import check_text
from chatalot.services.audience import ChannelSubscribers
from chatalot.services.audit import record_audit
from chatalot.services.channels import ChannelAccess, access_channel

ASSIGNABLE_ROLES = ("admin", "moderator", "member")
MAX_BAN_REASON = 500


async def join_channel(ctx: Ctx, actor: Actor, channel_id: uuid.UUID) -> None:
    """Idempotent. DM channels: 403. Group channels: the caller must be a member of the
    group's community and not banned from it, and for a private group a member of the group.
    Banned from the channel: 403."""
    async with ctx.db.transaction("join_channel") as tx:
        place = await channels_repo.select_channel_place(tx.conn, ChannelId(channel_id))
        if place is None:
            raise NotFound("channel not found")
        if place.channel.channel_type == "dm":
            raise Forbidden()
        if place.community_id is not None and place.channel.group_id is not None:
            standing = await communities_repo.select_standing(
                tx.conn, place.community_id, actor.user_id
            )
            if standing.role is None or standing.banned:
                raise Forbidden()
            # a private group's channels are for its members (the original let any community
            # member who knew the id join them)
            group = await groups_repo.select_group(tx.conn, place.channel.group_id)
            if group is not None and group.visibility == "private":
                group_role = await groups_repo.select_group_role(tx.conn, group.id, actor.user_id)
                if group_role is None:
                    raise Forbidden()
        if await channels_repo.exists_channel_ban(tx.conn, place.channel.id, actor.user_id):
            raise Forbidden()
        await channels_repo.insert_channel_member(tx.conn, place.channel.id, actor.user_id)


async def leave_channel(ctx: Ctx, actor: Actor, channel_id: uuid.UUID) -> None:
    """The stored owner cannot leave (400); otherwise the membership goes (no error if there
    was none)."""
    async with ctx.db.transaction("leave_channel") as tx:
        channel = ChannelId(channel_id)
        role = await channels_repo.select_channel_role_for_update(tx.conn, channel, actor.user_id)
        if role == permissions.OWNER:
            raise Invalid("owner cannot leave; transfer ownership or delete the channel instead")
        if await channels_repo.delete_channel_member(tx.conn, channel, actor.user_id):
            await voice_service.remove_from_call(tx, channel, actor.user_id, ctx.clock.now())
            revoke_access(tx, actor.user_id, [channel], "left")


async def list_members(
    ctx: Ctx, actor: Actor, channel_id: uuid.UUID, *, limit: int, offset: int
) -> list[ChannelMemberRow]:
    """Members and instance staff see the explicit members; a discoverable group channel
    also lists the group's members who have not joined it, and a member of that group may
    see it without joining."""
    async with ctx.db.connection() as conn:
        access = await access_channel(conn, actor, ChannelId(channel_id))
        group_id = access.channel.group_id if access.channel.discoverable else None
        allowed = access.is_member or permissions.instance_role(actor) is not None
        if not allowed and group_id is not None:
            allowed = await groups_repo.select_group_role(conn, group_id, actor.user_id) is not None
        if not allowed:
            raise Forbidden()
        return await channels_repo.list_channel_members(
            conn, access.channel.id, group_id=group_id, limit=limit, offset=offset
        )


async def _target_level(conn: Conn, user_id: UserId, stored_role: str | None) -> int:
    user = await users_repo.select_user(conn, user_id)
    return permissions.target_level(stored_role, is_instance_owner=bool(user and user.is_owner))


async def update_member_role(
    ctx: Ctx, actor: Actor, channel_id: uuid.UUID, user_id: uuid.UUID, role: str
) -> None:
    """ch-owner+; not oneself; role admin/moderator/member; the target must be a member and
    below the caller (so only instance staff can demote a channel owner)."""
    target = UserId(user_id)
    async with ctx.db.transaction("update_channel_member_role") as tx:
        access = await _require_channel_role(
            tx.conn, actor, channel_id, permissions.is_channel_owner
        )
        if target == actor.user_id:
            raise Invalid("cannot change your own role")
        if role not in ASSIGNABLE_ROLES:
            raise Invalid("role must be 'admin', 'moderator', or 'member'")
        stored = await channels_repo.select_channel_role_for_update(
            tx.conn, access.channel.id, target
        )
        if stored is None:
            raise NotFound("member not found")
        if not permissions.can_moderate(access.role, await _target_level(tx.conn, target, stored)):
            raise Forbidden()
        await channels_repo.update_channel_member_role(tx.conn, access.channel.id, target, role)
        tx.emit(
            events.MemberRoleUpdated(
                channel_id=str(access.channel.id), user_id=str(target), role=role
            ),
            to=ChannelSubscribers(access.channel.id),
        )


async def _require_channel_role(
    conn: Conn, actor: Actor, channel_id: uuid.UUID, check: Callable[[str], bool]
) -> ChannelAccess:
    """The caller's channel access when ``check(effective_role)`` holds; Forbidden otherwise
    (also for a channel that does not exist, unless the caller is instance staff: then 404)."""
    stored = await channels_repo.select_channel_role(conn, ChannelId(channel_id), actor.user_id)
    role = permissions.channel_effective_role(actor, stored)
    if not check(role):
        raise Forbidden()
    return await access_channel(conn, actor, ChannelId(channel_id))


async def _remove_member(
    conn: Conn, actor: Actor, channel_id: uuid.UUID, user_id: uuid.UUID
) -> ChannelAccess:
    """Checks for kick and ban: 404 ``member not found`` first, then the caller's effective
    channel role must be strictly above the target's (instance owner out of reach). Removes
    the membership and the target's sender-key distribution."""
    access = await access_channel(conn, actor, ChannelId(channel_id))
    target = UserId(user_id)
    stored = await channels_repo.select_channel_role_for_update(conn, access.channel.id, target)
    if stored is None:
        raise NotFound("member not found")
    if not permissions.can_moderate(access.role, await _target_level(conn, target, stored)):
        raise Forbidden()
    await channels_repo.delete_channel_member(conn, access.channel.id, target)
    await memberships_repo.delete_sender_key_distributions(conn, target, [access.channel.id])
    return access


async def kick_member(ctx: Ctx, actor: Actor, channel_id: uuid.UUID, user_id: uuid.UUID) -> None:
    async with ctx.db.transaction("kick_channel_member") as tx:
        access = await _remove_member(tx.conn, actor, channel_id, user_id)
        channel = access.channel.id
        audience = ChannelSubscribers(channel)
        tx.emit(
            events.MemberKicked(
                channel_id=str(channel), user_id=str(user_id), kicked_by=str(actor.user_id)
            ),
            to=audience,
        )
        await voice_service.remove_from_call(tx, channel, UserId(user_id), ctx.clock.now())
        tx.emit(
            events.SenderKeyRotationRequired(channel_id=str(channel), reason="member_removed"),
            to=audience,
        )
        revoke_access(tx, UserId(user_id), [channel], "kicked")
        await record_audit(
            tx.conn,
            "channel_kick",
            user_id=actor.user_id,
            meta=actor.meta,
            metadata={"channel_id": str(channel), "target_user_id": str(user_id)},
        )


async def ban_member(
    ctx: Ctx, actor: Actor, channel_id: uuid.UUID, user_id: uuid.UUID, reason: str | None
) -> None:
    """Like kick, plus a ban row (an existing ban is kept). The reason is checked first."""
    if reason is not None:
        check_text(
            reason,
            field="ban reason",
            limit=MAX_BAN_REASON,
            message="ban reason must be at most 500 characters",
        )
    async with ctx.db.transaction("ban_channel_member") as tx:
        access = await _remove_member(tx.conn, actor, channel_id, user_id)
        channel = access.channel.id
        await channels_repo.insert_channel_ban(
            tx.conn, channel, UserId(user_id), banned_by=actor.user_id, reason=reason
        )
        audience = ChannelSubscribers(channel)
        tx.emit(
            events.MemberBanned(
                channel_id=str(channel), user_id=str(user_id), banned_by=str(actor.user_id)
            ),
            to=audience,
        )
        await voice_service.remove_from_call(tx, channel, UserId(user_id), ctx.clock.now())
        tx.emit(
            events.SenderKeyRotationRequired(channel_id=str(channel), reason="member_removed"),
            to=audience,
        )
        revoke_access(tx, UserId(user_id), [channel], "banned")
        await record_audit(
            tx.conn,
            "channel_ban",
            user_id=actor.user_id,
            meta=actor.meta,
            metadata={"channel_id": str(channel), "target_user_id": str(user_id)},
        )


async def unban_member(ctx: Ctx, actor: Actor, channel_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """ch-mod+; 404 ``ban not found``."""
    async with ctx.db.transaction("unban_channel_member") as tx:
        access = await _require_channel_role(
            tx.conn, actor, channel_id, permissions.is_channel_moderator
        )
        if not await channels_repo.delete_channel_ban(tx.conn, access.channel.id, UserId(user_id)):
            raise NotFound("ban not found")
        await record_audit(
            tx.conn,
            "channel_unban",
            user_id=actor.user_id,
            meta=actor.meta,
            metadata={"channel_id": str(access.channel.id), "target_user_id": str(user_id)},
        )


async def transfer_ownership(
    ctx: Ctx, actor: Actor, channel_id: uuid.UUID, new_owner_id: uuid.UUID
) -> None:
    """ch-owner+; the new owner must be a member. The caller, if the stored owner, becomes
    ``admin``; ``member_role_updated`` for the caller (when demoted), then the new owner."""
    target = UserId(new_owner_id)
    async with ctx.db.transaction("transfer_channel_ownership") as tx:
        access = await _require_channel_role(
            tx.conn, actor, channel_id, permissions.is_channel_owner
        )
        channel = access.channel.id
        if await channels_repo.select_channel_role_for_update(tx.conn, channel, target) is None:
            raise Invalid("target user must be a member of this channel")
        audience = ChannelSubscribers(channel)
        if access.stored_role == permissions.OWNER and target != actor.user_id:
            await channels_repo.update_channel_member_role(
                tx.conn, channel, actor.user_id, permissions.ADMIN
            )
            tx.emit(
                events.MemberRoleUpdated(
                    channel_id=str(channel), user_id=str(actor.user_id), role=permissions.ADMIN
                ),
                to=audience,
            )
        await channels_repo.update_channel_member_role(tx.conn, channel, target, permissions.OWNER)
        tx.emit(
            events.MemberRoleUpdated(
                channel_id=str(channel), user_id=str(target), role=permissions.OWNER
            ),
            to=audience,
        )
