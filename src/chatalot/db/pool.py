"""Opening the connection pool at startup: retry while the database is still starting, and turn
every permanent failure into one sentence that says what to fix (never with the password)."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from typing import Any

import asyncpg

from chatalot.config import PoolSettings
from chatalot.db.codecs import register_codecs
from chatalot.db.dsn import DatabaseUrl

log = logging.getLogger("chatalot_server.db")

_FIRST_BACKOFF = 0.25
_MAX_BACKOFF = 3.0
_ATTEMPT_TIMEOUT = 5.0


class DatabaseStartupError(RuntimeError):
    """The database cannot be used. The message is one sentence telling the operator what to fix."""


# Errors that mean "not up yet": worth retrying until the deadline.
_TRANSIENT = (
    OSError,  # refused, unreachable, DNS not resolvable yet (socket.gaierror is an OSError)
    TimeoutError,
    asyncpg.CannotConnectNowError,  # "the database system is starting up"
    asyncpg.TooManyConnectionsError,
    asyncpg.ConnectionDoesNotExistError,
)


class _OneLineFloorRetries(logging.Filter):
    """asyncpg's pool keeps ``min_size`` connections open: while the database is down it retries
    (after 1 s, 2 s, ... up to 60 s) and logs a WARNING with the whole traceback each time. The
    traceback says nothing the error's first line does not, and makes an operator think the
    server crashed: the record keeps its level and becomes one line naming the error."""

    def filter(self, record: logging.LogRecord) -> bool:
        err = record.exc_info[1] if record.exc_info else None
        message = record.msg if isinstance(record.msg, str) else ""
        if err is not None and message.startswith("Failed to restore the pool connection"):
            record.msg = "Cannot reopen the pool's standing connections (%s); retrying"
            record.args = (_short(err),)
            record.exc_info = None
            record.exc_text = None
        return True


_FLOOR_FILTER = _OneLineFloorRetries()


async def open_pool(url: DatabaseUrl, settings: PoolSettings) -> Any:
    """Wait (with backoff, up to ``settings.connect_retry_secs``) for PostgreSQL, then open the
    pool (max/min connections as configured). Raises DatabaseStartupError."""
    logging.getLogger("asyncpg.pool").addFilter(_FLOOR_FILTER)  # adding it again is a no-op
    await wait_for_database(url, settings.connect_retry_secs)
    try:
        return await asyncpg.create_pool(
            url.dsn,
            min_size=settings.min_connections,
            max_size=settings.max_connections,
            init=register_codecs,
            reset=release_without_reset,
            timeout=_ATTEMPT_TIMEOUT,
        )
    except Exception as err:
        raise DatabaseStartupError(describe_connect_error(url, err)) from None


async def release_without_reset(conn: Any) -> None:
    """The pool's release hook, in place of asyncpg's default session reset.

    asyncpg's default runs ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`` on
    every release: a second round trip per request, and about half of PostgreSQL's CPU under
    load. Nothing we run on a pool connection leaves session state behind, so there is nothing
    to reset:

    - advisory locks are transaction-scoped (``pg_advisory_xact_lock``), except the migration
      runner's, which it unlocks itself (and ends the session if it cannot);
    - no session-level ``SET``, ``LISTEN`` (notifications use their own connection, see
      ``notify.py``), temporary table or cursor ``WITH HOLD``; ``SET LOCAL`` ends with its
      transaction;
    - a transaction still open at release (a cancelled request) is rolled back by asyncpg
      before this hook runs, which also drops the connection's listeners; if that fails, asyncpg
      closes the connection instead of reusing it.

    Anything added later that needs session state must use its own connection.
    """
    del conn


async def wait_for_database(url: DatabaseUrl, retry_secs: float) -> None:
    """Connect once successfully, retrying transient failures until ``retry_secs`` have passed."""
    deadline = time.monotonic() + retry_secs
    backoff = _FIRST_BACKOFF
    attempts = 0
    while True:
        attempts += 1
        try:
            conn = await asyncpg.connect(url.dsn, timeout=_ATTEMPT_TIMEOUT)
        except _TRANSIENT as err:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DatabaseStartupError(
                    f"could not reach PostgreSQL at {url.where} within {retry_secs:g} s "
                    f"({attempts} attempts; last error: {_short(err)}): check the host and port "
                    "in DATABASE_URL and that the database server is running"
                ) from None
            if attempts == 1:
                log.info("Waiting for PostgreSQL at %s (%s)", url.where, _short(err))
            await asyncio.sleep(min(backoff, max(remaining, 0.01)))
            backoff = min(backoff * 2, _MAX_BACKOFF)
            continue
        except Exception as err:
            raise DatabaseStartupError(describe_connect_error(url, err)) from None
        await conn.close()
        return


def describe_connect_error(url: DatabaseUrl, err: BaseException) -> str:
    """One sentence for a permanent connection failure."""
    user = url.user or "(default user)"
    database = url.database or user
    if isinstance(err, asyncpg.InvalidPasswordError):
        return (
            f"PostgreSQL at {url.where} rejected the password for user '{user}': "
            "check the password in DATABASE_URL"
        )
    if isinstance(err, asyncpg.InvalidCatalogNameError):
        return (
            f"database '{database}' does not exist on {url.where}: create it with "
            f"CREATE DATABASE {database} OWNER {user};"
        )
    if isinstance(err, asyncpg.InvalidAuthorizationSpecificationError):
        return (
            f"PostgreSQL at {url.where} refused user '{user}' ({_server_message(err)}): "
            "check the user name in DATABASE_URL, that the role exists "
            f"(CREATE USER {user} WITH PASSWORD '...';) and pg_hba.conf"
        )
    if isinstance(err, asyncpg.InsufficientPrivilegeError):
        return missing_privileges_message(url)
    if isinstance(err, ssl.SSLError | ConnectionError) and url.sslmode:
        return (
            f"TLS connection to PostgreSQL at {url.where} failed ({_short(err)}): check "
            f"sslmode={url.sslmode} in DATABASE_URL against the server's SSL setup"
        )
    if isinstance(err, socket.gaierror):
        return f"cannot resolve the database host {url.where}: check the host in DATABASE_URL"
    return f"could not connect to PostgreSQL at {url.where}: {_short(err)}"


def missing_privileges_message(url: DatabaseUrl) -> str:
    user = url.user or "chatalot"
    database = url.database or user
    return (
        f"user '{user}' lacks the privileges to create and alter tables in database "
        f"'{database}': as a PostgreSQL superuser run ALTER DATABASE {database} OWNER TO {user}; "
        f"and, connected to {database}, GRANT ALL ON SCHEMA public TO {user};"
    )


def _server_message(err: BaseException) -> str:
    message = getattr(err, "message", None) or str(err)
    return str(message).splitlines()[0] if message else type(err).__name__


def _short(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__
