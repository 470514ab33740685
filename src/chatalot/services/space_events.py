"""The ``*_updated`` events of communities, groups and channels, built from their rows in one
place: PATCH routes and image uploads (services/assets.py) send the same shapes to the same
audiences. Called inside the caller's transaction; published after its commit."""

from __future__ import annotations

from chatalot.db.database import Tx
from chatalot.protocol import events
from chatalot.repositories import communities as communities_repo
from chatalot.repositories.channels import ChannelRow
from chatalot.repositories.communities import CommunityRow
from chatalot.repositories.groups import GroupRow
from chatalot.services.audience import ChannelSubscribers, Users


async def emit_community_updated(tx: Tx, row: CommunityRow) -> None:
    """``community_updated`` to every member of the community."""
    members = await communities_repo.list_member_ids(tx.conn, row.id)
    tx.emit(
        events.CommunityUpdated(
            community_id=str(row.id),
            name=row.name,
            description=row.description,
            icon_url=row.icon_url,
            banner_url=row.banner_url,
            community_theme=row.community_theme,
            welcome_message=row.welcome_message,
        ),
        to=Users.of(members),
    )


async def emit_group_updated(tx: Tx, group: GroupRow) -> None:
    """``group_updated`` to every member of the group's community."""
    members = await communities_repo.list_member_ids(tx.conn, group.community_id)
    tx.emit(
        events.GroupUpdated(
            group_id=str(group.id),
            name=group.name,
            description=group.description,
            icon_url=group.icon_url,
            banner_url=group.banner_url,
            accent_color=group.accent_color,
            visibility=group.visibility,
        ),
        to=Users.of(members),
    )


def emit_channel_updated(tx: Tx, channel: ChannelRow) -> None:
    """``channel_updated`` to the channel's subscribers."""
    tx.emit(
        events.ChannelUpdated(
            channel_id=str(channel.id),
            name=channel.name,
            topic=channel.topic,
            read_only=channel.read_only,
            slow_mode_seconds=channel.slow_mode_seconds,
            archived=channel.archived,
            voice_background=channel.voice_background,
        ),
        to=ChannelSubscribers(channel.id),
    )
