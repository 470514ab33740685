"""Startup connection handling against real servers: clear sentences, retries, pool sizes."""

from __future__ import annotations

import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from chatalot.config import PoolSettings
from chatalot.db.dsn import parse_database_url
from chatalot.db.embedded import EmbeddedOptions, EmbeddedPostgres
from chatalot.db.pool import DatabaseStartupError, open_pool, wait_for_database
from tests.support.pg import PgServer, reachable_temp_dir

PASSWORD = "right-Pa55word"


@pytest.fixture(scope="module")
async def password_pg() -> AsyncIterator[EmbeddedPostgres]:
    """A dedicated cluster where role `pwuser` must authenticate with a password."""
    root = reachable_temp_dir("chatalot-password-pg-")  # tmp_path is unreachable as root
    server = EmbeddedPostgres(root / "pg", EmbeddedOptions(durable=False))
    server.start()
    conn = await asyncpg.connect(server.dsn("postgres"))
    try:
        await conn.execute(f"CREATE ROLE pwuser LOGIN PASSWORD '{PASSWORD}'")
        await conn.execute("CREATE DATABASE pwdb OWNER pwuser")
        hba = server.pgdata / "pg_hba.conf"
        hba.write_text("local all pwuser scram-sha-256\n" + hba.read_text())
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


def socket_url(server: EmbeddedPostgres, user: str, password: str | None, database: str) -> str:
    auth = f"{user}:{password}" if password else user
    return f"postgres://{auth}@/{database}?host={server.socket_dir}"


async def test_right_password_connects(password_pg: EmbeddedPostgres) -> None:
    """Sanity: the password-protected role works with its password."""
    url = parse_database_url(socket_url(password_pg, "pwuser", PASSWORD, "pwdb"))
    await wait_for_database(url, 1)


async def test_wrong_password_is_one_clear_sentence(password_pg: EmbeddedPostgres) -> None:
    """A wrong password fails at once with a sentence naming the user, never the password."""
    url = parse_database_url(socket_url(password_pg, "pwuser", "wrong-secret-123", "pwdb"))
    started = time.monotonic()
    with pytest.raises(DatabaseStartupError) as info:
        await wait_for_database(url, 10)
    message = str(info.value)
    assert time.monotonic() - started < 5, "an authentication failure is not retried"
    assert "rejected the password for user 'pwuser'" in message
    assert "wrong-secret-123" not in message


async def test_unknown_database(pg: PgServer) -> None:
    """An unknown database says how to create it."""
    url = pg.url("no_such_database_here")
    with pytest.raises(DatabaseStartupError) as info:
        await wait_for_database(url, 5)
    assert "database 'no_such_database_here' does not exist" in str(info.value)
    assert "CREATE DATABASE no_such_database_here OWNER" in str(info.value)


async def test_unknown_role(pg: PgServer, worker_db: str) -> None:
    """An unknown user is named, with the statement that creates it."""
    url = parse_database_url(pg.dsn_as(worker_db, "ghost_user_x"))
    with pytest.raises(DatabaseStartupError) as info:
        await wait_for_database(url, 5)
    assert "refused user 'ghost_user_x'" in str(info.value)
    assert "CREATE USER ghost_user_x" in str(info.value)


async def test_unreachable_host_is_retried_then_explained() -> None:
    """A refused port is retried with backoff until the deadline, then explained."""
    url = parse_database_url("postgres://chatalot:pw@127.0.0.1:1/chatalot")
    started = time.monotonic()
    with pytest.raises(DatabaseStartupError) as info:
        await wait_for_database(url, 1.0)
    elapsed = time.monotonic() - started
    message = str(info.value)
    assert 0.9 <= elapsed < 5
    assert message.startswith("could not reach PostgreSQL at 127.0.0.1:1 within 1 s")
    assert "attempts" in message and "pw" not in message.split("attempts")[0].replace(
        "PostgreSQL", ""
    )


async def test_missing_socket_directory_is_explained(tmp_path: Path) -> None:
    """A unix-socket host with no server behind it is described as a socket."""
    url = parse_database_url(f"postgres://chatalot@/chatalot?host={tmp_path}")
    with pytest.raises(DatabaseStartupError, match=rf"unix socket in {tmp_path}"):
        await wait_for_database(url, 0.3)


async def test_pool_sizes(pg: PgServer, worker_db: str) -> None:
    """The pool opens with the seed's sizes (50 max, 2 min) and its min connections at once."""
    pool = await open_pool(pg.url(worker_db), PoolSettings())
    try:
        assert pool.get_max_size() == 50
        assert pool.get_min_size() == 2
        assert pool.get_size() >= 2
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT '{\"a\": 1}'::jsonb") == {"a": 1}
    finally:
        await pool.close()
