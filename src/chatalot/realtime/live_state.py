"""Presence and typing state shared by every server process (spec ws-auth-ops 1.10-1.11).

Nothing here is stored in the database: it lives as long as the sessions it describes.
``LocalLiveState`` is for one process (the hub knows every session); ``RedisLiveState``
(realtime/redis_state.py) shares the same state between processes on one Redis. The realtime
layer (realtime/presence.py, realtime/typing.py) decides what to announce from the answers.

- Online: a user with at least one session on some live process. Each process says when a user's
  first session opens on it (``went_online``: True if no other process had them) and when their
  last one closes (``went_offline``: True if no other process has them now).
- Status: what the user chose with ``update_presence`` (``online``, ``idle``, ``dnd``,
  ``invisible``, ``offline``), per user, forgotten when they go offline. ``visible_statuses``
  answers as others may see it: ``invisible`` and ``offline`` users are left out.
- Typing: (channel, user) -> time of the last ``user_typing`` broadcast (Unix seconds, so that
  processes agree); a new broadcast at most every ``TYPING_DEDUP_SECONDS``, entries older than
  ``TYPING_EXPIRY_SECONDS`` expire (``user_stopped_typing``).
- Voice pace: a token bucket per user for ``join_voice`` / ``leave_voice``, whichever session or
  process they come from: ``VOICE_PACE_BURST`` (2) at once, then one per ``VOICE_PACE_SECONDS``
  (2 s).
- Processes: each has an id (``process_id``; voice participants record the process that holds
  them) and, with Redis, a heartbeat; ``process_heartbeats`` tells the voice clean-up which
  processes are gone (None with one process: there is no other).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from chatalot.ids import ChannelId, UserId
from chatalot.realtime.hub import Hub

log = logging.getLogger("chatalot_server.ws")

TYPING_DEDUP_SECONDS = 3.0
TYPING_EXPIRY_SECONDS = 10.0
VOICE_PACE_SECONDS = 2.0
VOICE_PACE_BURST = 2
DEAD_AFTER_SECONDS = 30.0  # a process silent this long is gone (redis_state.py)

STATUSES = frozenset({"online", "idle", "dnd", "invisible", "offline"})
HIDDEN = frozenset({"invisible", "offline"})


def shown_status(status: str) -> str:
    """The status others see: ``invisible`` is announced as ``offline``."""
    return "offline" if status in HIDDEN else status


def refill(tokens: float, elapsed: float) -> float:
    """The voice pace bucket ``elapsed`` seconds later (a clock going back adds nothing)."""
    return min(float(VOICE_PACE_BURST), tokens + max(0.0, elapsed) / VOICE_PACE_SECONDS)


class LiveState:
    """The interface; every method may raise when the shared store is unreachable (callers log
    and carry on)."""

    process_id: str = ""
    dead_after_seconds: float = DEAD_AFTER_SECONDS

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def unreachable(self, err: BaseException) -> None:
        """An operation failed because the shared store could not be reached (logged once per
        outage by implementations that have one)."""
        log.warning("presence/typing state unavailable: %s", err)

    async def went_online(self, user_id: UserId) -> bool:
        raise NotImplementedError

    async def went_offline(self, user_id: UserId) -> bool:
        raise NotImplementedError

    async def record_sessions(self, user_id: UserId, count: int) -> None:
        """The user now has ``count`` (> 0) sessions on this process (a further device opened
        or one of several closed)."""
        return None

    async def sessions_elsewhere(self, user_id: UserId) -> int:
        """How many sessions the user has on the other live processes (the per-user limit
        counts them all)."""
        return 0

    async def set_status(self, user_id: UserId, status: str) -> None:
        raise NotImplementedError

    async def visible_statuses(self, user_ids: Sequence[UserId]) -> list[tuple[UserId, str]]:
        raise NotImplementedError

    async def typing_started(self, channel_id: ChannelId, user_id: UserId, now: float) -> bool:
        """Record a typing broadcast; False when one was made less than 3 s ago."""
        raise NotImplementedError

    async def typing_stopped(self, channel_id: ChannelId, user_id: UserId) -> bool:
        """Forget the entry; True if there was one."""
        raise NotImplementedError

    async def typing_stopped_everywhere(self, user_id: UserId) -> list[ChannelId]:
        """Forget every entry of the user; the channels they were typing in."""
        raise NotImplementedError

    async def typing_expired(self, now: float) -> list[tuple[ChannelId, UserId]]:
        """Remove and return the entries older than 10 s (each returned by one process only)."""
        raise NotImplementedError

    async def reap_dead_processes(self, now: float) -> list[UserId]:
        """Forget the sessions of server processes that stopped without saying so; the users
        who are therefore offline now (each returned by one process only)."""
        return []

    async def voice_pace(self, user_id: UserId, now: float) -> bool:
        """Take a token of the user's voice join/leave bucket at ``now`` (Unix seconds); False
        when it is empty."""
        raise NotImplementedError

    async def process_heartbeats(self) -> dict[str, float] | None:
        """Every server process the shared state knows, with the time of its last heartbeat
        (Unix seconds); None when this process is the only one (no shared state)."""
        return None


class LocalLiveState(LiveState):
    """One process: the hub is the list of sessions; the rest are dictionaries."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.process_id = uuid.uuid4().hex
        self._status: dict[UserId, str] = {}
        self._typing: dict[tuple[ChannelId, UserId], float] = {}
        self._voice_pace: dict[UserId, tuple[float, float]] = {}

    async def went_online(self, user_id: UserId) -> bool:
        return True

    async def went_offline(self, user_id: UserId) -> bool:
        self._status.pop(user_id, None)
        return True

    async def set_status(self, user_id: UserId, status: str) -> None:
        self._status[user_id] = status

    async def visible_statuses(self, user_ids: Sequence[UserId]) -> list[tuple[UserId, str]]:
        shown: list[tuple[UserId, str]] = []
        for user_id in user_ids:
            if self.hub.session_count(user_id):
                status = self._status.get(user_id, "online")
                if status not in HIDDEN:
                    shown.append((user_id, status))
        return shown

    async def typing_started(self, channel_id: ChannelId, user_id: UserId, now: float) -> bool:
        key = (channel_id, user_id)
        last = self._typing.get(key)
        if last is not None and now - last < TYPING_DEDUP_SECONDS:
            return False
        self._typing[key] = now
        return True

    async def typing_stopped(self, channel_id: ChannelId, user_id: UserId) -> bool:
        return self._typing.pop((channel_id, user_id), None) is not None

    async def typing_stopped_everywhere(self, user_id: UserId) -> list[ChannelId]:
        channels = [c for c, u in self._typing if u == user_id]
        for channel_id in channels:
            del self._typing[(channel_id, user_id)]
        return channels

    async def typing_expired(self, now: float) -> list[tuple[ChannelId, UserId]]:
        cutoff = now - TYPING_EXPIRY_SECONDS
        expired = [key for key, at in self._typing.items() if at <= cutoff]
        for key in expired:
            del self._typing[key]
        return expired

    async def voice_pace(self, user_id: UserId, now: float) -> bool:
        pace = self._voice_pace
        if len(pace) > 1024:  # forget the buckets that are full again
            full = VOICE_PACE_BURST * VOICE_PACE_SECONDS
            for user in [u for u, (_, at) in pace.items() if now - at >= full]:
                del pace[user]
        tokens, at = pace.get(user_id, (float(VOICE_PACE_BURST), now))
        tokens = refill(tokens, now - at)
        if tokens < 1.0:
            return False
        pace[user_id] = (tokens - 1.0, now)
        return True
