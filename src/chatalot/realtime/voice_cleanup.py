"""Voice participants whose connection is gone leave their calls (spec ws-auth-ops 1.12, 1.13),
on one process or many:

- the disconnect grace: when a user's last session on this process closes, their call is ended
  ``DISCONNECT_GRACE_SECONDS`` (15 s) later if by then they have no session on any process;
  participations that began after the disconnect (they joined again) are kept. No task per
  user: the closes wait in one ordered dict per process, checked by ``expire_grace`` (a job
  every second);
- server processes that are gone (unlike the original, where a crash or restart left stale
  participants until they rejoined): each participant records the process that holds it.
  With Redis, ``ProcessSweeper`` (a job every 10 s on every process) ends the participations
  of processes whose heartbeat is older than 30 s, or that Redis does not know at two checks
  at least 10 s apart (Redis lost its data: a live process registers again within 5 s). A
  single process without Redis ends every earlier process's participations when it starts
  (``clear_previous_processes``);
- ``remove_non_members`` (every 10 s): participants who lost the channel some other way than
  a channel kick, ban or leave (which hang up at once): a community kick or ban, leaving a
  group...; ``sweep`` (hourly): calls left without participants.

A stopping process does nothing itself: its clients reconnect elsewhere and join again within
the grace; those who do not are cleaned up as above.
"""

from __future__ import annotations

import logging
import time
import weakref
from datetime import datetime, timedelta

from chatalot.context import Ctx
from chatalot.errors import ChatalotError
from chatalot.ids import UserId
from chatalot.realtime.hub import Hub
from chatalot.services import voice as voice_service
from chatalot.services.voice import DISCONNECT_GRACE_SECONDS

log = logging.getLogger("chatalot_server.voice")

UNKNOWN_CONFIRM_SECONDS = 10.0

# Per process (one hub each): user -> when their last session here closed, oldest first.
_closed: weakref.WeakKeyDictionary[Hub, dict[UserId, datetime]] = weakref.WeakKeyDictionary()


def session_closed(ctx: Ctx, user_id: UserId) -> None:
    """A session left the hub: if it was the user's last one here, the grace starts now."""
    if ctx.hub.session_count(user_id):
        return
    pending = _closed.setdefault(ctx.hub, {})
    pending.pop(user_id, None)  # a later close: to the end, with the later time
    pending[user_id] = ctx.clock.now()


def pending_count(ctx: Ctx) -> int:
    """Users of this process whose grace is running."""
    return len(_closed.get(ctx.hub, {}))


async def expire_grace(ctx: Ctx) -> int:
    """The users whose grace is over and who have no session anywhere leave their calls; how
    many participations ended."""
    pending = _closed.get(ctx.hub)
    if not pending:
        return 0
    limit = ctx.clock.now() - timedelta(seconds=DISCONNECT_GRACE_SECONDS)
    due: list[tuple[UserId, datetime]] = []
    for user_id, closed_at in pending.items():
        if closed_at > limit:
            break
        due.append((user_id, closed_at))
    for user_id, _ in due:
        del pending[user_id]
    gone = [(u, at) for u, at in due if not await _connected_anywhere(ctx, u)]
    try:
        return await voice_service.leave_after_disconnect(ctx, gone)
    except Exception as err:
        # Retried at the next check (first in line: they are the oldest).
        _closed[ctx.hub] = {**dict(gone), **_closed.get(ctx.hub, {})}
        if isinstance(err, ChatalotError):  # the database is away (it logs that once)
            return 0
        raise


async def _connected_anywhere(ctx: Ctx, user_id: UserId) -> bool:
    if ctx.hub.session_count(user_id):
        return True
    try:
        return await ctx.broker.state.sessions_elsewhere(user_id) > 0
    except Exception as err:  # Redis away: this process's view
        ctx.broker.state.unreachable(err)
        return False


class ProcessSweeper:
    """The participations held by server processes that are gone end (with Redis; a job)."""

    def __init__(self, ctx: Ctx, *, confirm_after: float = UNKNOWN_CONFIRM_SECONDS) -> None:
        self.ctx = ctx
        self.confirm_after = confirm_after
        self._unknown_since: dict[str | None, float] = {}

    async def run(self) -> int:
        state = self.ctx.broker.state
        try:
            heartbeats = await state.process_heartbeats()
        except Exception as err:
            state.unreachable(err)
            return 0
        if heartbeats is None:  # one process: clear_previous_processes did it at start
            return 0
        holders = await voice_service.voice_processes(self.ctx)
        holders.discard(state.process_id)
        now, mono = time.time(), self.ctx.clock.monotonic()
        gone: set[str | None] = set()
        unknown: dict[str | None, float] = {}
        for process in holders:
            beat = None if process is None else heartbeats.get(process)
            if beat is not None:
                if now - beat > state.dead_after_seconds:
                    gone.add(process)
                continue
            since = self._unknown_since.get(process, mono)
            if mono - since >= self.confirm_after:
                gone.add(process)
            else:
                unknown[process] = since
        self._unknown_since = unknown
        if not gone:
            return 0
        return await voice_service.leave_held_by(self.ctx, gone)


async def clear_previous_processes(ctx: Ctx) -> int:
    """At the start of a process without Redis (the only one): the participations held by
    earlier processes end."""
    state = ctx.broker.state
    if await state.process_heartbeats() is not None:
        return 0  # several processes: ProcessSweeper decides
    holders = await voice_service.voice_processes(ctx)
    holders.discard(state.process_id)
    return await voice_service.leave_held_by(ctx, holders)


async def remove_non_members(ctx: Ctx) -> None:
    """Participants no longer members of the call's channel leave it (a job, every 10 s)."""
    removed = await voice_service.remove_non_members(ctx)
    if removed:
        log.info("Voice: %d participant(s) no longer members of the channel removed", removed)


async def sweep(ctx: Ctx) -> None:
    """Hourly: calls left without participants end."""
    ended = await voice_service.end_empty_calls(ctx)
    if ended:
        log.info("Voice sweep: %d call(s) without participants ended", ended)
