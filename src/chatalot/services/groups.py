"""Groups: create, list, discover, read, change, delete, transfer, join and leave them; their
members; and their channels (create, change, delete).

Who may do what (spec rest-api 1.16, 2.6) goes through services/permissions.py: the group
effective role (``group_effective_role``), grp-admin+ (``is_group_admin``) and the community
moderator (``is_community_moderator``).

Existence stays private: for a group id that does not exist, everyone but the instance owner
gets the same 403 as for a group they have no role in (the instance owner, who may act in
every group, gets 404 ``group not found``). Routes that need a role in the group check it
before anything that would tell a caller without one something about the group.

Ours beyond the original:

- PATCH ``accent_color: ""`` clears the colour (the client's "clear" button); a colour must be
  ``#rgb`` or ``#rrggbb`` (the column holds 7 characters; the original answered 500 for 8-9);
- ``icon_url`` / ``banner_url`` / a group channel's ``voice_background`` follow the profile
  image rules (services/validation.py ``validate_image_url``) instead of being stored unchecked;
- PATCH of a group channel emits ``channel_updated`` to its subscribers (the original forgot;
  the client applies it);
- the per-community group cap and the per-group channel cap hold under concurrent creation
  (a lock per community / on the group row);
- leaving a group or deleting it (or one of its channels) drops the affected subscriptions at
  once (``AccessRevoked``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chatalot.context import Ctx
from chatalot.db.database import Conn
from chatalot.errors import Forbidden, Invalid, NotFound
from chatalot.ids import ChannelId, CommunityId, GroupId, UserId, uuid7
from chatalot.protocol import events
from chatalot.protocol.api.groups import (
    CreateGroupChannelIn,
    CreateGroupIn,
    UpdateGroupChannelIn,
    UpdateGroupIn,
)
from chatalot.repositories import channels as channels_repo
from chatalot.repositories import communities as communities_repo
from chatalot.repositories import groups as groups_repo
from chatalot.repositories import memberships as memberships_repo
from chatalot.repositories.channels import ChannelRow
from chatalot.repositories.groups import GroupMemberRow, GroupRow
from chatalot.services import permissions
from chatalot.services.access_revocation import revoke_access, revoke_access_pairs
from chatalot.services.actor import Actor
from chatalot.services.audience import ChannelSubscribers, Users
from chatalot.services.audit import record_audit
from chatalot.services.space_events import (
    emit_channel_updated,
    emit_group_updated,
)
from chatalot.services.validation import check_plain_text, check_size, validate_image_url

MAX_GROUPS_PER_COMMUNITY = 200
MAX_CHANNELS_PER_GROUP = 100
MAX_NAME_BYTES = 64
MAX_DESCRIPTION_BYTES = 2048
MAX_TOPIC_BYTES = 512
MAX_SLOW_MODE_SECONDS = 86400
VISIBILITIES = ("public", "private")
CHANNEL_TYPES = ("text", "voice", "gallery")
MULTILINE = "\n\r\t"
_HEX_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")

GROUP_NAME_MESSAGE = "group name must be 1-64 characters"
GROUP_NAME_MESSAGE_PATCH = "group name must be 1\u201364 characters"  # the original's EN DASH
DESCRIPTION_MESSAGE = "description must be at most 2048 characters"
VISIBILITY_MESSAGE = "visibility must be 'public' or 'private'"
ACCENT_MESSAGE = "accent_color must be a hex color (e.g. #ff0000)"
CHANNEL_NAME_MESSAGE = "channel name must be 1-64 characters"
TOPIC_MESSAGE = "topic must be at most 512 characters"
SLOW_MODE_MESSAGE = "slow_mode_seconds must be between 0 and 86400"


# -- access ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GroupAccess:
    """The caller as seen by one group."""

    group: GroupRow
    role: str | None  # effective role (None: no access)
    stored_role: str | None  # group_members.role
    community_role: str | None  # community_members.role

    def require_role(self) -> None:
        if self.role is None:
            raise Forbidden()

    def require_admin(self) -> None:
        if not permissions.is_group_admin(self.role):
            raise Forbidden()


def _missing_group(actor: Actor) -> Exception:
    """A group id that does not exist: 404 for the instance owner, the 403 of "no role" for
    everyone else (so ids reveal nothing)."""
    return NotFound("group not found") if actor.is_owner else Forbidden()


async def load_group(conn: Conn, actor: Actor, group_id: GroupId) -> GroupRow:
    group = await groups_repo.select_group(conn, group_id)
    if group is None:
        raise _missing_group(actor)
    return group


async def access_group(conn: Conn, actor: Actor, group_id: GroupId) -> GroupAccess:
    """The group and the caller's roles in it and in its community (no check made)."""
    group = await load_group(conn, actor, group_id)
    stored = await groups_repo.select_group_role(conn, group_id, actor.user_id)
    community_role = await communities_repo.select_member_role(
        conn, group.community_id, actor.user_id
    )
    role = permissions.group_effective_role(
        actor, group_role=stored, personal=group.personal, community_role=community_role
    )
    return GroupAccess(group, role, stored, community_role)


