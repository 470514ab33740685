"""Community and group images: a community's icon and banner (community managers), a group's
icon and banner and a group channel's voice-call background (group admins), and serving them
publicly (spec rest-api 2.5, 2.6; ws-auth-ops 5.1, 5.5). The checks, cleaning and storage are
the profile images' (services/images.py).

Each upload checks the caller's right before the request body is read, then checks the image
(off the event loop), then, with the community / group row locked, checks the right again,
stores the image, points the row's URL column at it (``?v={unix seconds}``) and removes the
previous image if it had another extension.

Ours beyond the original: the original sent no event for these uploads, so other members saw
the new image only after reloading; we send what the PATCH routes send
(``community_updated`` / ``group_updated`` to the community's members, ``channel_updated`` to
the channel's subscribers), which the clients already apply.

Images of a deleted community or group are not removed here: no row names them any more, so
the orphan sweep (services/orphan_files.py) deletes them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from chatalot.context import Ctx
from chatalot.db.database import Conn, Tx
from chatalot.errors import Forbidden, NotFound
from chatalot.ids import ChannelId, CommunityId, GroupId
from chatalot.repositories import channels as channels_repo
from chatalot.repositories import communities as communities_repo
from chatalot.repositories import groups as groups_repo
from chatalot.repositories.channels import ChannelRow
from chatalot.repositories.communities import CommunityRow
from chatalot.repositories.groups import GroupRow
from chatalot.services import images, permissions
from chatalot.services.actor import Actor
from chatalot.services.groups import access_group
from chatalot.services.images import ImageKind, ImageUpload, OpenImage
from chatalot.services.space_events import (
    emit_channel_updated,
    emit_community_updated,
    emit_group_updated,
)

Reader = Callable[[], Awaitable[ImageUpload | None]]

COMMUNITY_KINDS = {"icon": images.COMMUNITY_ICON, "banner": images.COMMUNITY_BANNER}
GROUP_KINDS = {"icon": images.GROUP_ICON, "banner": images.GROUP_BANNER}
_URL_COLUMNS = {"icon": "icon_url", "banner": "banner_url"}


async def open_community_asset(ctx: Ctx, filename: str) -> OpenImage:
    return await images.open_image(ctx, images.COMMUNITY_ASSETS, filename)


async def open_group_asset(ctx: Ctx, filename: str) -> OpenImage:
    return await images.open_image(ctx, images.GROUP_ASSETS, filename)


# -- communities -----------------------------------------------------------------------------


async def _community_manager(conn: Conn, actor: Actor, community_id: CommunityId) -> None:
    (await permissions.access_community(conn, actor, community_id)).require_manager()


async def set_community_image(
    ctx: Ctx, actor: Actor, community_id: CommunityId, which: str, read: Reader
) -> CommunityRow:
    """comm-manager. ``which``: ``icon`` or ``banner``."""
    kind = COMMUNITY_KINDS[which]
    async with ctx.db.connection() as conn:
        await _community_manager(conn, actor, community_id)
    content_type, data = await images.prepare_image(kind, await read())
    async with ctx.db.transaction(f"set_community_{which}") as tx:
        await _community_manager(tx.conn, actor, community_id)
        if await communities_repo.lock_community(tx.conn, community_id) is None:
            raise NotFound("community not found")
        url, filename = await _store(ctx, kind, community_id, content_type, data)
        row = await communities_repo.update_community(
            tx.conn, community_id, {_URL_COLUMNS[which]: url}
        )
        if row is None:
            raise NotFound("community not found")
        await emit_community_updated(tx, row)
        await images.remove_stale_images(ctx, kind, community_id, keep=filename)
    return row


# -- groups ----------------------------------------------------------------------------------


async def _group_admin(conn: Conn, actor: Actor, group_id: GroupId) -> None:
    (await access_group(conn, actor, group_id)).require_admin()


async def _group_channel(conn: Conn, group_id: GroupId, channel_id: ChannelId) -> ChannelRow:
    """The channel, which must exist (404) and belong to this group (403)."""
    channel = await channels_repo.select_channel(conn, channel_id)
    if channel is None:
        raise NotFound("channel not found")
    if channel.group_id != group_id:
        raise Forbidden()
    return channel


async def _lock_group_as_admin(tx: Tx, actor: Actor, group_id: GroupId) -> None:
    """Locks the group row, then checks grp-admin+ (a missing group: the usual 403/404)."""
    await groups_repo.lock_group(tx.conn, group_id)
    await _group_admin(tx.conn, actor, group_id)


async def set_group_image(
    ctx: Ctx, actor: Actor, group_id: GroupId, which: str, read: Reader
) -> GroupRow:
    """grp-admin+. ``which``: ``icon`` or ``banner``."""
    kind = GROUP_KINDS[which]
    async with ctx.db.connection() as conn:
        await _group_admin(conn, actor, group_id)
    content_type, data = await images.prepare_image(kind, await read())
    async with ctx.db.transaction(f"set_group_{which}") as tx:
        await _lock_group_as_admin(tx, actor, group_id)
        url, filename = await _store(ctx, kind, group_id, content_type, data)
        group = await groups_repo.update_group(tx.conn, group_id, {_URL_COLUMNS[which]: url})
        if group is None:
            raise NotFound("group not found")
        await emit_group_updated(tx, group)
        await images.remove_stale_images(ctx, kind, group_id, keep=filename)
    return group


async def set_channel_voice_background(
    ctx: Ctx, actor: Actor, group_id: GroupId, channel_id: ChannelId, read: Reader
) -> ChannelRow:
    """grp-admin+, for a channel of this group (404 missing channel, 403 another group's)."""
    kind = images.CHANNEL_VOICE_BACKGROUND
    async with ctx.db.connection() as conn:
        await _group_admin(conn, actor, group_id)
        await _group_channel(conn, group_id, channel_id)
    content_type, data = await images.prepare_image(kind, await read())
    async with ctx.db.transaction("set_channel_voice_background") as tx:
        await _lock_group_as_admin(tx, actor, group_id)
        await _group_channel(tx.conn, group_id, channel_id)
        url, filename = await _store(ctx, kind, channel_id, content_type, data)
        channel = await groups_repo.update_group_channel(
            tx.conn, channel_id, {"voice_background": url}
        )
        if channel is None:
            raise NotFound("channel not found")
        emit_channel_updated(tx, channel)
        await images.remove_stale_images(ctx, kind, channel_id, keep=filename)
    return channel


async def _store(
    ctx: Ctx, kind: ImageKind, owner_id: CommunityId | GroupId | ChannelId, ct: str, data: bytes
) -> tuple[str, str]:
    """Stores the image; returns its URL (with the cache buster) and file name."""
    filename = await images.store_image(ctx, kind, owner_id, ct, data)
    return images.stored_image_url(kind, filename, ctx.clock.now()), filename
