"""Releasing pool connections without asyncpg's session reset, and what keeps that safe: open
transactions are rolled back on release, and the migration runner's session lock never
outlives its run."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from chatalot.config import PoolSettings
from chatalot.db.database import Database
from chatalot.db.migrate import MigrationFailed, discover, lock_key, run_migrations
from chatalot.db.pool import open_pool
from tests.support.pg import MIGRATIONS_DIR, PgServer

ONE_CONNECTION = PoolSettings(min_connections=1, max_connections=1)


@pytest.fixture
async def pool(pg: PgServer, fresh_db: str) -> AsyncIterator[Any]:
    """A pool of exactly one connection: every acquire gets the same session back."""
    pool = await open_pool(pg.url(fresh_db), ONE_CONNECTION)
    yield pool
    await pool.close()


@pytest.fixture
async def observer(pg: PgServer, fresh_db: str) -> AsyncIterator[Any]:
    """A separate connection that looks at the pool's session from outside."""
    conn = await asyncpg.connect(pg.url(fresh_db).dsn)
    yield conn
    await conn.close()


async def last_statement(observer: Any, pid: int) -> str:
    return str(await observer.fetchval("SELECT query FROM pg_stat_activity WHERE pid = $1", pid))


async def advisory_locks(observer: Any, pid: int) -> int:
    return int(
        await observer.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = $1", pid
        )
    )


async def test_release_sends_no_reset_statement(pool: Any, observer: Any) -> None:
    """Giving a connection back costs no round trip: the session's last statement is still
    the caller's own, not asyncpg's default RESET ALL / UNLISTEN / CLOSE ALL batch."""
    async with pool.acquire() as conn:
        pid = conn.get_server_pid()
        await conn.fetchval("SELECT 'the caller''s statement'")
    assert await last_statement(observer, pid) == "SELECT 'the caller''s statement'"
    async with pool.acquire() as conn:
        assert conn.get_server_pid() == pid  # the same session came back, unreset


async def test_cancelled_transaction_is_rolled_back_on_release(pool: Any, observer: Any) -> None:
    """A request cancelled in the middle of a transaction (a statement running, locks held,
    SET LOCAL in force) gives its connection back clean: nothing committed, no transaction
    open, no lock or setting left for the next request."""
    db = Database(pool, acquire_timeout=5)
    inside = asyncio.Event()
    pids: list[int] = []

    async def request() -> None:
        async with db.transaction("cancelled_request") as tx:
            pids.append(tx.conn.get_server_pid())
            await tx.conn.execute("SELECT pg_advisory_xact_lock(4242)")
            await tx.conn.execute("SET LOCAL statement_timeout = '4321ms'")
            await tx.conn.execute(
                "INSERT INTO instance_settings (key, value) VALUES ('leak_probe', 'x')"
            )
            inside.set()
            await tx.conn.execute("SELECT pg_sleep(30)")

    task = asyncio.create_task(request())
    await asyncio.wait_for(inside.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with pool.acquire() as conn:
        assert conn.get_server_pid() == pids[0]
        assert not conn.is_in_transaction()
        assert await conn.fetchval("SHOW statement_timeout") == "0"
        assert (
            await conn.fetchval("SELECT count(*) FROM instance_settings WHERE key = 'leak_probe'")
            == 0
        )
    assert await advisory_locks(observer, pids[0]) == 0


async def test_transaction_left_open_is_rolled_back_on_release(pool: Any) -> None:
    """A connection released while idle inside a transaction (an unmanaged BEGIN) comes back
    outside any transaction, with the uncommitted row gone."""
    async with pool.acquire() as conn:
        await conn.execute("BEGIN")
        await conn.execute("INSERT INTO instance_settings (key, value) VALUES ('open_tx', 'x')")
    async with pool.acquire() as conn:
        assert not conn.is_in_transaction()
        count = await conn.fetchval("SELECT count(*) FROM instance_settings WHERE key = 'open_tx'")
        assert count == 0


async def test_migration_lock_released_after_a_run(pg: PgServer, fresh_db: str) -> None:
    """After run_migrations on a pool connection, that session holds no advisory lock."""
    pool = await open_pool(pg.url(fresh_db), ONE_CONNECTION)
    observer = await asyncpg.connect(pg.url(fresh_db).dsn)
    try:
        async with pool.acquire() as conn:
            pid = conn.get_server_pid()
            report = await run_migrations(conn, discover(MIGRATIONS_DIR))
        assert report.applied == ()
        assert await advisory_locks(observer, pid) == 0
    finally:
        await observer.close()
        await pool.close()


async def wait_until_lock_is_free(observer: Any, key: int) -> bool:
    """Whether another session can take the lock within 10 s (a terminated backend needs a
    moment to exit)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if await observer.fetchval("SELECT pg_try_advisory_lock($1)", key):
            await observer.execute("SELECT pg_advisory_unlock($1)", key)
            return True
        await asyncio.sleep(0.05)
    return False


async def test_migration_lock_never_outlives_a_failed_run(
    pg: PgServer, empty_db: str, tmp_path: Path
) -> None:
    """A migration that fails with its session stuck in an aborted transaction (an explicit
    BEGIN in a no-transaction file) cannot be unlocked normally: the runner ends the session
    rather than give a locked connection back to a pool that does not reset, and reports the
    migration's own error."""
    (tmp_path / "001_broken.sql").write_text("-- no-transaction\nBEGIN;\nSELECT 1 / 0;\n")
    pool = await open_pool(pg.url(empty_db), ONE_CONNECTION)
    observer = await asyncpg.connect(pg.url(empty_db).dsn)
    try:
        async with pool.acquire() as conn:
            with pytest.raises(MigrationFailed, match=r"001_broken\.sql failed"):
                await run_migrations(conn, discover(tmp_path))
        assert await wait_until_lock_is_free(observer, lock_key(empty_db))
        async with pool.acquire() as conn:  # the pool replaced the ended session
            assert await conn.fetchval("SELECT 1") == 1
    finally:
        await observer.close()
        await pool.close()


async def test_cancelled_migration_run_leaves_no_lock(pg: PgServer, fresh_db: str) -> None:
    """A run cancelled while it waits for the lock (another node migrating) leaves its pool
    session without the lock once the other node is done."""
    key = lock_key(fresh_db)
    pool = await open_pool(pg.url(fresh_db), ONE_CONNECTION)
    other = await asyncpg.connect(pg.url(fresh_db).dsn)
    observer = await asyncpg.connect(pg.url(fresh_db).dsn)
    try:
        await other.execute("SELECT pg_advisory_lock($1)", key)
        pids: list[int] = []

        async def migrate() -> None:
            async with pool.acquire() as conn:
                pids.append(conn.get_server_pid())
                await run_migrations(conn, discover(MIGRATIONS_DIR))

        task = asyncio.create_task(migrate())
        deadline = time.monotonic() + 10
        # The run polls the lock (db/migrate.py _lock): wait until it has tried at least once.
        while not pids or not await observer.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE pid = $1 AND query LIKE '%pg_try_advisory_lock%'",
            pids[0],
        ):
            assert time.monotonic() < deadline, "the run never waited for the lock"
            await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await other.execute("SELECT pg_advisory_unlock($1)", key)
        assert await wait_until_lock_is_free(observer, key)
        async with pool.acquire() as conn:
            if conn.get_server_pid() == pids[0]:
                assert await advisory_locks(observer, pids[0]) == 0
    finally:
        await other.close()
        await observer.close()
        await pool.close()