# -- input -------------------------------------------------------------------------------------


def _name(value: str, message: str, field: str = "group name") -> str:
    name = value.strip()
    if not name or len(name.encode()) > MAX_NAME_BYTES:
        raise Invalid(message)
    check_plain_text(name, field)
    return name


def _description(value: str) -> str:
    description = value.strip()
    check_size(description, "description", MAX_DESCRIPTION_BYTES, DESCRIPTION_MESSAGE)
    check_plain_text(description, "description", allow=MULTILINE)
    return description


def _topic(value: str) -> str:
    topic = value.strip()
    check_size(topic, "topic", MAX_TOPIC_BYTES, TOPIC_MESSAGE)
    check_plain_text(topic, "topic", allow=MULTILINE)
    return topic


def _image(ctx: Ctx, value: str, what: str) -> str | None:
    """``""`` clears; anything else must be an image URL clients may display."""
    if value == "":
        return None
    allow_external = ctx.instance.values.allow_external_image_urls
    return validate_image_url(value, what, allow_external=allow_external)


# -- groups ------------------------------------------------------------------------------------


async def create_group(
    ctx: Ctx,
    actor: Actor,
    body: CreateGroupIn,
    *,
    community_id: CommunityId,
    assigned_member_id: UserId | None,
) -> GroupRow:
    """A group in a community the caller belongs to (policy ``who_can_create_groups``; a
    personal group, for ``assigned_member_id``, needs a community moderator). Makes its
    ``general`` text channel; a public group takes in every community member, a private one
    the community owner."""
    name = _name(body.name, GROUP_NAME_MESSAGE)
    description = _description(body.description) if body.description is not None else None
    async with ctx.db.transaction("create_group") as tx:
        conn = tx.conn
        community_role = await communities_repo.select_member_role(
            conn, community_id, actor.user_id
        )
        if community_role is None:
            raise Forbidden()
        community = await communities_repo.select_community(conn, community_id)
        if community is None:
            raise NotFound("community not found")
        policy_role = permissions.INSTANCE_OWNER if actor.is_owner else community_role
        if not permissions.meets_policy(policy_role, community.who_can_create_groups):
            raise Forbidden()
        if assigned_member_id is not None:
            if not permissions.is_community_moderator(actor, community_role):
                raise Forbidden()
            if (
                await communities_repo.select_member_role(conn, community_id, assigned_member_id)
                is None
            ):
                raise Invalid("assigned member must be a member of this community")
            visibility = "private"
        else:
            visibility = body.visibility if body.visibility is not None else "public"
            if visibility not in VISIBILITIES:
                raise Invalid(VISIBILITY_MESSAGE)
        await groups_repo.lock_community_groups(conn, community_id)
        if await groups_repo.count_community_groups(conn, community_id) >= (
            MAX_GROUPS_PER_COMMUNITY
        ):
            raise Invalid(f"maximum of {MAX_GROUPS_PER_COMMUNITY} groups per community")
        group_id = GroupId(uuid7())
        owner = assigned_member_id or actor.user_id
        await groups_repo.insert_group(
            conn,
            group_id=group_id,
            name=name,
            description=description,
            owner_id=actor.user_id,
            community_id=community_id,
            visibility=visibility,
            assigned_member_id=assigned_member_id,
        )
        await groups_repo.insert_group_member(conn, group_id, owner, permissions.OWNER)
        general = await channels_repo.insert_channel(
            conn,
            channel_id=ChannelId(uuid7()),
            name="general",
            channel_type="text",
            topic=None,
            created_by=owner,
            group_id=group_id,
        )
        await channels_repo.insert_channel_member(conn, general.id, owner, permissions.OWNER)
        if assigned_member_id is None:
            if visibility == "public":
                await groups_repo.insert_community_members_into_group(conn, group_id, community_id)
                await groups_repo.insert_group_members_into_channels(
                    conn, group_id, discoverable_only=True
                )
            elif community.owner_id is not None and community.owner_id != actor.user_id:
                await memberships_repo.join_group(
                    conn, group_id, community.owner_id, discoverable_channels_only=False
                )
        group = await groups_repo.select_group(conn, group_id)
    assert group is not None
    return group


