"""Periodic clean-up: refresh tokens expired for more than 7 days, failed-login counters idle
for a day, one-time prekeys handed out and uploaded more than 30 days ago, audit entries older
than 90 days (the original's retention), channel timeouts that have ended (they no longer
count; the rows are only clutter), Web Push subscriptions that failed 3 times or more in a row
and those last used more than 90 days ago (never-used ones are kept). Message lifetime jobs:
services/message_retention.py.
Each step is one idempotent DELETE, so several server processes may run it at once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from chatalot.context import Ctx
from chatalot.repositories import audit as audit_repo
from chatalot.repositories import keys as keys_repo
from chatalot.repositories import lockouts as lockouts_repo
from chatalot.repositories import moderation as moderation_repo
from chatalot.repositories import push as push_repo
from chatalot.repositories import sessions as sessions_repo

log = logging.getLogger("chatalot_server")

REFRESH_TOKEN_GRACE = timedelta(days=7)
LOCKOUT_IDLE = timedelta(days=1)
AUDIT_RETENTION = timedelta(days=90)
USED_PREKEY_RETENTION = timedelta(days=30)
PUSH_MAX_FAILURES = 3
PUSH_STALE_AFTER = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class CleanupReport:
    refresh_tokens: int
    lockouts: int
    audit_entries: int
    timeouts: int = 0
    used_prekeys: int = 0
    failed_push_subscriptions: int = 0
    stale_push_subscriptions: int = 0


async def hourly_cleanup(ctx: Ctx) -> CleanupReport:
    now = ctx.clock.now()
    async with ctx.db.transaction("hourly_cleanup") as tx:
        tokens = await sessions_repo.delete_expired_sessions(tx.conn, now - REFRESH_TOKEN_GRACE)
        lockouts = await lockouts_repo.delete_stale_lockouts(tx.conn, now - LOCKOUT_IDLE)
        prekeys = await keys_repo.delete_used_one_time_prekeys(tx.conn, now - USED_PREKEY_RETENTION)
        audit = await audit_repo.delete_audit_older_than(tx.conn, now - AUDIT_RETENTION)
        timeouts = await moderation_repo.delete_expired_timeouts(tx.conn, now)
        failed_push = await push_repo.delete_failed_subscriptions(tx.conn, PUSH_MAX_FAILURES)
        stale_push = await push_repo.delete_stale_subscriptions(tx.conn, now - PUSH_STALE_AFTER)
    if tokens:
        log.info("Cleaned up %d expired refresh tokens", tokens)
    if prekeys:
        log.info("Cleaned up %d used prekeys", prekeys)
    if audit:
        log.info("Cleaned up %d audit log entries older than 90 days", audit)
    if failed_push:
        log.info("Cleaned up %d failed push subscriptions", failed_push)
    if stale_push:
        log.info("Cleaned up %d stale push subscriptions", stale_push)
    return CleanupReport(
        refresh_tokens=tokens,
        lockouts=lockouts,
        audit_entries=audit,
        timeouts=timeouts,
        used_prekeys=prekeys,
        failed_push_subscriptions=failed_push,
        stale_push_subscriptions=stale_push,
    )
