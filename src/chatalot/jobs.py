"""Background jobs of a server process: coroutines run on a fixed interval until shutdown.
A failing run is logged and retried at the next tick; it never stops the job or the server. A run
that finds the database unavailable logs one warning line, without a traceback."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from chatalot.errors import ServiceUnavailable

log = logging.getLogger("chatalot_server.jobs")


class Jobs:
    def __init__(self) -> None:
        self._tasks: list[asyncio.Task[None]] = []

    def every(
        self,
        name: str,
        seconds: float,
        job: Callable[[], Awaitable[object]],
        *,
        first_after: float = 0,
    ) -> None:
        self._tasks.append(
            asyncio.create_task(self._loop(name, seconds, job, first_after), name=name)
        )

    async def _loop(
        self, name: str, seconds: float, job: Callable[[], Awaitable[object]], first_after: float
    ) -> None:
        await asyncio.sleep(first_after)
        while True:
            try:
                await job()
            except ServiceUnavailable as err:
                # The database is down or restarting: expected while it lasts, one line each
                # time, no traceback (the pool logs the outage itself).
                log.warning("Background job %s: %s; retrying in %.0f s", name, err, seconds)
            except Exception:
                log.exception("Background job %s failed; retrying in %.0f s", name, seconds)
            await asyncio.sleep(seconds)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
