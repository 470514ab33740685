"""Cross-process signals over PostgreSQL LISTEN/NOTIFY.

Every server process listens on one dedicated connection. A service sends a notification with
``pg_notify`` inside its transaction, so it is delivered only if that transaction commits.
When the listening connection drops, it reconnects with backoff and calls ``on_reconnect`` so
the process can reload whatever it may have missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import asyncpg

log = logging.getLogger("chatalot_server.db")

Handler = Callable[[str], None]


class NotificationListener:
    def __init__(
        self,
        dsn: str,
        handlers: Mapping[str, Handler],
        on_reconnect: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._dsn = dsn
        self._handlers = dict(handlers)
        self._on_reconnect = on_reconnect
        self._conn: Any = None
        self._lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    async def start(self) -> None:
        await self._connect()
        self._task = asyncio.create_task(self._watch(), name="chatalot-notify-listener")

    async def stop(self) -> None:
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._conn is not None and not self._conn.is_closed():
            await self._conn.close()

    async def _connect(self) -> None:
        conn = await asyncpg.connect(self._dsn)
        for channel in self._handlers:
            await conn.add_listener(channel, self._dispatch)
        conn.add_termination_listener(lambda _conn: self._lost.set())
        self._conn = conn
        self._lost.clear()

    def _dispatch(self, _conn: Any, _pid: int, channel: str, payload: str) -> None:
        handler = self._handlers.get(channel)
        if handler is None:
            return
        try:
            handler(payload)
        except Exception:
            log.exception("Notification handler for %s failed", channel)

    async def _watch(self) -> None:
        backoff = 0.5
        while not self._closing:
            await self._lost.wait()
            log.warning("Lost the database notification connection; reconnecting")
            while not self._closing:
                try:
                    await self._connect()
                except (OSError, asyncpg.PostgresError, TimeoutError) as err:
                    log.warning("Notification reconnect failed (%s); retrying", type(err).__name__)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 10)
                    continue
                backoff = 0.5
                await self._reload()
                break

    async def _reload(self) -> None:
        """``on_reconnect`` after a reconnect (what changed meanwhile), retried with backoff
        until it works: a failure must not end the watch, or the process would never listen
        again after the next loss of the connection."""
        if self._on_reconnect is None:
            return
        backoff = 0.5
        while not self._closing:
            try:
                await self._on_reconnect()
                return
            except Exception as err:
                log.warning("Reloading state after the reconnect failed (%s); retrying", err)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10)
