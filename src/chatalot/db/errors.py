"""Map asyncpg errors onto the domain's errors.

Repositories wrap statements that may hit a constraint in ``with on_unique_violation(...)``
(Conflict/NotFound/Invalid). ``database_unavailable`` tells whether an error means that
PostgreSQL cannot be reached or dropped the connection (restarting, stopped, unreachable), which
``db/database.py`` turns into ServiceUnavailable (HTTP 503, on the WebSocket the frame's
``internal_error``) instead of an unexpected error.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg

from chatalot.errors import Conflict, Invalid, NotFound

DATABASE_UNAVAILABLE_MESSAGE = "the database is unavailable, try again shortly"

# The server is shutting down, crashed, starting up, full, or the connection broke (SQLSTATE
# classes 08 and 57P0x). Not QueryCanceledError (57014): a statement timeout is not an outage.
_UNAVAILABLE = (
    asyncpg.PostgresConnectionError,  # 08xxx, ConnectionDoesNotExistError included
    asyncpg.AdminShutdownError,  # 57P01 "terminating connection due to administrator command"
    asyncpg.CrashShutdownError,  # 57P02
    asyncpg.CannotConnectNowError,  # 57P03 "the database system is starting up / shutting down"
    asyncpg.TooManyConnectionsError,  # 53300
)


def database_unavailable(err: BaseException, conn: Any = None) -> bool:
    """True when ``err`` means the database is out of reach, not that the statement was wrong.

    Connecting: refused, unreachable, timed out (``OSError``, ``TimeoutError``) or one of the
    server's "cannot serve you now" answers. On an open connection ``conn``: the server ended it,
    or the client side found it closed (``InterfaceError``/``OSError`` once ``conn`` is closed).
    """
    if isinstance(err, _UNAVAILABLE):
        return True
    if conn is None:
        return isinstance(err, OSError | TimeoutError)
    if isinstance(err, asyncpg.InterfaceError | OSError):
        return _closed(conn)
    return False


def _closed(conn: Any) -> bool:
    try:
        return bool(conn.is_closed())
    except asyncpg.InterfaceError:
        # A pool connection that broke is detached from its proxy at once ("released back to
        # the pool"): inside the block that acquired it, that only happens when it was lost.
        return True


@contextmanager
def on_unique_violation(message: str) -> Iterator[None]:
    """A UNIQUE violation inside the block becomes Conflict(message)."""
    try:
        yield
    except asyncpg.UniqueViolationError:
        raise Conflict(message) from None


@contextmanager
def on_foreign_key_violation(message: str) -> Iterator[None]:
    """A FOREIGN KEY violation (the referenced row is gone) becomes NotFound(message)."""
    try:
        yield
    except asyncpg.ForeignKeyViolationError:
        raise NotFound(message) from None


@contextmanager
def on_check_violation(message: str) -> Iterator[None]:
    """A CHECK or NOT NULL violation becomes Invalid(message)."""
    try:
        yield
    except (asyncpg.CheckViolationError, asyncpg.NotNullViolationError):
        raise Invalid(message) from None
