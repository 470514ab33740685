"""Community invites: create, list and revoke them (inside the community gate), look one up by
code, and accept it.

Accepting is race-free: the membership is inserted first (``ON CONFLICT DO NOTHING``, so a
double accept by one user is a 409, not a second seat), then one seat is taken with a single
conditional UPDATE; if no seat is left the whole transaction rolls back. Concurrent accepts
at the limit never over-use an invite.

Ours beyond the original: ``max_uses`` must be at least 1 (services/invite_codes.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from chatalot.context import Ctx
from chatalot.db.database import Conn
from chatalot.db.errors import on_foreign_key_violation, on_unique_violation
from chatalot.errors import Conflict, Forbidden, Invalid, NotFound
from chatalot.ids import CommunityId, uuid7
from chatalot.repositories import communities as communities_repo
from chatalot.repositories import community_invites as invites_repo
from chatalot.repositories import memberships as memberships_repo
from chatalot.repositories.communities import CommunityRow
from chatalot.repositories.community_invites import CommunityInviteRow
from chatalot.services import invite_codes, permissions
from chatalot.services.actor import Actor

PRIVATE_NAME = "Private Community"


@dataclass(frozen=True, slots=True)
class InviteInfo:
    community_name: str
    community_description: str | None
    member_count: int
    code: str


@dataclass(frozen=True, slots=True)
class Accepted:
    community_id: CommunityId
    community_name: str


async def _community(conn: Conn, community_id: CommunityId) -> CommunityRow:
    """The community (instance staff pass the gate even for one that does not exist)."""
    community = await communities_repo.select_community(conn, community_id)
    if community is None:
        raise NotFound("community not found")
    return community


async def create_invite(
    ctx: Ctx,
    actor: Actor,
    community_id: CommunityId,
    *,
    max_uses: int | None,
    expires_in_hours: int | None,
) -> CommunityInviteRow:
    """comm-member meeting the community's ``who_can_create_invites`` policy."""
    now = ctx.clock.now()
    async with ctx.db.transaction("create_community_invite") as tx:
        access = await permissions.access_community(tx.conn, actor, community_id)
        community = await _community(tx.conn, community_id)
        if not permissions.meets_policy(access.role, community.who_can_create_invites):
            raise Forbidden()
        expires_at = invite_codes.check_limits(
            now, max_uses=max_uses, expires_in_hours=expires_in_hours
        )
        with on_unique_violation("invite code collision, please try again"):
            return await invites_repo.insert_community_invite(
                tx.conn,
                invite_id=uuid7(),
                community_id=community_id,
                code=invite_codes.new_invite_code(),
                created_by=actor.user_id,
                max_uses=max_uses,
                expires_at=expires_at,
                created_at=now,
            )


async def list_invites(
    ctx: Ctx, actor: Actor, community_id: CommunityId
) -> list[CommunityInviteRow]:
    """comm-manager: the newest 200, newest first."""
    async with ctx.db.connection() as conn:
        access = await permissions.access_community(conn, actor, community_id)
        access.require_manager()
        await _community(conn, community_id)
        return await invites_repo.list_community_invites(conn, community_id)


async def revoke_invite(
    ctx: Ctx, actor: Actor, community_id: CommunityId, invite_id: uuid.UUID
) -> None:
    """comm-manager; another community's invite is ``invite not found`` too."""
    async with ctx.db.transaction("revoke_community_invite") as tx:
        access = await permissions.access_community(tx.conn, actor, community_id)
        access.require_manager()
        if not await invites_repo.delete_community_invite(tx.conn, invite_id, community_id):
            raise NotFound("invite not found")


async def _usable_invite(conn: Conn, code: str, ctx: Ctx) -> CommunityInviteRow:
    """The invite of ``code`` if it can still be used (the original's checks, in order)."""
    if invite_codes.code_too_long(code):
        raise Invalid("invalid invite code")
    invite = await invites_repo.select_community_invite_by_code(conn, code)
    if invite is None:
        raise NotFound("invite not found")
    if invite_codes.is_expired(invite.expires_at, ctx.clock.now()):
        raise Invalid("invite expired")
    if invite_codes.is_used_up(invite.max_uses, invite.used_count):
        raise Invalid("invite fully used")
    return invite


async def invite_info(ctx: Ctx, actor: Actor, code: str) -> InviteInfo:
    """Any signed-in user; a community that is not discoverable keeps its name private."""
    async with ctx.db.transaction("community_invite_info") as tx:
        invite = await _usable_invite(tx.conn, code, ctx)
        community = await _community(tx.conn, invite.community_id)
    if not community.discoverable:
        return InviteInfo(PRIVATE_NAME, None, community.member_count, invite.code)
    return InviteInfo(community.name, community.description, community.member_count, invite.code)


async def accept_invite(ctx: Ctx, actor: Actor, code: str) -> Accepted:
    """Joins the community as ``member`` and every public group in it (their discoverable
    channels)."""
    now = ctx.clock.now()
    async with ctx.db.transaction("accept_community_invite") as tx:
        invite = await _usable_invite(tx.conn, code, ctx)
        community_id = invite.community_id
        standing = await communities_repo.select_standing(tx.conn, community_id, actor.user_id)
        if standing.banned:
            raise Forbidden()
        if standing.role is not None:
            raise Conflict("already a member of this community")
        with on_foreign_key_violation("community not found"):
            added = await invites_repo.insert_community_member(tx.conn, community_id, actor.user_id)
        if not added:  # joined meanwhile (e.g. a second accept at the same time)
            raise Conflict("already a member of this community")
        if not await invites_repo.consume_community_invite(tx.conn, invite.id, now):
            raise Invalid("invite fully used")
        await memberships_repo.join_public_groups(tx.conn, community_id, actor.user_id)
        community = await _community(tx.conn, community_id)
    return Accepted(community.id, community.name)
