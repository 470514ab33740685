"""Message lifetime jobs: expired messages and month-old soft-deleted ones are hard-deleted in
batches, their dependants follow the foreign keys, expired ones are announced after commit, and
several processes running the jobs at once delete and announce each message once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest

from chatalot.config import PoolSettings, Settings
from chatalot.context import Ctx
from chatalot.db.database import Database, Emitted
from chatalot.db.pool import open_pool
from chatalot.ids import ChannelId, UserId, uuid7
from chatalot.protocol.events import MessageDeleted
from chatalot.repositories import message_retention as retention_repo
from chatalot.repositories import unread as unread_repo
from chatalot.security.passwords import PasswordHasher
from chatalot.security.tokens import JwtKeys
from chatalot.services.audience import ChannelSubscribers
from chatalot.services.message_retention import expire_messages, purge_soft_deleted_messages
from tests.conftest import RecordingSink, build_ctx
from tests.support.auth import make_user
from tests.support.pg import PgServer
from tests.support.spaces import add_channel_member, make_channel


async def post(
    ctx: Ctx,
    channel: ChannelId,
    sender: UserId | None,
    *,
    created_at: datetime | None = None,
    expires_at: datetime | None = None,
    deleted_at: datetime | None = None,
    reply_to: uuid.UUID | None = None,
    thread: uuid.UUID | None = None,
) -> uuid.UUID:
    message_id = uuid7()
    async with ctx.db.transaction("test_post") as tx:
        await tx.conn.execute(
            """
            INSERT INTO messages (id, channel_id, sender_id, ciphertext, nonce, created_at,
                                  expires_at, deleted_at, reply_to_id, thread_id)
            VALUES ($1, $2, $3, '\\x01', '\\x02', $4, $5, $6, $7, $8)
            """,
            message_id,
            channel,
            sender,
            created_at or ctx.clock.now() - timedelta(hours=1),
            expires_at,
            deleted_at,
            reply_to,
            thread,
        )
    return message_id


async def post_many(
    ctx: Ctx, channel: ChannelId, sender: UserId, count: int, *, expires_at: datetime
) -> list[uuid.UUID]:
    ids = sorted(uuid7() for _ in range(count))
    async with ctx.db.transaction("test_post_many") as tx:
        await tx.conn.execute(
            """
            INSERT INTO messages (id, channel_id, sender_id, ciphertext, nonce, expires_at)
            SELECT i, $2, $3, '\\x01', '\\x02', $4 FROM unnest($1::uuid[]) AS i
            """,
            ids,
            channel,
            sender,
            expires_at,
        )
    return ids


async def remaining(ctx: Ctx) -> set[uuid.UUID]:
    async with ctx.db.connection() as conn:
        return {r["id"] for r in await conn.fetch("SELECT id FROM messages")}


def deleted_ids(published: Sequence[Emitted]) -> list[uuid.UUID]:
    ids = []
    for item in published:
        assert isinstance(item.event, MessageDeleted)
        ids.append(uuid.UUID(item.event.message_id))
    return ids


# -- expiry ----------------------------------------------------------------------------------


async def test_expired_messages_go_and_are_announced_to_their_channel(
    ctx: Ctx, sink: RecordingSink
) -> None:
    """Expired messages are deleted, each announced to its own channel's subscribers; messages
    expiring now or later, or never, stay; an expired soft-deleted one goes silently."""
    owner = await make_user(ctx)
    first = await make_channel(ctx, None, owner.id)
    second = await make_channel(ctx, None, owner.id)
    now = ctx.clock.now()
    gone_first = await post(ctx, first, owner.id, expires_at=now - timedelta(seconds=1))
    gone_second = await post(ctx, second, owner.id, expires_at=now - timedelta(days=3))
    gone_silently = await post(
        ctx, first, owner.id, expires_at=now - timedelta(minutes=1), deleted_at=now
    )
    due_now = await post(ctx, first, owner.id, expires_at=now)
    later = await post(ctx, first, owner.id, expires_at=now + timedelta(minutes=1))
    forever = await post(ctx, second, owner.id)

    assert await expire_messages(ctx) == 3

    assert await remaining(ctx) == {due_now, later, forever}
    assert gone_silently not in deleted_ids(sink.published)
    assert sorted(sink.published, key=lambda e: str(e.audience)) == sorted(
        [
            Emitted(MessageDeleted(message_id=str(gone_first)), ChannelSubscribers(first)),
            Emitted(MessageDeleted(message_id=str(gone_second)), ChannelSubscribers(second)),
        ],
        key=lambda e: str(e.audience),
    )
    assert await expire_messages(ctx) == 0  # nothing left to do, nothing announced twice
    assert len(sink.published) == 2


async def test_dependants_of_an_expired_message(ctx: Ctx) -> None:
    """Reactions, pin, bookmarks and edit history go with the message; replies and thread
    replies stay and lose the link; a read cursor on it stays (message NULL, time kept), so the
    unread count counts from when it was read instead of from the beginning; reports stay."""
    owner, reader = await make_user(ctx), await make_user(ctx)
    channel = await make_channel(ctx, None, owner.id)
    await add_channel_member(ctx, channel, reader.id)
    now = ctx.clock.now()
    doomed = await post(
        ctx,
        channel,
        owner.id,
        created_at=now - timedelta(minutes=20),
        expires_at=now - timedelta(seconds=5),
    )
    reply = await post(
        ctx, channel, owner.id, created_at=now - timedelta(minutes=15), reply_to=doomed
    )
    in_thread = await post(
        ctx, channel, owner.id, created_at=now - timedelta(minutes=14), thread=doomed
    )
    await post(ctx, channel, owner.id, created_at=now - timedelta(minutes=1))  # unread
    read_at = now - timedelta(minutes=5)
    report_id = uuid7()
    async with ctx.db.transaction("seed") as tx:
        conn = tx.conn
        await conn.execute(
            "INSERT INTO reactions (message_id, user_id, emoji) VALUES ($1, $2, '👍')",
            doomed,
            reader.id,
        )
        await conn.execute(
            "INSERT INTO pinned_messages (message_id, channel_id, pinned_by) VALUES ($1, $2, $3)",
            doomed,
            channel,
            owner.id,
        )
        await conn.execute(
            "INSERT INTO bookmarks (id, user_id, message_id) VALUES ($1, $2, $3)",
            uuid7(),
            reader.id,
            doomed,
        )
        await conn.execute(
            "INSERT INTO message_edits (message_id, old_ciphertext, old_nonce)"
            " VALUES ($1, '\\x03', '\\x04')",
            doomed,
        )
        await conn.execute(
            "INSERT INTO read_cursors (user_id, channel_id, last_read_message_id, last_read_at)"
            " VALUES ($1, $2, $3, $4)",
            reader.id,
            channel,
            doomed,
            read_at,
        )
        await conn.execute(
            "INSERT INTO reports (id, reporter_id, report_type, target_id, reason)"
            " VALUES ($1, $2, 'message', $3, 'spam')",
            report_id,
            reader.id,
            doomed,
        )
        before = await unread_repo.list_unread_counts(conn, reader.id, ctx.clock.now())
    assert [c.unread_count for c in before] == [3]

    assert await expire_messages(ctx) == 1

    async with ctx.db.connection() as conn:
        for table in ("reactions", "pinned_messages", "bookmarks", "message_edits"):
            count = await conn.fetchval(
                f"SELECT count(*) FROM {table} WHERE message_id = $1", doomed
            )
            assert count == 0, table
        links = await conn.fetch(
            "SELECT id, reply_to_id, thread_id FROM messages WHERE id = ANY($1::uuid[])",
            [reply, in_thread],
        )
        assert {r["id"]: (r["reply_to_id"], r["thread_id"]) for r in links} == {
            reply: (None, None),
            in_thread: (None, None),
        }
        cursor = await conn.fetchrow(
            "SELECT last_read_message_id, last_read_at FROM read_cursors WHERE user_id = $1",
            reader.id,
        )
        assert tuple(cursor) == (None, read_at)
        after = await unread_repo.list_unread_counts(conn, reader.id, ctx.clock.now())
        assert [c.unread_count for c in after] == [1]
        assert await conn.fetchval("SELECT target_id FROM reports WHERE id = $1", report_id) == (
            doomed
        )


async def test_a_failed_batch_keeps_its_messages_and_announces_nothing(
    ctx: Ctx, sink: RecordingSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The delete and its events are one transaction: if it fails, nothing is published."""
    owner = await make_user(ctx)
    channel = await make_channel(ctx, None, owner.id)
    doomed = await post(ctx, channel, owner.id, expires_at=ctx.clock.now() - timedelta(minutes=1))
    real_delete = retention_repo.delete_expired_messages

    async def delete_then_fail(conn: Any, now: datetime, *, limit: int) -> Any:
        assert await real_delete(conn, now, limit=limit)
        raise RuntimeError("connection lost")

    monkeypatch.setattr(retention_repo, "delete_expired_messages", delete_then_fail)
    with pytest.raises(RuntimeError):
        await expire_messages(ctx)
    assert sink.published == []
    assert await remaining(ctx) == {doomed}


