"""Database: the pool, named transactions, and events published only after commit.

Services write::

    async with ctx.db.transaction("send_message") as tx:
        row = await messages_repo.insert_message(tx.conn, ...)
        tx.emit(event, to=audience)

Frames passed to ``tx.emit`` are kept on the outermost transaction and handed to the
``EventSink`` only after a clean commit, so rolled-back work never reaches a client. A
``transaction()`` opened while another is active in the same task joins it as a SAVEPOINT.

Getting a connection waits at most the acquire timeout (5 s by default); past that the
request fails with ``ServiceUnavailable`` (HTTP 503), and the timeout is counted and logged.

When PostgreSQL is down or restarting, a request fails at once with ``ServiceUnavailable``
too ("the database is unavailable"): connecting is refused, or the server ends the connection
in the middle of the work (``db/errors.py`` ``database_unavailable``). Nothing is published
then: the work was not committed, or its outcome is unknown. The pool reconnects by itself on
the next request, so the process keeps running and requests succeed again as soon as the
database is back. The outage is logged once when it starts and once when it ends.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import asyncpg

from chatalot.db.errors import DATABASE_UNAVAILABLE_MESSAGE, database_unavailable
from chatalot.errors import ServiceUnavailable

log = logging.getLogger("chatalot_server.db")

Conn = asyncpg.Connection  # the type repositories take as first parameter


@dataclass(frozen=True, slots=True)
class Emitted:
    """One event and who should receive it (the realtime layer defines both shapes)."""

    event: object
    audience: object


class EventSink(Protocol):
    async def __call__(self, events: Sequence[Emitted]) -> None: ...


async def _discard(events: Sequence[Emitted]) -> None:
    return None


@dataclass(slots=True)
class Tx:
    """The active unit of work: its connection and the events to publish after commit."""

    name: str
    conn: Any
    outbox: list[Emitted] = field(default_factory=list)
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    def emit(self, event: object, *, to: object) -> None:
        self.outbox.append(Emitted(event, to))

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` (synchronous, quick: e.g. update an in-memory cache) once the
        outermost transaction has committed; never if it rolls back."""
        self.after_commit.append(callback)


_current_tx: contextvars.ContextVar[Tx | None] = contextvars.ContextVar("chatalot_tx", default=None)