async def list_groups(ctx: Ctx, actor: Actor) -> list[GroupRow]:
    """The caller's groups, by name."""
    async with ctx.db.connection() as conn:
        return await groups_repo.list_member_groups(conn, actor.user_id)


async def discover_groups(ctx: Ctx, actor: Actor) -> list[GroupRow]:
    """The instance owner: every group; anyone else: the public, discoverable groups of their
    communities and the groups they are in. At most 200, by name."""
    async with ctx.db.transaction("discover_groups") as tx:
        if actor.is_owner:
            return await groups_repo.list_all_groups(tx.conn)
        return await groups_repo.list_discoverable_groups(tx.conn, actor.user_id)


async def get_group(ctx: Ctx, actor: Actor, group_id: GroupId) -> GroupRow:
    async with ctx.db.connection() as conn:
        access = await access_group(conn, actor, group_id)
        access.require_role()
        return access.group


def _group_changes(ctx: Ctx, body: UpdateGroupIn) -> dict[str, object]:
    """The columns a PATCH sets (validated); ``""`` clears the clearable ones."""
    changes: dict[str, object] = {}
    if body.name is not None:
        changes["name"] = _name(body.name, GROUP_NAME_MESSAGE_PATCH)
    if body.description is not None:
        changes["description"] = _description(body.description) or None
    if body.visibility is not None:
        if body.visibility not in VISIBILITIES:
            raise Invalid(VISIBILITY_MESSAGE)
        changes["visibility"] = body.visibility
    if body.discoverable is not None:
        changes["discoverable"] = body.discoverable
    if body.allow_invites is not None:
        changes["allow_invites"] = body.allow_invites
    if body.icon_url is not None:
        changes["icon_url"] = _image(ctx, body.icon_url, "icon")
    if body.banner_url is not None:
        changes["banner_url"] = _image(ctx, body.banner_url, "banner")
    if body.accent_color is not None:
        if body.accent_color == "":
            changes["accent_color"] = None
        elif _HEX_COLOR.fullmatch(body.accent_color):
            changes["accent_color"] = body.accent_color
        else:
            raise Invalid(ACCENT_MESSAGE)
    return changes


async def update_group(ctx: Ctx, actor: Actor, group_id: GroupId, body: UpdateGroupIn) -> GroupRow:
    """grp-admin+ (``allow_invites`` also needs a community moderator). Emits
    ``group_updated`` to every member of the community."""
    async with ctx.db.transaction("update_group") as tx:
        access = await access_group(tx.conn, actor, group_id)
        access.require_admin()
        if body.allow_invites is not None and not permissions.is_community_moderator(
            actor, access.community_role
        ):
            raise Forbidden()
        changes = _group_changes(ctx, body)
        group = await groups_repo.update_group(tx.conn, group_id, changes)
        if group is None:
            raise _missing_group(actor)
        await emit_group_updated(tx, group)
    return group


async def delete_group(ctx: Ctx, actor: Actor, group_id: GroupId) -> None:
    """A personal group: its creator or a community moderator; any other group: its owner
    (stored role; the instance owner has no bypass). Emits ``group_deleted`` to the
    community's members and drops everyone's subscriptions to its channels."""
    async with ctx.db.transaction("delete_group") as tx:
        access = await access_group(tx.conn, actor, group_id)
        group = access.group
        if group.personal:
            allowed = group.owner_id == actor.user_id or permissions.is_community_moderator(
                actor, access.community_role
            )
        else:
            allowed = access.stored_role == permissions.OWNER
        if not allowed:
            raise Forbidden()
        pairs = await memberships_repo.list_group_channel_member_pairs(tx.conn, group_id)
        members = await communities_repo.list_member_ids(tx.conn, group.community_id)
        await groups_repo.delete_group(tx.conn, group_id)
        tx.emit(events.GroupDeleted(group_id=str(group_id)), to=Users.of(members))
        revoke_access_pairs(tx, pairs, "deleted")
        await record_audit(
            tx.conn,
            "group_deleted",
            user_id=actor.user_id,
            meta=actor.meta,
            metadata={"group_id": str(group_id), "group_name": group.name},
        )


