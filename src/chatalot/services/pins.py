"""Pinned messages (spec rest-api 2.11): listing a channel's pins, pinning and unpinning.

Reading: channel members and instance staff (``access_channel_reader``: anyone else 403, also
for a channel that does not exist). Pinning and unpinning: channel moderators and above,
instance staff included (ch-mod+; anyone else 403, staff 404 ``channel not found`` for a
channel that does not exist). DM members hold the stored role ``member``, so, as in the
original, they cannot pin in their DM; instance staff can.

Pinning checks in the original's order: the message exists (404), is in this channel (400), is
not deleted (400), the channel is under ``max_pins_per_channel`` (instance setting, 400), the
message is not pinned yet (409). The count and the insert run under a per-channel lock, so
concurrent pins never go past the limit. ``message_pinned`` / ``message_unpinned`` go to the
channel's subscribers after commit.

Unlike the original: unpinning removes only a pin of the channel in the path (the original
removed the message's pin whatever channel it was in, after checking the caller's role in the
path's channel); a pin of another channel is 404 ``pin not found``. Pins of messages that are
quarantined or past their lifetime are neither listed nor counted towards the limit (the
original listed quarantined ones, and counted every pin row).
"""

from __future__ import annotations

import uuid

from chatalot.context import Ctx
from chatalot.db.database import Conn
from chatalot.errors import Conflict, Forbidden, Invalid, NotFound
from chatalot.ids import ChannelId
from chatalot.protocol import events
from chatalot.protocol.time import rfc3339
from chatalot.repositories import channels as channels_repo
from chatalot.repositories import messages as messages_repo
from chatalot.repositories import pins as pins_repo
from chatalot.repositories.pins import PinnedMessageRow, PinRow
from chatalot.services import permissions
from chatalot.services.actor import Actor
from chatalot.services.audience import ChannelSubscribers
from chatalot.services.channels import ChannelAccess, access_channel, access_channel_reader


async def access_pin_moderator(conn: Conn, actor: Actor, channel_id: ChannelId) -> ChannelAccess:
    """The channel when the caller is ch-mod+ there (instance staff included); Forbidden
    otherwise (also for a channel that does not exist, unless the caller is instance staff:
    then NotFound ``channel not found``)."""
    stored = await channels_repo.select_channel_role(conn, channel_id, actor.user_id)
    if not permissions.is_channel_moderator(permissions.channel_effective_role(actor, stored)):
        raise Forbidden()
    return await access_channel(conn, actor, channel_id)


async def list_pins(ctx: Ctx, actor: Actor, channel_id: ChannelId) -> list[PinnedMessageRow]:
    """Most recently pinned first."""
    now = ctx.clock.now()
    async with ctx.db.connection() as conn:
        await access_channel_reader(conn, actor, channel_id)
        return await pins_repo.list_pinned_messages(conn, channel_id, now)


async def pin_message(
    ctx: Ctx, actor: Actor, channel_id: ChannelId, message_id: uuid.UUID
) -> PinRow:
    limit = ctx.instance.values.max_pins_per_channel
    now = ctx.clock.now()
    async with ctx.db.transaction("pin_message") as tx:
        conn = tx.conn
        await access_pin_moderator(conn, actor, channel_id)
        message = await messages_repo.select_message(conn, message_id)
        if message is None:
            raise NotFound("message not found")
        if message.channel_id != channel_id:
            raise Invalid("message does not belong to this channel")
        if message.deleted_at is not None:
            raise Invalid("cannot pin a deleted message")
        await pins_repo.lock_channel_pins(conn, channel_id)
        if await pins_repo.count_visible_pins(conn, channel_id, now) >= limit:
            raise Invalid(f"maximum of {limit} pins per channel")
        if await pins_repo.exists_pin(conn, message_id):
            raise Conflict("message is already pinned")
        pin = await pins_repo.insert_pin(
            conn,
            message_id=message_id,
            channel_id=channel_id,
            pinned_by=actor.user_id,
            pinned_at=now,
        )
        tx.emit(
            events.MessagePinned(
                message_id=str(pin.message_id),
                channel_id=str(pin.channel_id),
                pinned_by=str(actor.user_id),
                pinned_at=rfc3339(pin.pinned_at),
            ),
            to=ChannelSubscribers(channel_id),
        )
    return pin


async def unpin_message(
    ctx: Ctx, actor: Actor, channel_id: ChannelId, message_id: uuid.UUID
) -> None:
    async with ctx.db.transaction("unpin_message") as tx:
        await access_pin_moderator(tx.conn, actor, channel_id)
        if not await pins_repo.delete_pin(tx.conn, message_id=message_id, channel_id=channel_id):
            raise NotFound("pin not found")
        tx.emit(
            events.MessageUnpinned(message_id=str(message_id), channel_id=str(channel_id)),
            to=ChannelSubscribers(channel_id),
        )
