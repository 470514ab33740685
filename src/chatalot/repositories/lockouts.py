"""SQL for failed-attempt counters (login, recovery, TOTP, password re-entry), shared by all
server processes, and the one read of ``refresh_tokens`` the lockout needs (the addresses an
account signed in from). No policy here: see services/lockout.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chatalot.db.database import Conn


@dataclass(frozen=True, slots=True)
class LockoutRow:
    scope: str
    subject: str
    failures: int
    window_started_at: datetime
    locked_until: datetime | None


async def select_lockout(conn: Conn, *, scope: str, subject: str) -> LockoutRow | None:
    record = await conn.fetchrow(
        """
        SELECT scope, subject, failures, window_started_at, locked_until
          FROM auth_lockouts WHERE scope = $1 AND subject = $2
        """,
        scope,
        subject,
    )
    return LockoutRow(**dict(record)) if record else None


async def record_failure(
    conn: Conn,
    *,
    scope: str,
    subject: str,
    now: datetime,
    window: timedelta,
    threshold: int,
    lock_for: timedelta,
) -> LockoutRow:
    """Counts one failure in one atomic statement. A failure after the window (or after an
    expired lock) starts a new window; reaching the threshold sets locked_until."""
    record = await conn.fetchrow(
        """
        INSERT INTO auth_lockouts AS l (scope, subject, failures, window_started_at, updated_at)
             VALUES ($1, $2, 1, $3, $3)
        ON CONFLICT (scope, subject) DO UPDATE SET
            failures = CASE
                WHEN l.window_started_at <= $3 - $4::interval
                  OR (l.locked_until IS NOT NULL AND l.locked_until <= $3) THEN 1
                ELSE l.failures + 1 END,
            window_started_at = CASE
                WHEN l.window_started_at <= $3 - $4::interval
                  OR (l.locked_until IS NOT NULL AND l.locked_until <= $3) THEN $3
                ELSE l.window_started_at END,
            locked_until = CASE
                WHEN l.locked_until IS NOT NULL AND l.locked_until <= $3 THEN NULL
                ELSE l.locked_until END,
            updated_at = $3
        RETURNING scope, subject, failures, window_started_at, locked_until
        """,
        scope,
        subject,
        now,
        window,
    )
    row = LockoutRow(**dict(record))
    if row.failures >= threshold and row.locked_until is None:
        record = await conn.fetchrow(
            """
            UPDATE auth_lockouts SET locked_until = $3 WHERE scope = $1 AND subject = $2
         RETURNING scope, subject, failures, window_started_at, locked_until
            """,
            scope,
            subject,
            now + lock_for,
        )
        row = LockoutRow(**dict(record))
    return row


async def delete_lockout(conn: Conn, *, scope: str, subject: str) -> None:
    await conn.execute(
        "DELETE FROM auth_lockouts WHERE scope = $1 AND subject = $2", scope, subject
    )


async def delete_stale_lockouts(conn: Conn, older_than: datetime) -> int:
    status = await conn.execute(
        """
        DELETE FROM auth_lockouts
         WHERE updated_at < $1 AND (locked_until IS NULL OR locked_until < $1)
        """,
        older_than,
    )
    return int(status.split()[-1])


MAX_RECENT_ADDRESSES = 1000


async def list_recent_session_addresses(conn: Conn, *, username: str, since: datetime) -> list[str]:
    """The distinct client addresses of the sessions (refresh tokens, revoked or not) of the
    account named ``username`` (lower-cased) created after ``since``; at most 1000."""
    records = await conn.fetch(
        """
        SELECT DISTINCT r.ip_address
          FROM users u
          JOIN refresh_tokens r ON r.user_id = u.id
         WHERE lower(u.username) = $1 AND r.created_at > $2 AND r.ip_address IS NOT NULL
         LIMIT $3
        """,
        username,
        since,
        MAX_RECENT_ADDRESSES,
    )
    return [r["ip_address"] for r in records]
