"""Unread counts of the caller's channels and the read cursors of one channel (spec rest-api
2.7). Unlike the original, messages from webhooks count as unread (spec README)."""

from __future__ import annotations

from chatalot.context import Ctx
from chatalot.errors import Forbidden, NotFound
from chatalot.ids import ChannelId
from chatalot.repositories import channels as channels_repo
from chatalot.repositories import unread as unread_repo
from chatalot.repositories.unread import ReadCursorRow, UnreadCountRow
from chatalot.services import permissions
from chatalot.services.actor import Actor


async def list_unread_counts(ctx: Ctx, actor: Actor) -> list[UnreadCountRow]:
    async with ctx.db.connection() as conn:
        return await unread_repo.list_unread_counts(conn, actor.user_id)


async def list_read_cursors(ctx: Ctx, actor: Actor, channel_id: ChannelId) -> list[ReadCursorRow]:
    """Channel members and instance staff; anyone else 403 (also for a channel that does not
    exist)."""
    async with ctx.db.connection() as conn:
        stored = await channels_repo.select_channel_role(conn, channel_id, actor.user_id)
        if stored is None:
            if permissions.instance_role(actor) is None:
                raise Forbidden()
            if await channels_repo.select_channel(conn, channel_id) is None:
                raise NotFound("channel not found")
        return await unread_repo.list_read_cursors(conn, channel_id)
