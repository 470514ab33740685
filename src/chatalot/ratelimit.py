"""Token-bucket rate limiting per key (client IP), in process memory or shared through Redis.

``LocalRateLimiter`` serves a single process. ``RedisRateLimiter`` keeps the buckets in Redis
(an atomic Lua script using the Redis server's clock), so every server process behind a load
balancer draws from the same bucket. Buckets idle for 10 minutes are dropped.
"""

from __future__ import annotations

import logging
import math
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from chatalot.redis_client import OutageLog, open_redis

log = logging.getLogger("chatalot_server")


@dataclass(frozen=True, slots=True)
class BucketRule:
    name: str
    capacity: int
    refill_per_second: float


GLOBAL_RULE = BucketRule("global", capacity=50, refill_per_second=20)
AUTH_RULE = BucketRule("auth", capacity=10, refill_per_second=5)

_IDLE_SECONDS = 600
_SWEEP_EVERY = 300


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after: int  # whole seconds until a token is available (0 when allowed)


ALLOWED = Decision(True, 0)  # shared: allocating a frozen dataclass per request costs


class RateLimiter(ABC):
    @abstractmethod
    async def take(self, rule: BucketRule, key: str) -> Decision: ...

    def take_now(self, rule: BucketRule, key: str) -> Decision | None:
        """``take`` without waiting, for a limiter that keeps its buckets in this process (the
        edge calls it for every request); None when the answer must be awaited from ``take``."""
        return None

    async def close(self) -> None:
        return None


class LocalRateLimiter(RateLimiter):
    def __init__(self, monotonic: Any = time.monotonic) -> None:
        # rule name -> key -> (tokens, monotonic time of the last update)
        self._buckets: dict[str, dict[str, tuple[float, float]]] = {}
        self._monotonic = monotonic
        self._last_sweep = monotonic()

    async def take(self, rule: BucketRule, key: str) -> Decision:
        return self.take_now(rule, key)

    def take_now(self, rule: BucketRule, key: str) -> Decision:
        now = self._monotonic()
        if now - self._last_sweep >= _SWEEP_EVERY:
            self._sweep(now)
        buckets = self._buckets.get(rule.name)
        if buckets is None:
            buckets = self._buckets[rule.name] = {}
        state = buckets.get(key)
        capacity = rule.capacity
        if state is None:
            tokens: float = capacity
        else:
            tokens = state[0] + (now - state[1]) * rule.refill_per_second
            if tokens > capacity:
                tokens = capacity
        if tokens >= 1:
            buckets[key] = (tokens - 1, now)
            return ALLOWED
        buckets[key] = (tokens, now)
        return Decision(False, max(1, math.ceil((1 - tokens) / rule.refill_per_second)))

    def bucket_count(self) -> int:
        """How many buckets are kept (every rule's)."""
        return sum(len(buckets) for buckets in self._buckets.values())

    def _sweep(self, now: float) -> None:
        self._last_sweep = now
        for buckets in self._buckets.values():
            stale = [k for k, (_, updated) in buckets.items() if now - updated >= _IDLE_SECONDS]
            for k in stale:
                del buckets[k]


class UnlimitedRateLimiter(RateLimiter):
    """Allows everything: CHATALOT_RATE_LIMITS=off (development only, e.g. for the fuzzer)."""

    async def take(self, rule: BucketRule, key: str) -> Decision:
        return ALLOWED

    def take_now(self, rule: BucketRule, key: str) -> Decision:
        return ALLOWED


_LUA_TAKE = """
local key = KEYS[1]
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local idle = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', key, 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then
  tokens = capacity
  ts = now
end
tokens = math.min(capacity, tokens + (now - ts) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', key, 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', key, idle)
if allowed == 1 then
  return {1, 0}
end
return {0, math.ceil((1 - tokens) / rate)}
"""


class RedisRateLimiter(RateLimiter):
    """Buckets shared by every process through Redis (REDIS_URL). While Redis cannot be
    reached, each process limits on its own (a ``LocalRateLimiter``): requests go on being
    served and limited, and the outage is logged once (redis_client.OutageLog)."""

    def __init__(self, url: str, prefix: str = "chatalot:rl") -> None:
        self._redis = open_redis(url)
        self._script = self._redis.register_script(_LUA_TAKE)
        self._prefix = prefix
        self._fallback = LocalRateLimiter()
        self._outage = OutageLog(log, "rate limits (each process limits on its own meanwhile)")

    async def take(self, rule: BucketRule, key: str) -> Decision:
        try:
            allowed, retry = await self._script(
                keys=[f"{self._prefix}:{rule.name}:{key}"],
                args=[rule.capacity, rule.refill_per_second, _IDLE_SECONDS],
            )
        except Exception as err:  # redis-py's ConnectionError, TimeoutError, ...
            self._outage.failed(err)
            return await self._fallback.take(rule, key)
        self._outage.succeeded()
        return Decision(bool(int(allowed)), max(1, int(retry)) if not int(allowed) else 0)

    async def close(self) -> None:
        await self._redis.aclose()
