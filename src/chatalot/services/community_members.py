"""A community's members: the member list, roles, nicknames, kicks and bans (spec rest-api
2.5). Every action starts at the community gate (``permissions.access_community``).

Nobody acts on someone at or above their own level (``permissions.can_moderate``), and nobody
acts on the instance owner (``permissions.target_level``). Ours beyond the original:

- a kick or ban ends the member's access to the community's channels at once
  (``AccessRevoked``), deletes their sender keys there and asks the remaining members to
  rotate theirs (``sender_key_rotation_required``, reason ``member_removed``): the removed
  member still holds the old keys;
- the removed member's sessions are told at once (``community_member_removed``, reason
  ``kicked`` or ``banned``; the original sends no event); a ban of a non-member tells nobody;
- managers may only rename members below them; nicknames refuse control characters;
- banning a user who does not exist is a 404 (the original failed with a 500);
- ban reasons refuse control characters.
"""

from __future__ import annotations

from collections.abc import Sequence

from chatalot.context import Ctx
from chatalot.db.database import Tx
from chatalot.errors import Forbidden, Invalid, NotFound
from chatalot.ids import ChannelId, CommunityId, UserId
from chatalot.protocol import events
from chatalot.repositories import communities as communities_repo
from chatalot.repositories import memberships as memberships_repo
from chatalot.repositories.communities import CommunityBanRow, CommunityMemberRow
from chatalot.services import permissions
from chatalot.services.access_revocation import revoke_access
from chatalot.services.actor import Actor
from chatalot.services.audience import ChannelSubscribers, Users
from chatalot.services.audit import record_audit
from chatalot.services.validation import check_plain_text, check_size

ASSIGNABLE_ROLES = (permissions.MEMBER, permissions.MODERATOR, permissions.ADMIN)
MAX_NICKNAME_BYTES = 64
MAX_BAN_REASON_BYTES = 500
MAX_BANS_LISTED = 500


async def list_members(
    ctx: Ctx, actor: Actor, community_id: CommunityId, *, limit: int, offset: int
) -> list[CommunityMemberRow]:
    """Owner, admins, moderators, then everyone else, each by join time."""
    async with ctx.db.connection() as conn:
        await permissions.access_community(conn, actor, community_id)
        return await communities_repo.list_members(conn, community_id, limit=limit, offset=offset)


async def _target_level(
    tx: Tx, community_id: CommunityId, user_id: UserId
) -> tuple[str | None, int]:
    """The target's stored role (locked until the transaction ends; None: not a member) and
    the level actions on them are checked against."""
    role = await communities_repo.select_member_role_for_update(tx.conn, community_id, user_id)
    is_owner = await communities_repo.select_user_is_instance_owner(tx.conn, user_id)
    return role, permissions.target_level(role, is_instance_owner=bool(is_owner))


async def set_member_role(
    ctx: Ctx, actor: Actor, community_id: CommunityId, user_id: UserId, role: str
) -> None:
    """comm-manager; only the owner (or instance staff) may make admins. No event (as the
    original)."""
    async with ctx.db.transaction("set_community_member_role") as tx:
        access = await permissions.access_community(tx.conn, actor, community_id)
        access.require_manager()
        if user_id == actor.user_id:
            raise Invalid("you cannot change your own role")
        if role not in ASSIGNABLE_ROLES:
            raise Invalid("role must be member, moderator, or admin")
        current, level = await _target_level(tx, community_id, user_id)
        if current is None:
            raise NotFound("member not found")
        if current == permissions.OWNER:
            raise Invalid("cannot change the owner's role; use transfer-ownership instead")
        if not permissions.can_moderate(access.role, level):
            raise Forbidden()
        if role == permissions.ADMIN and not access.is_owner:
            raise Forbidden()
        await communities_repo.update_member_role(tx.conn, community_id, user_id, role)


def _nickname(value: str | None) -> str | None:
    """Trimmed; empty clears (None)."""
    if value is None:
        return None
    nickname = value.strip()
    check_plain_text(nickname, "nickname")
    check_size(nickname, "nickname", MAX_NICKNAME_BYTES, "nickname must be 1-64 characters")
    return nickname or None


async def set_nickname(
    ctx: Ctx, actor: Actor, community_id: CommunityId, user_id: UserId, nickname: str | None
) -> None:
    """The member themself, or a manager above them. A non-member target: nothing happens
    (as the original)."""
    async with ctx.db.transaction("set_community_nickname") as tx:
        access = await permissions.access_community(tx.conn, actor, community_id)
        if user_id != actor.user_id:
            access.require_manager()
            _, level = await _target_level(tx, community_id, user_id)
            if not permissions.can_moderate(access.role, level):
                raise Forbidden()
        value = _nickname(nickname)
        await communities_repo.update_member_nickname(tx.conn, community_id, user_id, value)


