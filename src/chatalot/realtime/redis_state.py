"""Presence and typing state shared through Redis (``REDIS_URL``): see realtime/live_state.py
for the meaning of each operation. Keys:

- ``chatalot:procs``: sorted set, process id -> time of its last heartbeat (every
  ``HEARTBEAT_SECONDS``). A process silent for ``DEAD_AFTER_SECONDS`` is dead: one surviving
  process (the one that wins ``chatalot:reap:<id>``) forgets its sessions and announces the
  users who are offline because of it.
- ``chatalot:online:<process id>``: hash, user -> how many sessions they have on that process
  (the per-user session limit counts the sessions of every process).
- ``chatalot:status``: hash, user -> status chosen with ``update_presence`` (absent: online).
- ``chatalot:typing``: sorted set, ``<channel>:<user>`` -> time of the last typing broadcast;
  the dedup check and the update are one Lua script, so two processes never both broadcast.
- ``chatalot:voicepace:<user>``: hash ``tokens``, ``at``: the user's voice join/leave bucket,
  taken in one Lua script (expires once full again).

When Redis loses its data (restart without persistence), a process notices at its next heartbeat
(its entry in ``chatalot:procs`` is new again) and registers its users again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Sequence
from typing import Any

from chatalot.ids import ChannelId, UserId
from chatalot.realtime.hub import Hub
from chatalot.realtime.live_state import (
    DEAD_AFTER_SECONDS,
    HIDDEN,
    TYPING_DEDUP_SECONDS,
    TYPING_EXPIRY_SECONDS,
    VOICE_PACE_BURST,
    VOICE_PACE_SECONDS,
    LiveState,
)
from chatalot.redis_client import OutageLog, open_redis

log = logging.getLogger("chatalot_server.ws")

HEARTBEAT_SECONDS = 5.0
PREFIX = "chatalot"

# KEYS[1] typing set; ARGV: member, now, dedup seconds. 1 = broadcast (and recorded).
_TYPING_SCRIPT = """
local last = redis.call('ZSCORE', KEYS[1], ARGV[1])
if last and tonumber(ARGV[2]) - tonumber(last) < tonumber(ARGV[3]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 1
"""

# KEYS[1] the user's bucket; ARGV: now, burst, seconds per token. 1 = a token was taken.
_VOICE_PACE_SCRIPT = """
local now = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local per = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = burst
if state[1] then
  tokens = math.min(burst, tonumber(state[1]) + math.max(0, now - tonumber(state[2])) / per)
end
if tokens < 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - 1), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst * per) + 1)
return 1
"""


def _decode(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisLiveState(LiveState):
    def __init__(
        self,
        hub: Hub,
        url: str,
        origin: str,
        *,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        dead_after_seconds: float = DEAD_AFTER_SECONDS,
        prefix: str = PREFIX,
    ) -> None:
        self.hub = hub
        self.url = url
        self.origin = origin
        self.process_id = origin
        self.heartbeat_seconds = heartbeat_seconds
        self.dead_after_seconds = dead_after_seconds
        self.procs_key = f"{prefix}:procs"
        self.status_key = f"{prefix}:status"
        self.typing_key = f"{prefix}:typing"
        self.prefix = prefix
        self._redis: Any = None
        self._typing_script: Any = None
        self._voice_pace_script: Any = None
        self._heartbeat: asyncio.Task[None] | None = None
        self.outage = OutageLog(log, "presence and typing (each process sees only its own)")

    def unreachable(self, err: BaseException) -> None:
        self.outage.failed(err)

    def _online_key(self, process: str) -> str:
        return f"{self.prefix}:online:{process}"

    async def start(self) -> None:
        self._redis = open_redis(self.url)
        self._typing_script = self._redis.register_script(_TYPING_SCRIPT)
        self._voice_pace_script = self._redis.register_script(_VOICE_PACE_SCRIPT)
        await self._beat()
        self._heartbeat = asyncio.get_running_loop().create_task(self._beat_forever())

    async def stop(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None
        if self._redis is not None:
            with contextlib.suppress(Exception):
                async with self._redis.pipeline(transaction=True) as pipe:
                    pipe.zrem(self.procs_key, self.origin)
                    pipe.delete(self._online_key(self.origin))
                    await pipe.execute()
            await self._redis.aclose()
            self._redis = None

    # --- processes -----------------------------------------------------------------------------

    async def _beat(self) -> None:
        added = await self._redis.zadd(self.procs_key, {self.origin: time.time()})
        if added:  # first beat, or Redis forgot us: (re)register the users connected here
            users = {str(u): self.hub.session_count(u) for u in self.hub.connected_users()}
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(self._online_key(self.origin))
                if users:
                    pipe.hset(self._online_key(self.origin), mapping=users)
                await pipe.execute()

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            try:
                await self._beat()
            except Exception as err:
                self.outage.failed(err)
            else:
                self.outage.succeeded()

    async def _other_live_processes(self) -> list[str]:
        cutoff = time.time() - self.dead_after_seconds
        members = await self._redis.zrangebyscore(self.procs_key, cutoff, "+inf")
        return [p for p in map(_decode, members) if p != self.origin]

    async def _online_elsewhere(self, user_id: UserId) -> bool:
        others = await self._other_live_processes()
        if not others:
            return False
        async with self._redis.pipeline(transaction=False) as pipe:
            for process in others:
                pipe.hexists(self._online_key(process), str(user_id))
            return any(await pipe.execute())

    # --- presence ------------------------------------------------------------------------------

    async def went_online(self, user_id: UserId) -> bool:
        await self._redis.hset(self._online_key(self.origin), str(user_id), 1)
        return not await self._online_elsewhere(user_id)

    async def went_offline(self, user_id: UserId) -> bool:
        await self._redis.hdel(self._online_key(self.origin), str(user_id))
        if await self._online_elsewhere(user_id):
            return False
        await self._redis.hdel(self.status_key, str(user_id))
        return True

    async def record_sessions(self, user_id: UserId, count: int) -> None:
        await self._redis.hset(self._online_key(self.origin), str(user_id), count)

    async def sessions_elsewhere(self, user_id: UserId) -> int:
        others = await self._other_live_processes()
        if not others:
            return 0
        async with self._redis.pipeline(transaction=False) as pipe:
            for process in others:
                pipe.hget(self._online_key(process), str(user_id))
            counts = await pipe.execute()
        return sum(int(c) for c in counts if c is not None)

    async def set_status(self, user_id: UserId, status: str) -> None:
        if status == "online":
            await self._redis.hdel(self.status_key, str(user_id))
        else:
            await self._redis.hset(self.status_key, str(user_id), status)

    async def visible_statuses(self, user_ids: Sequence[UserId]) -> list[tuple[UserId, str]]:
        if not user_ids:
            return []
        keys = [str(u) for u in user_ids]
        processes = [self.origin, *await self._other_live_processes()]
        async with self._redis.pipeline(transaction=False) as pipe:
            for process in processes:
                pipe.hmget(self._online_key(process), keys)
            pipe.hmget(self.status_key, keys)
            *memberships, statuses = await pipe.execute()
        shown: list[tuple[UserId, str]] = []
        for index, user_id in enumerate(user_ids):
            if not any(counts[index] is not None for counts in memberships):
                continue
            raw = statuses[index]
            status = "online" if raw is None else _decode(raw)
            if status not in HIDDEN:
                shown.append((user_id, status))
        return shown

    async def reap_dead_processes(self, now: float) -> list[UserId]:
        dead = [
            _decode(p)
            for p in await self._redis.zrangebyscore(
                self.procs_key, "-inf", now - self.dead_after_seconds
            )
        ]
        gone: list[UserId] = []
        for process in dead:
            if process == self.origin:
                continue
            if not await self._redis.set(
                f"{self.prefix}:reap:{process}", self.origin, nx=True, ex=60
            ):
                continue  # another process is reaping it
            members = await self._redis.hkeys(self._online_key(process))
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(self._online_key(process))
                pipe.zrem(self.procs_key, process)
                await pipe.execute()
            log.warning(
                "Server process %s stopped answering; forgetting its %d user(s)",
                process,
                len(members),
            )
            for raw in members:
                user_id = UserId(uuid.UUID(_decode(raw)))
                if not self.hub.session_count(user_id) and not await self._online_elsewhere(
                    user_id
                ):
                    await self._redis.hdel(self.status_key, str(user_id))
                    gone.append(user_id)
        return gone

    # --- typing --------------------------------------------------------------------------------

    async def typing_started(self, channel_id: ChannelId, user_id: UserId, now: float) -> bool:
        result = await self._typing_script(
            keys=[self.typing_key], args=[f"{channel_id}:{user_id}", now, TYPING_DEDUP_SECONDS]
        )
        return bool(result)

    async def typing_stopped(self, channel_id: ChannelId, user_id: UserId) -> bool:
        return bool(await self._redis.zrem(self.typing_key, f"{channel_id}:{user_id}"))

    async def typing_stopped_everywhere(self, user_id: UserId) -> list[ChannelId]:
        channels: list[ChannelId] = []
        async for member, _score in self._redis.zscan_iter(self.typing_key, match=f"*:{user_id}"):
            text = _decode(member)
            if await self._redis.zrem(self.typing_key, text):
                channels.append(ChannelId(uuid.UUID(text.split(":", 1)[0])))
        return channels

    async def typing_expired(self, now: float) -> list[tuple[ChannelId, UserId]]:
        members = await self._redis.zrangebyscore(
            self.typing_key, "-inf", now - TYPING_EXPIRY_SECONDS, start=0, num=1000
        )
        expired: list[tuple[ChannelId, UserId]] = []
        for raw in members:
            text = _decode(raw)
            if await self._redis.zrem(self.typing_key, text):  # only one process wins each entry
                channel, user = text.split(":", 1)
                expired.append((ChannelId(uuid.UUID(channel)), UserId(uuid.UUID(user))))
        return expired

    # --- voice ---------------------------------------------------------------------------------

    async def voice_pace(self, user_id: UserId, now: float) -> bool:
        result = await self._voice_pace_script(
            keys=[f"{self.prefix}:voicepace:{user_id}"],
            args=[now, VOICE_PACE_BURST, VOICE_PACE_SECONDS],
        )
        return bool(result)

    async def process_heartbeats(self) -> dict[str, float] | None:
        entries = await self._redis.zrange(self.procs_key, 0, -1, withscores=True)
        return {_decode(process): float(at) for process, at in entries}
