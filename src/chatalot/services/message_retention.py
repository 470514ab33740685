"""Message lifetime jobs: hard-delete messages past their ``expires_at`` (every 5 minutes) and
messages soft-deleted more than 30 days ago (daily). What happens to the rows that point at a
deleted message is described in repositories/message_retention.py.

Both work in batches of ``BATCH_SIZE`` rows, each batch its own transaction, until a batch
comes back short: a large backlog never holds locks for long, and what is done stays done if
the run is interrupted.

Several server processes may run these jobs at once. Each batch first takes the job's advisory
lock with ``pg_try_advisory_xact_lock``; a process that does not get it stops its run (another
process is already working through the backlog), so batches never compete and the cascades of
two batches cannot deadlock. The deletes themselves are idempotent and return exactly the rows
they deleted, so even without the lock every message would be deleted once and announced once.

Expired messages are announced live: ``message_deleted`` to the channel's subscribers, emitted
in the batch's transaction and so published only once it has committed (the original deleted
them silently; clients kept showing them until reloaded). A message that had already been
soft-deleted was announced then and is not announced again. The soft-delete purge sends
nothing: clients no longer show those messages."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from chatalot.context import Ctx
from chatalot.db.database import Conn
from chatalot.protocol import events
from chatalot.repositories import message_retention as retention_repo
from chatalot.repositories.message_retention import DeletedMessageRow
from chatalot.services.audience import ChannelSubscribers

log = logging.getLogger("chatalot_server")

BATCH_SIZE = 1000
SOFT_DELETE_RETENTION = timedelta(days=30)

_Delete = Callable[[Conn], Awaitable[list[DeletedMessageRow]]]


async def expire_messages(ctx: Ctx, *, batch_size: int = BATCH_SIZE) -> int:
    """Hard-deletes every message whose ``expires_at`` has passed; returns how many this process
    deleted. Each expired message that was still visible gets a ``message_deleted``."""
    now = ctx.clock.now()

    async def delete(conn: Conn) -> list[DeletedMessageRow]:
        return await retention_repo.delete_expired_messages(conn, now, limit=batch_size)

    total = await _in_batches(ctx, "expire_messages", delete, batch_size, announce=True)
    if total:
        log.info("Expired %d messages past their TTL", total)
    return total


async def purge_soft_deleted_messages(ctx: Ctx, *, batch_size: int = BATCH_SIZE) -> int:
    """Hard-deletes messages soft-deleted more than 30 days ago; returns how many this process
    deleted. No events."""
    cutoff = ctx.clock.now() - SOFT_DELETE_RETENTION

    async def delete(conn: Conn) -> list[DeletedMessageRow]:
        return await retention_repo.delete_soft_deleted_messages(conn, cutoff, limit=batch_size)

    total = await _in_batches(ctx, "purge_soft_deleted_messages", delete, batch_size)
    if total:
        log.info("GC: hard-deleted %d messages soft-deleted more than 30 days ago", total)
    return total


async def _in_batches(
    ctx: Ctx, job: str, delete: _Delete, batch_size: int, *, announce: bool = False
) -> int:
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    total = 0
    while True:
        async with ctx.db.transaction(job) as tx:
            if not await retention_repo.try_lock_job(tx.conn, job):
                log.debug("%s: another server process is on it; leaving the rest to it", job)
                return total
            deleted = await delete(tx.conn)
            if announce:
                for row in deleted:
                    if row.deleted_at is None:
                        tx.emit(
                            events.MessageDeleted(message_id=str(row.id)),
                            to=ChannelSubscribers(row.channel_id),
                        )
        total += len(deleted)
        if len(deleted) < batch_size:
            return total
