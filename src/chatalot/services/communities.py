"""Communities: listing and creating them, reading, editing and deleting one, handing it to
another member, leaving it, and what a member sees of it (their groups, its custom emoji).
Members, roles, kicks and bans: services/community_members.py. The theme: community_theme.py.

Ours beyond the original (spec rest-api 2.5, fixes from spec/README.md):

- names, descriptions and welcome messages refuse control and invisible formatting
  characters; icon and banner URLs follow the profile image rules (services/validation.py
  ``validate_image_url``: an image uploaded here, or an external one if the instance allows);
- ``community_theme: null`` clears the theme (the client's "reset" sends null); the custom
  CSS is parsed and re-serialised, not pattern-matched (community_theme.py);
- transferring ownership makes the new owner the only ``owner`` member: the previous owner
  becomes ``admin`` whoever asked (the original left two owners when an instance admin did
  it), all under row locks;
- a member whose stored role is ``owner`` cannot leave, even when they are also instance staff
  (the original let them, leaving a community whose owner is not a member);
- a member who leaves gets ``community_member_removed`` (reason ``left``) on all their
  sessions, so their other devices drop the community at once (the original sends nothing);
- deleting a community ends every member's access to its channels at once; when instance
  staff delete someone else's community, the audit log says so (``admin_delete_community``).
"""

from __future__ import annotations

from typing import Any

import msgspec

from chatalot.context import Ctx
from chatalot.db.database import Conn
from chatalot.errors import Forbidden, Invalid, NotFound
from chatalot.ids import CommunityId, UserId, uuid7
from chatalot.protocol.api.communities import CreateCommunityIn, UpdateCommunityIn
from chatalot.repositories import communities as communities_repo
from chatalot.repositories import groups as groups_repo
from chatalot.repositories import memberships as memberships_repo
from chatalot.repositories.communities import CommunityRow, CustomEmojiRow
from chatalot.repositories.groups import GroupRow
from chatalot.services import permissions
from chatalot.services.access_revocation import revoke_access, revoke_access_pairs
from chatalot.services.actor import Actor
from chatalot.services.audit import record_audit
from chatalot.services.community_members import tell_removed
from chatalot.services.community_theme import validate_theme
from chatalot.services.space_events import (
    emit_community_updated,
)
from chatalot.services.validation import check_plain_text, check_size, validate_image_url

MAX_NAME_BYTES = 64
MAX_DESCRIPTION_BYTES = 2048
MAX_WELCOME_BYTES = 2000
MAX_EMOJIS_LISTED = 500
NAME_MESSAGE = "community name must be 1-64 characters"
DESCRIPTION_MESSAGE = "description must be at most 2048 characters"
WELCOME_MESSAGE = "welcome_message must be at most 2000 characters"
MULTILINE = "\n\t"


def community_not_found() -> NotFound:
    return NotFound("community not found")


# -- input rules -----------------------------------------------------------------------------


def _name(value: str) -> str:
    name = value.strip()
    if not name:
        raise Invalid(NAME_MESSAGE)
    check_plain_text(name, "community name")
    check_size(name, "community name", MAX_NAME_BYTES, NAME_MESSAGE)
    return name


def _description(value: str) -> str:
    """Trimmed (may be empty)."""
    description = value.strip()
    check_plain_text(description, "description", allow=MULTILINE)
    check_size(description, "description", MAX_DESCRIPTION_BYTES, DESCRIPTION_MESSAGE)
    return description


def _welcome_message(value: str) -> str:
    """Not trimmed (as the original)."""
    check_plain_text(value, "welcome_message", allow=MULTILINE)
    check_size(value, "welcome_message", MAX_WELCOME_BYTES, WELCOME_MESSAGE)
    return value


def _policy(value: str, field: str) -> str:
    if value not in permissions.POLICIES:
        raise Invalid(f"{field} must be 'everyone', 'moderator', or 'admin'")
    return value


def _changes(body: UpdateCommunityIn, *, allow_external: bool) -> dict[str, Any]:
    """The columns a PATCH sets, every value checked (Invalid otherwise)."""
    changes: dict[str, Any] = {}
    if body.name is not None:
        changes["name"] = _name(body.name)
    if body.description is not None:
        changes["description"] = _description(body.description) or None
    for field, what in (("icon_url", "icon"), ("banner_url", "banner")):
        url: str | None = getattr(body, field)
        if url is not None:
            changes[field] = (
                validate_image_url(url, what, allow_external=allow_external) if url else None
            )
    if body.who_can_create_groups is not None:
        changes["who_can_create_groups"] = _policy(
            body.who_can_create_groups, "who_can_create_groups"
        )
    if body.who_can_create_invites is not None:
        changes["who_can_create_invites"] = _policy(
            body.who_can_create_invites, "who_can_create_invites"
        )
    if body.discoverable is not None:
        changes["discoverable"] = body.discoverable
    if body.community_theme is not msgspec.UNSET:
        theme = body.community_theme
        changes["community_theme"] = None if theme is None else validate_theme(theme)
    if body.welcome_message is not None:
        changes["welcome_message"] = _welcome_message(body.welcome_message) or None
    return changes


# -- the caller's communities ----------------------------------------------------------------


async def list_communities(
    ctx: Ctx, actor: Actor, *, limit: int, offset: int
) -> list[CommunityRow]:
    """The caller's communities, by name."""
    async with ctx.db.connection() as conn:
        return await communities_repo.list_user_communities(
            conn, actor.user_id, limit=limit, offset=offset
        )


