"""Brute-force protection: failed attempts per (scope, username), shared by all processes.

10 failures within 15 minutes lock the scope for that username for 15 minutes (429
``rate_limited``). The counter decays: failures older than the window no longer count, and the
count starts again after a lock expires. Login, recovery and TOTP have separate counters.
Unknown usernames are counted like known ones, so the lockout reveals nothing.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from chatalot.db.database import Conn
from chatalot.errors import RateLimited
from chatalot.repositories import lockouts as lockouts_repo

THRESHOLD = 10
WINDOW = timedelta(minutes=15)
LOCK_FOR = timedelta(minutes=15)


def _subject(username: str) -> str:
    return username.strip().lower()


async def ensure_not_locked(
    conn: Conn, scope: str, username: str, now: datetime, message: str
) -> None:
    """Raises RateLimited (message with ``{N}`` seconds filled in) while locked."""
    row = await lockouts_repo.select_lockout(conn, scope=scope, subject=_subject(username))
    if row is not None and row.locked_until is not None and row.locked_until > now:
        seconds = max(1, math.ceil((row.locked_until - now).total_seconds()))
        raise RateLimited(message.format(N=seconds), retry_after=seconds)


async def record_failure(conn: Conn, scope: str, username: str, now: datetime) -> bool:
    """Counts a failure; True when this failure locked the account."""
    row = await lockouts_repo.record_failure(
        conn,
        scope=scope,
        subject=_subject(username),
        now=now,
        window=WINDOW,
        threshold=THRESHOLD,
        lock_for=LOCK_FOR,
    )
    return row.failures == THRESHOLD and row.locked_until is not None


async def clear(conn: Conn, scope: str, username: str) -> None:
    await lockouts_repo.delete_lockout(conn, scope=scope, subject=_subject(username))