async def transfer_ownership(
    ctx: Ctx, actor: Actor, group_id: GroupId, new_owner_id: UserId
) -> None:
    """The owner (stored role) hands the group to another member and becomes ``admin``.
    Personal groups cannot change hands."""
    async with ctx.db.transaction("transfer_group_ownership") as tx:
        access = await access_group(tx.conn, actor, group_id)
        access.require_role()
        await groups_repo.lock_group(tx.conn, group_id)
        if access.group.personal:
            raise Invalid("cannot transfer ownership of a personal group")
        stored = await groups_repo.select_group_role(tx.conn, group_id, actor.user_id)
        if stored != permissions.OWNER:
            raise Forbidden()
        if await groups_repo.select_group_role(tx.conn, group_id, new_owner_id) is None:
            raise Invalid("target user must be a member of this group")
        await groups_repo.update_group_owner(tx.conn, group_id, new_owner_id)
        await groups_repo.update_group_member_role(
            tx.conn, group_id, actor.user_id, permissions.ADMIN
        )
        await groups_repo.update_group_member_role(
            tx.conn, group_id, new_owner_id, permissions.OWNER
        )


async def join_group(ctx: Ctx, actor: Actor, group_id: GroupId) -> None:
    """A member of the group's community joins it and all its channels (also the ones that
    are not discoverable); a private group that is not discoverable is closed (invites only)."""
    async with ctx.db.transaction("join_group") as tx:
        group = await load_group(tx.conn, actor, group_id)
        if group.visibility == "private" and not group.discoverable:
            raise Forbidden()
        if not actor.is_owner:
            standing = await communities_repo.select_standing(
                tx.conn, group.community_id, actor.user_id
            )
            if standing.role is None or standing.banned:
                raise Forbidden()
        await memberships_repo.join_group(
            tx.conn, group_id, actor.user_id, discoverable_channels_only=False
        )


async def leave_group(ctx: Ctx, actor: Actor, group_id: GroupId) -> None:
    """Leaves the group and its channels (not the owner). The remaining members of each of
    those channels are told to rotate their sender keys."""
    async with ctx.db.transaction("leave_group") as tx:
        stored = await groups_repo.select_group_role(tx.conn, group_id, actor.user_id)
        if stored is None:
            raise Forbidden()
        if stored == permissions.OWNER:
            raise Invalid("owner cannot leave; transfer ownership or delete the group instead")
        channels = await memberships_repo.remove_from_group(tx.conn, group_id, actor.user_id)
        await memberships_repo.delete_sender_key_distributions(tx.conn, actor.user_id, channels)
        revoke_access(tx, actor.user_id, channels, "left")
        for channel_id in channels:
            tx.emit(
                events.SenderKeyRotationRequired(channel_id=str(channel_id), reason="member_left"),
                to=ChannelSubscribers(channel_id),
            )


async def list_members(
    ctx: Ctx, actor: Actor, group_id: GroupId, *, limit: int, offset: int
) -> list[GroupMemberRow]:
    async with ctx.db.connection() as conn:
        access = await access_group(conn, actor, group_id)
        access.require_role()
        return await groups_repo.list_group_members(conn, group_id, limit=limit, offset=offset)


# -- the group's channels ----------------------------------------------------------------------


async def list_channels(ctx: Ctx, actor: Actor, group_id: GroupId) -> list[ChannelRow]:
    """The group's channels that are discoverable or have the caller as a member."""
    async with ctx.db.connection() as conn:
        access = await access_group(conn, actor, group_id)
        access.require_role()
        return await groups_repo.list_visible_group_channels(conn, group_id, actor.user_id)


