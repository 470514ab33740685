"""Transactions and the outbox: events reach the sink only after a commit."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

import asyncpg
import pytest

from chatalot.config import PoolSettings
from chatalot.db.database import Database, _has_free_connection
from chatalot.db.pool import open_pool
from chatalot.errors import ServiceUnavailable
from tests.conftest import RecordingSink
from tests.support.pg import PgServer

INSERT_USER = (
    "INSERT INTO users (id, username, display_name, email, password_hash)"
    " VALUES ($1, $2::text, $2::text, $2::text || '@example.com', 'x')"
)


async def count_users(db: Database, name: str) -> int:
    async with db.connection() as conn:
        return int(
            await conn.fetchval("SELECT count(*) FROM users WHERE username = $1::text", name)
        )


async def test_events_published_after_commit(db_conn: Any, sink: RecordingSink) -> None:
    """Nothing is published while the transaction is open; everything after it commits."""
    db = Database.single_connection(db_conn, sink=sink)
    async with db.transaction("make_user") as tx:
        await tx.conn.execute(INSERT_USER, uuid.uuid4(), "eve")
        tx.emit("user_created", to="everyone")
        assert sink.published == []
    assert [(e.event, e.audience) for e in sink.published] == [("user_created", "everyone")]
    assert await count_users(db, "eve") == 1


async def test_rollback_publishes_nothing(db_conn: Any, sink: RecordingSink) -> None:
    """A failing unit of work writes nothing and publishes nothing."""
    db = Database.single_connection(db_conn, sink=sink)
    with pytest.raises(RuntimeError):
        async with db.transaction("make_user") as tx:
            await tx.conn.execute(INSERT_USER, uuid.uuid4(), "mallory")
            tx.emit("user_created", to="everyone")
            raise RuntimeError("boom")
    assert sink.published == []
    assert await count_users(db, "mallory") == 0


async def test_nested_transaction_joins_the_outer(db_conn: Any, sink: RecordingSink) -> None:
    """An inner transaction is a savepoint: its failure undoes only its part, and its events
    are published once, when the outer one commits."""
    db = Database.single_connection(db_conn, sink=sink)
    async with db.transaction("outer") as outer:
        await outer.conn.execute(INSERT_USER, uuid.uuid4(), "kept")
        with pytest.raises(RuntimeError):
            async with db.transaction("inner") as inner:
                await inner.conn.execute(INSERT_USER, uuid.uuid4(), "undone")
                raise RuntimeError("inner fails")
        async with db.transaction("inner2") as inner2:
            inner2.emit("from_inner", to="x")
        assert sink.published == []
    assert [e.event for e in sink.published] == ["from_inner"]
    assert await count_users(db, "kept") == 1
    assert await count_users(db, "undone") == 0


async def test_acquire_timeout_is_service_unavailable(
    pg: PgServer, fresh_db: str, caplog: pytest.LogCaptureFixture
) -> None:
    """With every connection busy, a request waits the acquire timeout, then gets 503's error,
    and the event is counted and logged."""
    pool = await open_pool(pg.url(fresh_db), PoolSettings(max_connections=1, min_connections=1))
    db = Database(pool, acquire_timeout=0.3)
    try:
        held = await pool.acquire()
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="chatalot_server.db"):
            with pytest.raises(ServiceUnavailable):
                async with db.connection():
                    pass
        assert 0.25 <= time.monotonic() - started < 2
        assert db.acquire_timeouts == 1
        assert "Database pool exhausted" in caplog.text
        await pool.release(held)
        async with db.connection() as conn:  # usable again once a connection is free
            assert await conn.fetchval("SELECT 1") == 1
    finally:
        await asyncio.wait_for(pool.close(), 5)


async def test_free_connection_is_recognised(pg: PgServer, fresh_db: str) -> None:
    """A request that finds a free connection skips asyncpg's acquire timers; this reads the
    pool's queue of free slots (asyncpg internals): if a new asyncpg changes it, this fails
    rather than every request silently paying for the timers again."""
    pool = await open_pool(pg.url(fresh_db), PoolSettings(max_connections=2, min_connections=1))
    db = Database(pool, acquire_timeout=0.3)
    try:
        assert _has_free_connection(pool)
        first = await pool.acquire()
        assert _has_free_connection(pool)  # the second slot (not yet connected) is free
        second = await pool.acquire()
        assert not _has_free_connection(pool)
        await pool.release(first)
        assert _has_free_connection(pool)
        async with db.connection() as conn:  # the timer-free path works end to end
            assert await conn.fetchval("SELECT 1") == 1
        await pool.release(second)
    finally:
        await asyncio.wait_for(pool.close(), 5)


async def test_a_connection_lost_on_its_way_back_to_the_pool_does_not_fail_the_work(
    pg: PgServer, fresh_db: str, sink: RecordingSink
) -> None:
    """The work inside the block succeeded (and committed), then the server ended the connection
    while the pool was resetting it for the next user (a restart): asyncpg's release raises. The
    caller's result stands, the events of the committed transaction are still published, and the
    next request gets a good connection. Before, a committed message was answered with a bare
    internal error, and nobody was told about it."""
    killer = await asyncpg.connect(pg.url(fresh_db).dsn)
    lost = 0

    async def reset_during_a_restart(con: Any) -> None:
        nonlocal lost
        if lost < 2:
            lost += 1
            await killer.fetchval("SELECT pg_terminate_backend($1)", con.get_server_pid())
            await con.execute("SELECT 1")  # the server has ended it: this fails

    pool = await asyncpg.create_pool(
        pg.url(fresh_db).dsn, min_size=1, max_size=2, reset=reset_during_a_restart
    )
    db = Database(pool, acquire_timeout=2, sink=sink)
    try:
        async with db.connection() as conn:
            answer = await conn.fetchval("SELECT 41") + 1
        assert answer == 42
        async with db.transaction("make_user") as tx:
            await tx.conn.execute(INSERT_USER, uuid.uuid4(), "carla")
            tx.emit("user_created", to="everyone")
        assert [e.event for e in sink.published] == ["user_created"]
        assert lost == 2
        assert await count_users(db, "carla") == 1
    finally:
        await killer.close()
        await asyncio.wait_for(pool.close(), 5)