class Database:
    def __init__(
        self,
        pool: Any,
        *,
        acquire_timeout: float,
        sink: EventSink | None = None,
    ) -> None:
        self._pool = pool
        self._single: Any = None
        self._single_lock = asyncio.Lock()
        self.acquire_timeout = acquire_timeout
        self.sink: EventSink = sink or _discard
        self.acquire_timeouts = 0
        self.unavailable_errors = 0  # requests refused because the database was out of reach
        self._outage_started: float | None = None  # monotonic time of the first refusal
        self._outage_refused = 0

    @classmethod
    def single_connection(cls, conn: Any, *, sink: EventSink | None = None) -> Database:
        """A Database over one connection (tests: the test's own transaction wraps everything;
        each service transaction becomes a SAVEPOINT that still flushes its events on exit)."""
        db = cls(None, acquire_timeout=5.0, sink=sink)
        db._single = conn
        return db

    @property
    def pool(self) -> Any:
        return self._pool

    def connection(self) -> _Connection:
        """A connection for reads outside a transaction (joins the current one if any)::

        async with ctx.db.connection() as conn: ..."""
        return _Connection(self)

    @asynccontextmanager
    async def transaction(self, name: str) -> AsyncIterator[Tx]:
        """A named unit of work; events emitted inside are published after it commits."""
        outer = _current_tx.get()
        if outer is not None:
            async with outer.conn.transaction():  # SAVEPOINT; events go to the outer outbox
                yield outer
            return
        async with self.connection() as conn:
            tx = Tx(name=name, conn=conn)
            token = _current_tx.set(tx)
            try:
                async with conn.transaction():
                    yield tx
            except Exception as err:
                # The connection broke (also during COMMIT: the outcome is then unknown, so
                # nothing is published and the caller reports a failure).
                if database_unavailable(err, conn):
                    raise self._unavailable(err) from None
                raise
            finally:
                _current_tx.reset(token)
        for callback in tx.after_commit:
            callback()
        if tx.outbox:
            await self.sink(tx.outbox)

    async def _acquire(self) -> Any:
        pool = self._pool
        # With a connection free the wait is bounded already (by the pool's connect timeout, if
        # the free slot must reconnect first), and asyncpg's acquire and release each set up a
        # timer for a timeout: most requests find one free, so the timers are kept for a wait.
        timeout = None if _has_free_connection(pool) else self.acquire_timeout
        try:
            conn = await pool.acquire(timeout=timeout)
        except TimeoutError:
            self.acquire_timeouts += 1
            log.warning(
                "Database pool exhausted: no connection within %.1f s (%d time(s) since start)",
                self.acquire_timeout,
                self.acquire_timeouts,
            )
            raise ServiceUnavailable(
                "the server is busy (no database connection available), try again shortly"
            ) from None
        except Exception as err:
            if database_unavailable(err):
                raise self._unavailable(err) from None
            raise
        return conn

    def _unavailable(self, err: BaseException) -> ServiceUnavailable:
        """The error for a request that met an outage; the outage's start is logged once."""
        self.unavailable_errors += 1
        self._outage_refused += 1
        if self._outage_started is None:
            self._outage_started = time.monotonic()
            self._outage_refused = 1
            log.warning(
                "Database unavailable (%s): requests fail with 503 until it is back",
                _describe(err),
            )
        return ServiceUnavailable(DATABASE_UNAVAILABLE_MESSAGE)

    def _reachable_again(self) -> None:
        """A request worked after an outage: the end of the outage is logged."""
        assert self._outage_started is not None
        log.info(
            "Database reachable again after %.1f s (%d request(s) refused meanwhile)",
            time.monotonic() - self._outage_started,
            self._outage_refused,
        )
        self._outage_started = None

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()


class _Connection:
    """``Database.connection()``: a plain class rather than a generator-based context manager,
    since nearly every request enters one (docs/benchmarks.md, the edge's cost)."""

    __slots__ = ("_conn", "_db", "_locked")

    def __init__(self, db: Database) -> None:
        self._db = db
        self._conn: Any = None
        self._locked = False

    async def __aenter__(self) -> Any:
        current = _current_tx.get()
        if current is not None:
            return current.conn
        db = self._db
        if db._single is not None:
            await db._single_lock.acquire()
            self._locked = True
            return db._single
        self._conn = await db._acquire()
        return self._conn

    async def __aexit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: Any
    ) -> None:
        db = self._db
        if self._locked:
            db._single_lock.release()
            return
        conn = self._conn
        if conn is None:  # joined the current transaction
            return
        self._conn = None
        try:
            if err is None:
                if db._outage_started is not None:
                    db._reachable_again()
            elif isinstance(err, Exception) and database_unavailable(err, conn):
                raise db._unavailable(err) from None
        finally:
            await _release(db, conn)


async def _release(db: Database, conn: Any) -> None:
    """Gives a connection back to the pool. The pool resets it first; when the server ends it
    meanwhile (a restart), asyncpg terminates it and raises. The work done on it stands (a
    transaction committed stays committed, and its events must still go out), so that is not
    the request's failure: the pool opens a new connection for the next one."""
    try:
        await db._pool.release(conn)
    except Exception as err:
        if database_unavailable(err, conn):
            log.info(
                "A database connection was lost on its way back to the pool: %s", _describe(err)
            )
        else:
            log.warning("Could not give a connection back to the pool: %s", _describe(err))


def _has_free_connection(pool: Any) -> bool:
    """Whether acquiring from asyncpg's pool returns without waiting for a release (its queue
    of free connection slots is not empty). False when that cannot be told."""
    queue = getattr(pool, "_queue", None)
    return isinstance(queue, asyncio.Queue) and queue.qsize() > 0


def _describe(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__