# -- soft-deleted purge ----------------------------------------------------------------------


async def test_soft_deleted_purge_keeps_the_last_30_days(ctx: Ctx, sink: RecordingSink) -> None:
    """Soft-deleted more than 30 days ago: gone, silently. Less, or not deleted: kept."""
    owner = await make_user(ctx)
    channel = await make_channel(ctx, None, owner.id)
    now = ctx.clock.now()
    old = now - timedelta(days=60)
    await post(ctx, channel, owner.id, created_at=old, deleted_at=now - timedelta(days=31))
    await post(
        ctx, channel, owner.id, created_at=old, deleted_at=now - timedelta(days=30, seconds=1)
    )
    recent = await post(
        ctx, channel, owner.id, created_at=old, deleted_at=now - timedelta(days=29, hours=23)
    )
    live = await post(ctx, channel, owner.id, created_at=old)

    assert await purge_soft_deleted_messages(ctx) == 2

    assert await remaining(ctx) == {recent, live}
    assert sink.published == []


async def test_soft_deleted_purge_works_in_batches(ctx: Ctx) -> None:
    owner = await make_user(ctx)
    channel = await make_channel(ctx, None, owner.id)
    ids = await post_many(
        ctx, channel, owner.id, 23, expires_at=ctx.clock.now() + timedelta(days=1)
    )
    async with ctx.db.transaction("soft_delete") as tx:
        await tx.conn.execute(
            "UPDATE messages SET deleted_at = $1", ctx.clock.now() - timedelta(days=40)
        )
    calls: list[int] = []
    real_delete = retention_repo.delete_soft_deleted_messages

    async def counting(conn: Any, cutoff: datetime, *, limit: int) -> Any:
        rows = await real_delete(conn, cutoff, limit=limit)
        calls.append(len(rows))
        return rows

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(retention_repo, "delete_soft_deleted_messages", counting)
        assert await purge_soft_deleted_messages(ctx, batch_size=10) == len(ids)
    assert calls == [10, 10, 3]
    assert await remaining(ctx) == set()