async def create_community(ctx: Ctx, actor: Actor, body: CreateCommunityIn) -> CommunityRow:
    """COMMUNITY_CREATION_MODE ``open``: anyone; ``admin_only``: instance staff (403)."""
    if ctx.settings.community_creation_mode != "open" and permissions.instance_role(actor) is None:
        raise Forbidden()
    name = _name(body.name)
    description = _description(body.description) if body.description is not None else None
    community_id = CommunityId(uuid7())
    async with ctx.db.transaction("create_community") as tx:
        await communities_repo.insert_community(
            tx.conn,
            community_id=community_id,
            name=name,
            description=description,
            owner_id=actor.user_id,
        )
        row = await communities_repo.select_community(tx.conn, community_id)
    assert row is not None
    return row


# -- one community -------------------------------------------------------------------------


async def get_community(ctx: Ctx, actor: Actor, community_id: CommunityId) -> CommunityRow:
    async with ctx.db.connection() as conn:
        await permissions.access_community(conn, actor, community_id)
        row = await communities_repo.select_community(conn, community_id)
    if row is None:
        raise community_not_found()
    return row


async def update_community(
    ctx: Ctx, actor: Actor, community_id: CommunityId, body: UpdateCommunityIn
) -> CommunityRow:
    """comm-manager. Tells every member (``community_updated``)."""
    allow_external = ctx.instance.values.allow_external_image_urls
    async with ctx.db.transaction("update_community") as tx:
        access = await permissions.access_community(tx.conn, actor, community_id)
        access.require_manager()
        changes = _changes(body, allow_external=allow_external)
        if changes:
            row = await communities_repo.update_community(tx.conn, community_id, changes)
        else:
            row = await communities_repo.select_community(tx.conn, community_id)
        if row is None:
            raise community_not_found()
        await emit_community_updated(tx, row)
    return row


async def _lock_as_owner(conn: Conn, actor: Actor, community_id: CommunityId) -> None:
    """comm-owner, checked again once the community row is locked (``FOR UPDATE``), so that
    an owner who has just handed the community over (a concurrent transfer) is refused."""
    (await permissions.access_community(conn, actor, community_id)).require_owner()
    if await communities_repo.lock_community(conn, community_id) is None:
        raise community_not_found()
    (await permissions.access_community(conn, actor, community_id)).require_owner()


async def delete_community(ctx: Ctx, actor: Actor, community_id: CommunityId) -> None:
    """comm-owner. Everyone loses access to its channels at once; no client event (as the
    original)."""
    async with ctx.db.transaction("delete_community") as tx:
        await _lock_as_owner(tx.conn, actor, community_id)
        row = await communities_repo.select_community(tx.conn, community_id)
        if row is None:
            raise community_not_found()
        pairs = await memberships_repo.list_community_channel_member_pairs(tx.conn, community_id)
        await communities_repo.delete_community(tx.conn, community_id)
        revoke_access_pairs(tx, pairs, "deleted")
        if permissions.instance_role(actor) is not None and row.owner_id != actor.user_id:
            await record_audit(
                tx.conn,
                "admin_delete_community",
                user_id=actor.user_id,
                meta=actor.meta,
                metadata={"community_id": str(community_id), "community_name": row.name},
            )


async def transfer_ownership(
    ctx: Ctx, actor: Actor, community_id: CommunityId, new_owner_id: UserId
) -> None:
    """comm-owner. The new owner must be a member; the previous owner becomes ``admin``."""
    async with ctx.db.transaction("transfer_community_ownership") as tx:
        await _lock_as_owner(tx.conn, actor, community_id)
        role = await communities_repo.select_member_role_for_update(
            tx.conn, community_id, new_owner_id
        )
        if role is None:
            raise Invalid("target user must be a member of this community")
        await communities_repo.update_owner(tx.conn, community_id, new_owner_id)
        await communities_repo.update_owner_memberships(
            tx.conn, community_id, new_owner=new_owner_id
        )


async def leave_community(ctx: Ctx, actor: Actor, community_id: CommunityId) -> None:
    """Any member but the owner: out of the community, its groups and their channels."""
    async with ctx.db.transaction("leave_community") as tx:
        access = await permissions.access_community(tx.conn, actor, community_id)
        if access.member_role == permissions.OWNER:
            raise Invalid("owner cannot leave; transfer ownership or delete the community instead")
        channels = await memberships_repo.remove_from_community(
            tx.conn, community_id, actor.user_id
        )
        revoke_access(tx, actor.user_id, channels, "left")
        if access.member_role is not None:
            tell_removed(tx, community_id, actor.user_id, "left")


# -- what a member sees ----------------------------------------------------------------------


async def list_community_groups(
    ctx: Ctx, actor: Actor, community_id: CommunityId
) -> list[GroupRow]:
    """The community's groups the caller is in (instance staff too: only their own)."""
    async with ctx.db.connection() as conn:
        await permissions.access_community(conn, actor, community_id)
        return await groups_repo.list_member_groups_in_community(conn, community_id, actor.user_id)


async def list_emojis(ctx: Ctx, actor: Actor, community_id: CommunityId) -> list[CustomEmojiRow]:
    """Up to 500, by shortcode."""
    async with ctx.db.connection() as conn:
        await permissions.access_community(conn, actor, community_id)
        return await communities_repo.list_custom_emojis(
            conn, community_id, limit=MAX_EMOJIS_LISTED
        )
