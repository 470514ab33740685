"""Presence over ``/ws`` (spec ws-auth-ops 1.10), on one process or many (the shared state is
``ctx.broker.state``, realtime/live_state.py):

- a user's first session anywhere announces ``online`` to their online community mates; a
  further session (another device) announces nothing, since the mates already see them;
- every new session gets ``presence_bulk``: its online mates with the status each chose (the
  original listed everyone as ``online``); invisible and offline users are left out;
- ``update_presence``: the new status to the mates (``invisible`` shown as ``offline``);
- when the user's last session on every process has closed: ``offline`` to the mates.

Presence writes nothing to the database, so its events are published here directly, not
through a transaction. The state being unreachable (Redis down) costs the cross-process view,
never the session: this process then answers from its own sessions.
"""

from __future__ import annotations

import logging
import time

from chatalot.context import Ctx
from chatalot.db.database import Emitted
from chatalot.ids import UserId
from chatalot.protocol import events
from chatalot.realtime.hub import Connection, frame_message
from chatalot.realtime.live_state import shown_status
from chatalot.services.audience import Users
from chatalot.services.presence import community_mates

log = logging.getLogger("chatalot_server.ws")


async def _mates(ctx: Ctx, user_id: UserId) -> list[UserId]:
    try:
        return await community_mates(ctx, user_id)
    except Exception as err:
        log.warning("presence: could not list community mates: %s", err)
        return []


async def _announce(ctx: Ctx, user_id: UserId, status: str, mates: list[UserId]) -> None:
    if mates:
        event = events.PresenceUpdate(user_id=str(user_id), status=status)
        await ctx.broker.publish([Emitted(event, Users.of(mates))])


async def session_opened(ctx: Ctx, conn: Connection) -> None:
    """After ``authenticated``: ``presence_bulk`` to this session, ``online`` to the mates if
    the user was offline everywhere."""
    user_id = UserId(conn.user_id)
    here = ctx.hub.session_count(user_id)
    newly_online = False
    try:
        if here == 1:
            newly_online = await ctx.broker.state.went_online(user_id)
        else:
            await ctx.broker.state.record_sessions(user_id, here)
    except Exception as err:
        ctx.broker.state.unreachable(err)
        newly_online = here == 1
    mates = await _mates(ctx, user_id)
    if not mates:
        return
    try:
        visible = await ctx.broker.state.visible_statuses(mates)
    except Exception as err:
        ctx.broker.state.unreachable(err)
        visible = [(m, "online") for m in mates if ctx.hub.session_count(m)]
    if visible:
        bulk = events.PresenceBulk(statuses=[(str(user), status) for user, status in visible])
        conn.push(frame_message(bulk))
    if newly_online:
        await _announce(ctx, user_id, "online", mates)


async def session_closed(ctx: Ctx, user_id: UserId) -> None:
    """After the session left the hub: ``offline`` to the mates if it was the user's last one
    on every process."""
    here = ctx.hub.session_count(user_id)
    if here:
        try:
            await ctx.broker.state.record_sessions(user_id, here)
        except Exception as err:
            ctx.broker.state.unreachable(err)
        return
    try:
        gone = await ctx.broker.state.went_offline(user_id)
    except Exception as err:
        ctx.broker.state.unreachable(err)
        gone = True
    if gone:
        await _announce(ctx, user_id, "offline", await _mates(ctx, user_id))


async def update_presence(ctx: Ctx, user_id: UserId, status: str) -> None:
    """``update_presence``: remembered for ``presence_bulk`` and announced to the mates (not
    to the user's own sessions)."""
    try:
        await ctx.broker.state.set_status(user_id, status)
    except Exception as err:
        ctx.broker.state.unreachable(err)
    await _announce(ctx, user_id, shown_status(status), await _mates(ctx, user_id))


async def reap_dead_processes(ctx: Ctx) -> None:
    """Users left 'online' by a server process that died: ``offline`` to their mates."""
    try:
        gone = await ctx.broker.state.reap_dead_processes(time.time())
    except Exception as err:
        ctx.broker.state.unreachable(err)
        return
    for user_id in gone:
        await _announce(ctx, user_id, "offline", await _mates(ctx, user_id))