# -- against a real pool: commits, batches, several processes -------------------------------


class BatchSink:
    """Records each publication (one per committed batch) and, at that moment, which of the
    messages are still in the database as seen from another connection."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self.calls: list[tuple[list[uuid.UUID], int]] = []

    async def __call__(self, events: Sequence[Emitted]) -> None:
        ids = deleted_ids(events)
        async with self.pool.acquire() as conn:
            still_there = await conn.fetchval(
                "SELECT count(*) FROM messages WHERE id = ANY($1::uuid[])", ids
            )
            left = await conn.fetchval("SELECT count(*) FROM messages")
        assert still_there == 0, "published before the batch committed"
        self.calls.append((ids, left))


@pytest.fixture
async def pool(pg: PgServer, fresh_db: str) -> AsyncIterator[Any]:
    pool = await open_pool(pg.url(fresh_db), PoolSettings(max_connections=8, min_connections=2))
    yield pool
    await pool.close()


def pooled_ctx(
    pool: Any, sink: Any, settings: Settings, passwords: PasswordHasher, jwt_keys: JwtKeys
) -> Ctx:
    return build_ctx(Database(pool, acquire_timeout=10, sink=sink), settings, passwords, jwt_keys)


async def test_a_backlog_goes_in_committed_batches(
    pool: Any, settings: Settings, passwords: PasswordHasher, jwt_keys: JwtKeys
) -> None:
    """25 expired with batches of 10: three commits, each published after it committed and
    before the next batch ran; the message expiring in the future stays."""
    sink = BatchSink(pool)
    ctx = pooled_ctx(pool, sink, settings, passwords, jwt_keys)
    owner = await make_user(ctx)
    channel = await make_channel(ctx, None, owner.id)
    now = ctx.clock.now()
    expired = await post_many(ctx, channel, owner.id, 25, expires_at=now - timedelta(hours=1))
    kept = await post(ctx, channel, owner.id, expires_at=now + timedelta(hours=1))

    assert await expire_messages(ctx, batch_size=10) == 25

    assert [(len(ids), left) for ids, left in sink.calls] == [(10, 16), (10, 6), (5, 1)]
    assert sorted(i for ids, _ in sink.calls for i in ids) == expired
    assert await remaining(ctx) == {kept}


async def test_concurrent_runs_delete_and_announce_each_message_once(
    pool: Any, settings: Settings, passwords: PasswordHasher, jwt_keys: JwtKeys
) -> None:
    """Three processes' runs at once over a backlog: every expired message deleted and announced
    exactly once in total."""
    sink = BatchSink(pool)
    runs = [pooled_ctx(pool, sink, settings, passwords, jwt_keys) for _ in range(3)]
    owner = await make_user(runs[0])
    channel = await make_channel(runs[0], None, owner.id)
    expired = await post_many(
        runs[0], channel, owner.id, 60, expires_at=runs[0].clock.now() - timedelta(minutes=1)
    )

    counts = await asyncio.gather(*(expire_messages(ctx, batch_size=7) for ctx in runs))

    announced = [i for ids, _ in sink.calls for i in ids]
    assert sorted(announced) == expired  # each once, none missing
    assert sum(counts) == 60
    # Whoever stopped early left the rest to a run that finished it.
    assert await remaining(runs[0]) == set()


async def test_a_run_leaves_the_backlog_to_the_process_holding_the_lock(
    pool: Any, settings: Settings, passwords: PasswordHasher, jwt_keys: JwtKeys
) -> None:
    """While another process works a batch (holds the job's lock), a run deletes nothing and
    returns at once; the next run does the work."""
    sink = BatchSink(pool)
    ctx = pooled_ctx(pool, sink, settings, passwords, jwt_keys)
    owner = await make_user(ctx)
    channel = await make_channel(ctx, None, owner.id)
    await post_many(ctx, channel, owner.id, 5, expires_at=ctx.clock.now() - timedelta(minutes=1))
    async with pool.acquire() as other, other.transaction():
        assert await retention_repo.try_lock_job(other, "expire_messages")
        assert await asyncio.wait_for(expire_messages(ctx), timeout=5) == 0
        assert len(await remaining(ctx)) == 5
    assert await expire_messages(ctx) == 5
    assert await remaining(ctx) == set()
    assert len(sink.calls) == 1


async def test_concurrent_deletes_never_share_a_row(
    pool: Any, settings: Settings, passwords: PasswordHasher, jwt_keys: JwtKeys
) -> None:
    """Without the job lock: a batch skips the rows another open batch holds instead of waiting
    for them, and each statement returns only the rows it deleted."""
    ctx = pooled_ctx(pool, RecordingSink(), settings, passwords, jwt_keys)
    owner = await make_user(ctx)
    channel = await make_channel(ctx, None, owner.id)
    now = ctx.clock.now()
    expired = await post_many(ctx, channel, owner.id, 50, expires_at=now - timedelta(minutes=1))
    async with pool.acquire() as first, pool.acquire() as second:
        async with first.transaction():
            mine = await retention_repo.delete_expired_messages(first, now, limit=30)
            async with second.transaction():
                theirs = await asyncio.wait_for(
                    retention_repo.delete_expired_messages(second, now, limit=50), timeout=5
                )
        again = await retention_repo.delete_expired_messages(second, now, limit=50)
    assert (len(mine), len(theirs), again) == (30, 20, [])
    assert sorted(r.id for r in mine + theirs) == expired
    assert {r.channel_id for r in mine + theirs} == {channel}


# -- schema guard ----------------------------------------------------------------------------


async def test_every_reference_to_messages_has_a_delete_rule(ctx: Ctx) -> None:
    """Hard deletes rely on these rules (see repositories/message_retention.py). A new foreign
    key to messages must be added here once the jobs' handling of it has been decided."""
    async with ctx.db.connection() as conn:
        rows = await conn.fetch(
            """
            SELECT c.relname, a.attname, con.confdeltype::text AS rule
              FROM pg_constraint con
              JOIN pg_class c ON c.oid = con.conrelid
              JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = ANY(con.conkey)
             WHERE con.contype = 'f' AND con.confrelid = 'messages'::regclass
            """
        )
    assert {(r["relname"], r["attname"]): r["rule"] for r in rows} == {
        ("reactions", "message_id"): "c",
        ("pinned_messages", "message_id"): "c",
        ("bookmarks", "message_id"): "c",
        ("message_edits", "message_id"): "c",
        ("messages", "reply_to_id"): "n",
        ("messages", "thread_id"): "n",
        ("read_cursors", "last_read_message_id"): "n",
    }
