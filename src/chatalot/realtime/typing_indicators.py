"""Typing indicators over ``/ws`` (spec ws-auth-ops 1.11), shared by every process through
``ctx.broker.state``:

- ``typing``: members only (silently ignored otherwise); ``user_typing`` to the channel at most
  once per 3 s per user and channel, whichever session or process the frames come from;
- ``stop_typing``: members only; forgets the entry and always broadcasts
  ``user_stopped_typing``;
- a sent message ends the sender's typing in that channel, a closed session ends all of the
  user's typing, and entries 10 s old expire (``sweep``, every 5 s on each process; each entry
  is announced by one process only). Unlike the original, a ``user_stopped_typing`` is only
  broadcast for typing that was announced, so a plain send costs no extra broadcast.

A session's subscriptions are membership-checked and dropped when access ends, so a subscribed
channel needs no database round trip; any other channel is checked in the database.
"""

from __future__ import annotations

import logging
import uuid

from chatalot.context import Ctx
from chatalot.db.database import Emitted
from chatalot.ids import ChannelId, UserId
from chatalot.protocol import events
from chatalot.realtime.hub import Connection
from chatalot.services.audience import ChannelSubscribers
from chatalot.services.subscriptions import member_channel_ids

log = logging.getLogger("chatalot_server.ws")


async def _is_member(ctx: Ctx, conn: Connection, channel_id: uuid.UUID) -> bool:
    if channel_id in conn.subscriptions:
        return True
    try:
        return channel_id in await member_channel_ids(ctx, conn.user_id, [channel_id])
    except Exception as err:
        log.warning("typing: membership check failed: %s", err)
        return False


async def _broadcast_stopped(ctx: Ctx, pairs: list[tuple[ChannelId, UserId]]) -> None:
    if pairs:
        await ctx.broker.publish(
            [
                Emitted(
                    events.UserStoppedTyping(channel_id=str(channel), user_id=str(user)),
                    ChannelSubscribers(channel),
                )
                for channel, user in pairs
            ]
        )


async def typing(ctx: Ctx, conn: Connection, channel_id: uuid.UUID) -> None:
    if not await _is_member(ctx, conn, channel_id):
        return
    channel, user = ChannelId(channel_id), UserId(conn.user_id)
    try:
        announce = await ctx.broker.state.typing_started(channel, user, ctx.clock.now().timestamp())
    except Exception as err:
        ctx.broker.state.unreachable(err)
        announce = True
    if announce:
        event = events.UserTyping(channel_id=str(channel), user_id=str(user))
        await ctx.broker.publish([Emitted(event, ChannelSubscribers(channel))])


async def stop_typing(ctx: Ctx, conn: Connection, channel_id: uuid.UUID) -> None:
    if not await _is_member(ctx, conn, channel_id):
        return
    channel, user = ChannelId(channel_id), UserId(conn.user_id)
    try:
        await ctx.broker.state.typing_stopped(channel, user)
    except Exception as err:
        ctx.broker.state.unreachable(err)
    await _broadcast_stopped(ctx, [(channel, user)])


async def message_sent(ctx: Ctx, user_id: UserId, channel_id: ChannelId) -> None:
    """The user's message is stored: their typing in that channel is over."""
    try:
        was_typing = await ctx.broker.state.typing_stopped(channel_id, user_id)
    except Exception as err:
        ctx.broker.state.unreachable(err)
        return
    if was_typing:
        await _broadcast_stopped(ctx, [(channel_id, user_id)])


async def session_closed(ctx: Ctx, user_id: UserId) -> None:
    """Any session of the user closed: all of their typing is over."""
    try:
        channels = await ctx.broker.state.typing_stopped_everywhere(user_id)
    except Exception as err:
        ctx.broker.state.unreachable(err)
        return
    await _broadcast_stopped(ctx, [(channel, user_id) for channel in channels])


async def expire(ctx: Ctx) -> None:
    """Typing not renewed for 10 s: ``user_stopped_typing``."""
    try:
        expired = await ctx.broker.state.typing_expired(ctx.clock.now().timestamp())
    except Exception as err:
        ctx.broker.state.unreachable(err)
        return
    await _broadcast_stopped(ctx, expired)