async def create_channel(
    ctx: Ctx, actor: Actor, group_id: GroupId, body: CreateGroupChannelIn
) -> ChannelRow:
    """grp-admin+: a discoverable channel in the group, with every group member in it (the
    caller as its ``owner``)."""
    async with ctx.db.transaction("create_group_channel") as tx:
        access = await access_group(tx.conn, actor, group_id)
        access.require_admin()
        if body.channel_type not in CHANNEL_TYPES:
            raise Invalid("invalid channel type")
        name = _name(body.name, CHANNEL_NAME_MESSAGE, "channel name")
        topic = _topic(body.topic) if body.topic is not None else None
        await groups_repo.lock_group(tx.conn, group_id)
        if await groups_repo.count_group_channels(tx.conn, group_id) >= MAX_CHANNELS_PER_GROUP:
            raise Invalid(f"maximum of {MAX_CHANNELS_PER_GROUP} channels per group")
        channel = await channels_repo.insert_channel(
            tx.conn,
            channel_id=ChannelId(uuid7()),
            name=name,
            channel_type=body.channel_type,
            topic=topic,
            created_by=actor.user_id,
            group_id=group_id,
        )
        await channels_repo.insert_channel_member(
            tx.conn, channel.id, actor.user_id, permissions.OWNER
        )
        await groups_repo.insert_group_members_into_channel(tx.conn, channel.id, group_id)
    return channel


def _channel_changes(ctx: Ctx, body: UpdateGroupChannelIn) -> dict[str, object]:
    changes: dict[str, object] = {}
    if body.name is not None:
        changes["name"] = _name(body.name, CHANNEL_NAME_MESSAGE, "channel name")
    if body.topic is not None:
        changes["topic"] = _topic(body.topic) or None
    if body.slow_mode_seconds is not None:
        if not 0 <= body.slow_mode_seconds <= MAX_SLOW_MODE_SECONDS:
            raise Invalid(SLOW_MODE_MESSAGE)
        changes["slow_mode_seconds"] = body.slow_mode_seconds
    if body.read_only is not None:
        changes["read_only"] = body.read_only
    if body.discoverable is not None:
        changes["discoverable"] = body.discoverable
    if body.archived is not None:
        changes["archived"] = body.archived
    if body.voice_background is not None:
        changes["voice_background"] = _image(ctx, body.voice_background, "voice background")
    return changes


async def _group_channel(conn: Conn, group_id: GroupId, channel_id: ChannelId) -> ChannelRow:
    channel = await channels_repo.select_channel(conn, channel_id)
    if channel is None:
        raise NotFound("channel not found")
    if channel.group_id != group_id:
        raise Forbidden()
    return channel


async def update_channel(
    ctx: Ctx, actor: Actor, group_id: GroupId, channel_id: ChannelId, body: UpdateGroupChannelIn
) -> ChannelRow:
    """grp-admin+, for a channel of this group. Emits ``channel_updated`` to its
    subscribers."""
    async with ctx.db.transaction("update_group_channel") as tx:
        access = await access_group(tx.conn, actor, group_id)
        access.require_admin()
        changes = _channel_changes(ctx, body)
        await _group_channel(tx.conn, group_id, channel_id)
        channel = await groups_repo.update_group_channel(tx.conn, channel_id, changes)
        if channel is None:
            raise NotFound("channel not found")
        emit_channel_updated(tx, channel)
    return channel


async def delete_channel(ctx: Ctx, actor: Actor, group_id: GroupId, channel_id: ChannelId) -> None:
    """grp-admin+, for a channel of this group. Emits ``channel_deleted`` to the community's
    members and drops its members' subscriptions."""
    async with ctx.db.transaction("delete_group_channel") as tx:
        access = await access_group(tx.conn, actor, group_id)
        access.require_admin()
        await _group_channel(tx.conn, group_id, channel_id)
        channel_members = await channels_repo.list_member_ids(tx.conn, channel_id)
        members = await communities_repo.list_member_ids(tx.conn, access.group.community_id)
        await groups_repo.delete_channel(tx.conn, channel_id)
        tx.emit(events.ChannelDeleted(channel_id=str(channel_id)), to=Users.of(members))
        for user_id in channel_members:
            revoke_access(tx, user_id, [channel_id], "deleted")
        await record_audit(
            tx.conn,
            "channel_deleted",
            user_id=actor.user_id,
            meta=actor.meta,
            metadata={"channel_id": str(channel_id), "group_id": str(group_id)},
        )
