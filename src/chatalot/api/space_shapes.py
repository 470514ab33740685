"""Community, group and channel rows -> wire models."""

from __future__ import annotations

from chatalot.protocol.api.channels import ChannelOut
from chatalot.protocol.api.communities import CommunityOut
from chatalot.protocol.api.groups import GroupOut
from chatalot.protocol.time import rfc3339
from chatalot.repositories.channels import ChannelRow
from chatalot.repositories.communities import CommunityRow
from chatalot.repositories.groups import GroupRow


def _id(value: object | None) -> str | None:
    return str(value) if value is not None else None


def community_out(row: CommunityRow) -> CommunityOut:
    return CommunityOut(
        id=str(row.id),
        name=row.name,
        description=row.description,
        icon_url=row.icon_url,
        owner_id=_id(row.owner_id),
        created_at=rfc3339(row.created_at),
        member_count=row.member_count,
        who_can_create_groups=row.who_can_create_groups,
        who_can_create_invites=row.who_can_create_invites,
        discoverable=row.discoverable,
        banner_url=row.banner_url,
        community_theme=row.community_theme,
        welcome_message=row.welcome_message,
    )


def group_out(row: GroupRow) -> GroupOut:
    return GroupOut(
        id=str(row.id),
        name=row.name,
        description=row.description,
        owner_id=_id(row.owner_id),
        community_id=str(row.community_id),
        created_at=rfc3339(row.created_at),
        member_count=row.member_count,
        visibility=row.visibility,
        discoverable=row.discoverable,
        assigned_member_id=_id(row.assigned_member_id),
        allow_invites=row.allow_invites,
        icon_url=row.icon_url,
        banner_url=row.banner_url,
        accent_color=row.accent_color,
    )


def channel_out(row: ChannelRow) -> ChannelOut:
    """DM channels show the original's fixed values (not a group's settings)."""
    if row.channel_type == "dm":
        return ChannelOut(
            id=str(row.id),
            name=row.name,
            channel_type="dm",
            topic=row.topic,
            created_by=_id(row.created_by),
            created_at=rfc3339(row.created_at),
            group_id=None,
            read_only=False,
            slow_mode_seconds=0,
            discoverable=True,
            archived=False,
        )
    return ChannelOut(
        id=str(row.id),
        name=row.name,
        channel_type=row.channel_type,
        topic=row.topic,
        created_by=_id(row.created_by),
        created_at=rfc3339(row.created_at),
        group_id=_id(row.group_id),
        read_only=row.read_only,
        slow_mode_seconds=row.slow_mode_seconds,
        discoverable=row.discoverable,
        archived=row.archived,
        voice_background=row.voice_background,
    )