def _removed(tx: Tx, user_id: UserId, channel_ids: Sequence[ChannelId], reason: str) -> None:
    """After a kick or ban: the user's subscriptions end, the others rotate their keys."""
    revoke_access(tx, user_id, channel_ids, reason)
    for channel_id in channel_ids:
        tx.emit(
            events.SenderKeyRotationRequired(channel_id=str(channel_id), reason="member_removed"),
            to=ChannelSubscribers(channel_id),
        )


def tell_removed(tx: Tx, community_id: CommunityId, user_id: UserId, reason: str) -> None:
    """``community_member_removed`` to every session of a former member (after commit).
    ``reason``: ``kicked``, ``banned`` or ``left``."""
    tx.emit(
        events.CommunityMemberRemoved(
            community_id=str(community_id), user_id=str(user_id), reason=reason
        ),
        to=Users.of([user_id]),
    )


async def _remove_member(
    tx: Tx, community_id: CommunityId, user_id: UserId, reason: str, *, was_member: bool
) -> None:
    channels = await memberships_repo.remove_from_community(tx.conn, community_id, user_id)
    await memberships_repo.delete_sender_key_distributions(tx.conn, user_id, channels)
    _removed(tx, user_id, channels, reason)
    if was_member:
        tell_removed(tx, community_id, user_id, reason)


async def kick_member(ctx: Ctx, actor: Actor, community_id: CommunityId, user_id: UserId) -> None:
    """comm-mod above the target: out of the community, its groups and their channels."""
    async with ctx.db.transaction("kick_community_member") as tx:
        access = await permissions.access_community(tx.conn, actor, community_id)
        access.require_moderator()
        if user_id == actor.user_id:
            raise Invalid("you cannot kick yourself; use leave instead")
        role, level = await _target_level(tx, community_id, user_id)
        if role is None:
            raise NotFound("member not found")
        permissions.require_removable(role)
        if not permissions.can_moderate(access.role, level):
            raise Forbidden()
        await _remove_member(tx, community_id, user_id, "kicked", was_member=True)
        await record_audit(
            tx.conn,
            "community_kick",
            user_id=actor.user_id,
            meta=actor.meta,
            metadata={"community_id": str(community_id), "target_user_id": str(user_id)},
        )


async def list_bans(ctx: Ctx, actor: Actor, community_id: CommunityId) -> list[CommunityBanRow]:
    """comm-mod. Newest first, up to 500."""
    async with ctx.db.connection() as conn:
        access = await permissions.access_community(conn, actor, community_id)
        access.require_moderator()
        return await communities_repo.list_bans(conn, community_id, limit=MAX_BANS_LISTED)


def _ban_reason(value: str | None) -> str | None:
    if value is None:
        return None
    reason = value.strip()
    check_plain_text(reason, "reason")
    check_size(reason, "reason", MAX_BAN_REASON_BYTES, "reason must be at most 500 characters")
    return reason or None


async def ban_member(
    ctx: Ctx, actor: Actor, community_id: CommunityId, user_id: UserId, reason: str | None
) -> None:
    """comm-mod above the target (members and non-members alike: users can be banned before
    they join). An existing ban is kept as it is."""
    async with ctx.db.transaction("ban_community_member") as tx:
        access = await permissions.access_community(tx.conn, actor, community_id)
        access.require_moderator()
        if user_id == actor.user_id:
            raise Invalid("you cannot ban yourself")
        role = await communities_repo.select_member_role_for_update(tx.conn, community_id, user_id)
        is_owner = await communities_repo.select_user_is_instance_owner(tx.conn, user_id)
        if is_owner is None:
            raise NotFound("user not found")
        permissions.require_removable(role)
        level = permissions.target_level(role, is_instance_owner=is_owner)
        if not permissions.can_moderate(access.role, level):
            raise Forbidden()
        text = _ban_reason(reason)
        if await communities_repo.select_community(tx.conn, community_id) is None:
            raise NotFound("community not found")
        await communities_repo.insert_ban(
            tx.conn, community_id, user_id, banned_by=actor.user_id, reason=text
        )
        await _remove_member(tx, community_id, user_id, "banned", was_member=role is not None)
        await record_audit(
            tx.conn,
            "community_ban",
            user_id=actor.user_id,
            meta=actor.meta,
            metadata={"community_id": str(community_id), "target_user_id": str(user_id)},
        )


async def unban_member(ctx: Ctx, actor: Actor, community_id: CommunityId, user_id: UserId) -> None:
    """comm-mod."""
    async with ctx.db.transaction("unban_community_member") as tx:
        access = await permissions.access_community(tx.conn, actor, community_id)
        access.require_moderator()
        if not await communities_repo.delete_ban(tx.conn, community_id, user_id):
            raise NotFound("ban not found")
        await record_audit(
            tx.conn,
            "community_unban",
            user_id=actor.user_id,
            meta=actor.meta,
            metadata={"community_id": str(community_id), "target_user_id": str(user_id)},
        )
