"""Group invites: create, list and revoke them (grp-admin+), look one up by code, and accept
it.

Accepting is race-free: the group membership is added first (a second accept by the same user
is a 409, not a second seat), then one seat is taken with a single conditional UPDATE; if no
seat is left the whole transaction rolls back. Concurrent accepts at the limit never over-use
an invite.

As in the original, looking up an expired or used-up group invite answers 404 (community
invites answer 400); accepting one answers 400.

Ours beyond the original: ``max_uses`` must be at least 1 (services/invite_codes.py); a
code over 100 bytes is ``invite not found`` without a lookup.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from chatalot.context import Ctx
from chatalot.db.database import Conn
from chatalot.db.errors import on_unique_violation
from chatalot.errors import Conflict, Invalid, NotFound
from chatalot.ids import GroupId, uuid7
from chatalot.repositories import communities as communities_repo
from chatalot.repositories import group_invites as invites_repo
from chatalot.repositories import groups as groups_repo
from chatalot.repositories import memberships as memberships_repo
from chatalot.repositories.group_invites import GroupInviteRow
from chatalot.services import invite_codes, permissions
from chatalot.services.actor import Actor
from chatalot.services.groups import access_group

PRIVATE_NAME = "Private Group"


@dataclass(frozen=True, slots=True)
class InviteInfo:
    group_name: str
    group_description: str | None
    member_count: int
    code: str


@dataclass(frozen=True, slots=True)
class Accepted:
    group_id: GroupId
    group_name: str


async def create_invite(
    ctx: Ctx,
    actor: Actor,
    group_id: GroupId,
    *,
    max_uses: int | None,
    expires_in_hours: int | None,
) -> GroupInviteRow:
    """grp-admin+; in a personal group only when it allows invites or for a community
    moderator."""
    now = ctx.clock.now()
    async with ctx.db.transaction("create_group_invite") as tx:
        access = await access_group(tx.conn, actor, group_id)
        access.require_admin()
        group = access.group
        if (
            group.personal
            and not group.allow_invites
            and not permissions.is_community_moderator(actor, access.community_role)
        ):
            raise Invalid("invites are disabled for this personal group")
        expires_at = invite_codes.check_limits(
            now, max_uses=max_uses, expires_in_hours=expires_in_hours
        )
        with on_unique_violation("invite code collision, please try again"):
            return await invites_repo.insert_group_invite(
                tx.conn,
                invite_id=uuid7(),
                group_id=group_id,
                code=invite_codes.new_invite_code(),
                created_by=actor.user_id,
                max_uses=max_uses,
                expires_at=expires_at,
                created_at=now,
            )


async def list_invites(ctx: Ctx, actor: Actor, group_id: GroupId) -> list[GroupInviteRow]:
    """grp-admin+: the newest 100, newest first."""
    async with ctx.db.connection() as conn:
        access = await access_group(conn, actor, group_id)
        access.require_admin()
        return await invites_repo.list_group_invites(conn, group_id)


async def revoke_invite(ctx: Ctx, actor: Actor, group_id: GroupId, invite_id: uuid.UUID) -> None:
    """grp-admin+; another group's invite is ``invite not found`` too."""
    async with ctx.db.transaction("revoke_group_invite") as tx:
        access = await access_group(tx.conn, actor, group_id)
        access.require_admin()
        if not await invites_repo.delete_group_invite(tx.conn, invite_id, group_id):
            raise NotFound("invite not found")


async def _invite(conn: Conn, code: str) -> GroupInviteRow:
    if invite_codes.code_too_long(code):
        raise NotFound("invite not found")
    invite = await invites_repo.select_group_invite_by_code(conn, code)
    if invite is None:
        raise NotFound("invite not found")
    return invite


async def invite_info(ctx: Ctx, actor: Actor, code: str) -> InviteInfo:
    """Any signed-in user; a group that is not discoverable keeps its name private."""
    now = ctx.clock.now()
    async with ctx.db.transaction("group_invite_info") as tx:
        invite = await _invite(tx.conn, code)
        if invite_codes.is_expired(invite.expires_at, now):
            raise NotFound("invite expired")
        if invite_codes.is_used_up(invite.max_uses, invite.used_count):
            raise NotFound("invite fully used")
        group = await groups_repo.select_group(tx.conn, invite.group_id)
        if group is None:
            raise NotFound("group not found")
    if not group.discoverable:
        return InviteInfo(PRIVATE_NAME, None, group.member_count, invite.code)
    return InviteInfo(group.name, group.description, group.member_count, invite.code)


async def accept_invite(ctx: Ctx, actor: Actor, code: str) -> Accepted:
    """A member of the group's community (the instance owner: anyone) joins the group and all
    its channels."""
    now = ctx.clock.now()
    async with ctx.db.transaction("accept_group_invite") as tx:
        invite = await _invite(tx.conn, code)
        if invite_codes.is_expired(invite.expires_at, now):
            raise Invalid("invite expired")
        if invite_codes.is_used_up(invite.max_uses, invite.used_count):
            raise Invalid("invite fully used")
        group = await groups_repo.select_group(tx.conn, invite.group_id)
        if group is None:
            raise NotFound("group not found")
        if not actor.is_owner:
            standing = await communities_repo.select_standing(
                tx.conn, group.community_id, actor.user_id
            )
            if standing.role is None or standing.banned:
                raise Invalid("you must be a member of this community to join this group")
        if not await memberships_repo.join_group(
            tx.conn, group.id, actor.user_id, discoverable_channels_only=False
        ):
            raise Conflict("already a member of this group")
        if not await invites_repo.consume_group_invite(tx.conn, invite.id, now):
            raise Invalid("invite fully used")
    return Accepted(group.id, group.name)
