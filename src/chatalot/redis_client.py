"""How every part of the server talks to Redis (``REDIS_URL``): one way to open a client, and
one way to report an outage.

The client retries a command once on a connection error: after Redis restarts, the first
command on each pooled connection finds it closed, and without the retry that command (a
published event, a rate-limit check) would fail although Redis is back. Connects and replies
time out after a few seconds so that an unreachable Redis costs a bounded wait, never a hang.

``OutageLog``: the first failure of an outage is one WARN line, the first success after it one
INFO line (with how many operations failed meanwhile), so that a Redis outage does not fill the
log with a line (or a traceback) per request.
"""

from __future__ import annotations

import logging
import time
from typing import Any

TIMEOUT_SECONDS = 3.0


def open_redis(url: str) -> Any:
    """A redis-py asyncio client for ``url`` with the retry and timeouts above."""
    import redis.asyncio as aioredis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return aioredis.from_url(
        url,
        retry=Retry(NoBackoff(), 1),
        retry_on_error=[RedisConnectionError, RedisTimeoutError, ConnectionError],
        socket_connect_timeout=TIMEOUT_SECONDS,
        socket_timeout=TIMEOUT_SECONDS,
    )


class OutageLog:
    """Logs the start and the end of a Redis outage once each, for one use of Redis."""

    def __init__(self, logger: logging.Logger, what: str) -> None:
        self.logger = logger
        self.what = what
        self._since: float | None = None
        self._failures = 0

    def failed(self, err: BaseException) -> None:
        self._failures += 1
        if self._since is None:
            self._since = time.monotonic()
            self._failures = 1
            first = str(err).strip().splitlines()
            self.logger.warning(
                "Redis unreachable for %s (%s: %s)",
                self.what,
                type(err).__name__,
                first[0] if first else "",
            )

    def succeeded(self) -> None:
        if self._since is not None:
            self.logger.info(
                "Redis reachable again for %s after %.1f s (%d failed operation(s) meanwhile)",
                self.what,
                time.monotonic() - self._since,
                self._failures,
            )
            self._since = None

    @property
    def down(self) -> bool:
        return self._since is not None
