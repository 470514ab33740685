"""Unread counts, read cursors and marking channels read (spec rest-api 2.7, ws-auth-ops 1.7:
``mark_read``, ``mark_all_read``). Unlike the original, messages from webhooks count as unread
(spec README), and a cursor only ever points at a message of its own channel."""

from __future__ import annotations

from chatalot.context import Ctx
from chatalot.db.database import Conn
from chatalot.ids import ChannelId, MessageId
from chatalot.protocol import events
from chatalot.protocol.time import rfc3339
from chatalot.repositories import channels as channels_repo
from chatalot.repositories import preferences as preferences_repo
from chatalot.repositories import unread as unread_repo
from chatalot.repositories.unread import ReadCursorRow, UnreadCountRow
from chatalot.services.actor import Actor
from chatalot.services.audience import ChannelSubscribers
from chatalot.services.channels import access_channel_reader


async def list_unread_counts(ctx: Ctx, actor: Actor) -> list[UnreadCountRow]:
    async with ctx.db.connection() as conn:
        return await unread_repo.list_unread_counts(conn, actor.user_id, ctx.clock.now())


async def list_read_cursors(ctx: Ctx, actor: Actor, channel_id: ChannelId) -> list[ReadCursorRow]:
    """Channel members and instance staff; anyone else 403 (also for a channel that does not
    exist)."""
    async with ctx.db.connection() as conn:
        await access_channel_reader(conn, actor, channel_id)
        return await unread_repo.list_read_cursors(conn, channel_id)


async def mark_read(ctx: Ctx, actor: Actor, channel_id: ChannelId, message_id: MessageId) -> None:
    """Silent for a non-member (as the original). Sends ``read_receipt`` to the channel unless
    the reader's preferences say ``"sendReadReceipts": false``."""
    now = ctx.clock.now()
    async with ctx.db.transaction("mark_read") as tx:
        if await channels_repo.select_channel_role(tx.conn, channel_id, actor.user_id) is None:
            return
        moved = await unread_repo.upsert_read_cursor(
            tx.conn, user_id=actor.user_id, channel_id=channel_id, message_id=message_id, now=now
        )
        if not moved or not await _sends_read_receipts(tx.conn, actor):
            return
        tx.emit(
            events.ReadReceipt(
                channel_id=str(channel_id),
                user_id=str(actor.user_id),
                message_id=str(message_id),
                timestamp=rfc3339(now),
            ),
            to=ChannelSubscribers(channel_id),
        )


async def mark_all_read(ctx: Ctx, actor: Actor) -> None:
    async with ctx.db.transaction("mark_all_read") as tx:
        await unread_repo.upsert_all_read_cursors(tx.conn, actor.user_id, ctx.clock.now())


async def _sends_read_receipts(conn: Conn, actor: Actor) -> bool:
    preferences = await preferences_repo.select_preferences(conn, actor.user_id)
    return not (isinstance(preferences, dict) and preferences.get("sendReadReceipts") is False)
