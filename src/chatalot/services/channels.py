"""Channels (spec rest-api 2.7): listing the caller's channels, creating, reading and editing
one. Membership actions (join, leave, roles, kick, ban) are in services/channel_members.py.

Beyond the original: ``message_ttl_seconds: 0`` clears the TTL (the original ignored it);
``voice_background`` follows the same URL rules as profile images; names and topics refuse
control and invisible formatting characters; creating a channel in a group needs community
membership without a community ban (banned users are not members). Instance staff may read
any channel's details (as they may moderate it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from chatalot.context import Ctx
from chatalot.db.database import Conn
from chatalot.errors import Forbidden, Invalid, NotFound
from chatalot.ids import ChannelId, GroupId, uuid7
from chatalot.protocol.api.channels import UpdateChannelIn
from chatalot.repositories import channels as channels_repo
from chatalot.repositories import communities as communities_repo
from chatalot.repositories import groups as groups_repo
from chatalot.repositories.channels import ChannelChanges, ChannelRow
from chatalot.services import permissions
from chatalot.services.actor import Actor
from chatalot.services.space_events import (
    emit_channel_updated,
)
from chatalot.services.validation import check_plain_text, check_size, validate_image_url

CREATABLE_TYPES = ("text", "voice", "gallery")
NAME_MESSAGE = "channel name must be 1-64 characters"
TOPIC_MESSAGE = "topic must be at most 512 characters"
MAX_SLOW_MODE = 86_400
MAX_TTL = 2_592_000


def validate_channel_name(name: str) -> str:
    value = name.strip()
    if not value:
        raise Invalid(NAME_MESSAGE)
    check_plain_text(value, "channel name")
    check_size(value, "channel name", 64, NAME_MESSAGE)
    return value


def validate_topic(topic: str) -> str:
    value = topic.strip()
    check_plain_text(value, "topic", allow="\n\t")
    check_size(value, "topic", 512, TOPIC_MESSAGE)
    return value


@dataclass(frozen=True, slots=True)
class ChannelAccess:
    """A channel as the caller sees it: the row, the caller's stored and effective roles."""

    channel: ChannelRow
    stored_role: str | None
    role: str  # effective (instance staff, else stored, else member)

    @property
    def is_member(self) -> bool:
        return self.stored_role is not None


async def access_channel(conn: Conn, actor: Actor, channel_id: ChannelId) -> ChannelAccess:
    """Loads the channel with the caller's roles; NotFound ``channel not found`` if missing.
    No permission check (callers decide)."""
    channel = await channels_repo.select_channel(conn, channel_id)
    if channel is None:
        raise NotFound("channel not found")
    stored = await channels_repo.select_channel_role(conn, channel_id, actor.user_id)
    return ChannelAccess(channel, stored, permissions.channel_effective_role(actor, stored))


async def list_channels(ctx: Ctx, actor: Actor) -> list[ChannelRow]:
    async with ctx.db.connection() as conn:
        return await channels_repo.list_member_channels(conn, actor.user_id)


async def create_channel(
    ctx: Ctx,
    actor: Actor,
    *,
    name: str,
    channel_type: str,
    topic: str | None,
    group_id: uuid.UUID | None,
    discoverable: bool,
) -> ChannelRow:
    """A standalone channel, or one in ``group_id`` (caller must be a member of the group's
    community, not banned from it). The caller becomes its owner."""
    if channel_type not in CREATABLE_TYPES:
        raise Invalid("invalid channel type")
    name = validate_channel_name(name)
    topic = validate_topic(topic) if topic is not None else None
    async with ctx.db.transaction("create_channel") as tx:
        if group_id is not None:
            group = await groups_repo.select_group(tx.conn, GroupId(group_id))
            if group is None:
                raise NotFound("group not found")
            standing = await communities_repo.select_standing(
                tx.conn, group.community_id, actor.user_id
            )
            if standing.role is None or standing.banned:
                raise Forbidden()
        channel = await channels_repo.insert_channel(
            tx.conn,
            channel_id=ChannelId(uuid7()),
            name=name,
            channel_type=channel_type,
            topic=topic,
            created_by=actor.user_id,
            group_id=GroupId(group_id) if group_id is not None else None,
            discoverable=discoverable,
        )
        await channels_repo.insert_channel_member(tx.conn, channel.id, actor.user_id, "owner")
    return channel


async def access_channel_reader(conn: Conn, actor: Actor, channel_id: ChannelId) -> ChannelRow:
    """Who may read a channel's details: its members and instance staff; anyone else 403
    (also for a channel that does not exist), staff 404 ``channel not found``."""
    stored = await channels_repo.select_channel_role(conn, channel_id, actor.user_id)
    if stored is None and permissions.instance_role(actor) is None:
        raise Forbidden()
    channel = await channels_repo.select_channel(conn, channel_id)
    if channel is None:
        raise NotFound("channel not found")
    return channel


async def get_channel(ctx: Ctx, actor: Actor, channel_id: uuid.UUID) -> ChannelRow:
    async with ctx.db.connection() as conn:
        return await access_channel_reader(conn, actor, ChannelId(channel_id))


def _channel_changes(body: UpdateChannelIn, *, allow_external: bool) -> ChannelChanges:
    name = validate_channel_name(body.name) if body.name is not None else None
    topic = validate_topic(body.topic) if body.topic is not None else None
    if body.slow_mode_seconds is not None and not 0 <= body.slow_mode_seconds <= MAX_SLOW_MODE:
        raise Invalid("slow_mode_seconds must be between 0 and 86400")
    ttl = body.message_ttl_seconds
    if ttl is not None and not 0 <= ttl <= MAX_TTL:
        raise Invalid("message_ttl_seconds must be between 0 and 2592000 (30 days)")
    background = body.voice_background
    if background:
        background = validate_image_url(
            background, "voice background", allow_external=allow_external
        )
    return ChannelChanges(
        name=name,
        topic=topic or None,
        clear_topic=topic == "",
        read_only=body.read_only,
        slow_mode_seconds=body.slow_mode_seconds,
        message_ttl_seconds=ttl or None,
        clear_message_ttl=ttl == 0,
        discoverable=body.discoverable,
        archived=body.archived,
        voice_background=background or None,
        clear_voice_background=background == "",
    )


async def update_channel(
    ctx: Ctx, actor: Actor, channel_id: uuid.UUID, body: UpdateChannelIn
) -> ChannelRow:
    """ch-owner+ (403 before anything else); emits ``channel_updated`` to the subscribers.
    Archiving keeps every message; read-only and slow mode are enforced when sending."""
    allow_external = ctx.instance.values.allow_external_image_urls
    async with ctx.db.transaction("update_channel") as tx:
        stored = await channels_repo.select_channel_role(
            tx.conn, ChannelId(channel_id), actor.user_id
        )
        if not permissions.is_channel_owner(permissions.channel_effective_role(actor, stored)):
            raise Forbidden()
        changes = _channel_changes(body, allow_external=allow_external)
        channel = await channels_repo.update_channel(tx.conn, ChannelId(channel_id), changes)
        if channel is None:
            raise NotFound("channel not found")
        emit_channel_updated(tx, channel)
    return channel
