"""The index_messages job (services/search_index.py): rows stored without search columns (as an
upgrade finds them) are classified newest first and become searchable; several processes
running it at once index each row once; a changed SEARCH_LANGUAGE re-indexes; an unknown one
falls back to ``simple``; an interrupted index build is reported; migrations 046-047 on a table
that already holds messages."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from chatalot.config import PoolSettings, Settings
from chatalot.context import Ctx
from chatalot.db.database import Database
from chatalot.db.migrate import discover, run_migrations
from chatalot.db.pool import open_pool
from chatalot.ids import ChannelId, UserId, uuid7
from chatalot.repositories import message_retention as retention_repo
from chatalot.repositories import search as search_repo
from chatalot.security.passwords import PasswordHasher
from chatalot.security.tokens import JwtKeys
from chatalot.services import search_index
from chatalot.services.actor import Actor
from chatalot.services.search import SearchRequest, search_all
from chatalot.services.search_index import IndexJob, check_search_setup, index_messages
from tests.conftest import RecordingSink, build_ctx, settings_in
from tests.support.auth import make_user
from tests.support.pg import MIGRATIONS_DIR, PgServer
from tests.support.spaces import make_channel

WIRE = json.dumps(
    {"v": 1, "sk": True, "message": {"chain_id": 1, "iteration": 0, "ciphertext": [1, 2]}}
).encode()


async def insert_old(
    ctx: Ctx, channel: ChannelId, sender: UserId, contents: list[bytes], *, start: datetime
) -> list[uuid.UUID]:
    """Messages as a server without search stored them (no search columns), one a minute
    from ``start``; returns their ids, oldest first."""
    ids = [uuid7() for _ in contents]
    times = [start + timedelta(minutes=n) for n in range(len(contents))]
    async with ctx.db.transaction("test_insert_old") as tx:
        await tx.conn.execute(
            """
            INSERT INTO messages (id, channel_id, sender_id, ciphertext, nonce, created_at)
            SELECT u.id, $4, $5, u.body, '\\x00', u.at
              FROM unnest($1::uuid[], $2::bytea[], $3::timestamptz[]) AS u (id, body, at)
            """,
            ids,
            contents,
            times,
            channel,
            sender,
        )
    return ids


async def columns(ctx: Ctx, ids: list[uuid.UUID]) -> list[tuple[Any, ...]]:
    """(search_text, search_config, search_tsv) of each message, in the order of ``ids``."""
    async with ctx.db.connection() as conn:
        rows = await conn.fetch(
            "SELECT id, search_text, search_config, search_tsv::text AS tsv FROM messages"
            " WHERE id = ANY($1::uuid[])",
            ids,
        )
    by_id = {r["id"]: (r["search_text"], r["search_config"], r["tsv"]) for r in rows}
    return [by_id[i] for i in ids]


async def test_old_rows_are_classified_and_become_searchable(ctx: Ctx) -> None:
    """Plaintext gets its folded text, the configuration and a tsvector; wire messages and
    binary ciphertext are marked not indexable; the plaintext is then found by search."""
    owner = await make_user(ctx)
    channel = await make_channel(ctx, None, owner.id)
    ids = await insert_old(
        ctx,
        channel,
        owner.id,
        [b"Old News from 2024", WIRE, b"\xff\xfe\x00\x01", "Ärger".encode()],
        start=ctx.clock.now() - timedelta(days=400),
    )
    actor = Actor(user_id=owner.id, username=owner.row.username, is_admin=False, is_owner=False)
    assert await search_all(ctx, actor, SearchRequest("news")) == []
    assert await columns(ctx, ids) == [(None, None, None)] * 4

    report = await index_messages(ctx)

    assert (report.classified, report.indexed, report.reindexed) == (4, 2, 0)
    assert await columns(ctx, ids) == [
        ("old news from 2024", "simple", "'2024':4 'from':3 'news':2 'old':1"),
        (None, "", None),
        (None, "", None),
        ("ärger", "simple", "'ärger':1"),
    ]
    [hit] = await search_all(ctx, actor, SearchRequest("NEWS"))
    assert hit.view.row.id == ids[0]
    assert hit.highlight == "Old <mark>News</mark> from 2024"
    assert await index_messages(ctx) == search_index.IndexReport()  # nothing left


async def test_batches_take_the_newest_first(ctx: Ctx) -> None:
    """The backlog is handed out newest first, a batch at a time, locked rows skipped."""
    owner = await make_user(ctx)
    channel = await make_channel(ctx, None, owner.id)
    ids = await insert_old(
        ctx, channel, owner.id, [b"m%d" % n for n in range(5)], start=ctx.clock.now()
    )
    async with ctx.db.transaction("test_batch") as tx:
        batch = await search_repo.list_unclassified_messages(tx.conn, limit=2)
    assert [r.id for r in batch] == ids[:2:-1][:2] == [ids[4], ids[3]]
    report = await index_messages(ctx, batch_size=2)
    assert report.classified == 5


async def test_a_changed_language_reindexes(
    ctx: Ctx, db_conn: Any, tmp_path: Path, passwords: PasswordHasher, jwt_keys: JwtKeys
) -> None:
    """Rows indexed with 'simple' are indexed again once SEARCH_LANGUAGE is 'english' (stems),
    not-indexable rows are left alone."""
    owner = await make_user(ctx)
    channel = await make_channel(ctx, None, owner.id)
    ids = await insert_old(
        ctx, channel, owner.id, [b"running servers", WIRE], start=ctx.clock.now()
    )
    await index_messages(ctx)
    assert (await columns(ctx, ids))[0][2] == "'running':1 'servers':2"
    english = build_ctx(
        Database.single_connection(db_conn, sink=RecordingSink()),
        settings_in(tmp_path, SEARCH_LANGUAGE="english"),
        passwords,
        jwt_keys,
    )

    report = await index_messages(english, batch_size=1)

    assert (report.classified, report.reindexed) == (0, 1)
    assert await columns(english, ids) == [
        ("running servers", "english", "'run':1 'server':2"),
        (None, "", None),
    ]
    actor = Actor(user_id=owner.id, username=owner.row.username, is_admin=False, is_owner=False)
    [hit] = await search_all(english, actor, SearchRequest("run"))
    assert hit.view.row.id == ids[0]


async def test_unknown_language_falls_back_to_simple(
    db_conn: Any,
    tmp_path: Path,
    passwords: PasswordHasher,
    jwt_keys: JwtKeys,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An unknown SEARCH_LANGUAGE: a warning at startup, and messages indexed with 'simple'."""
    ctx = build_ctx(
        Database.single_connection(db_conn, sink=RecordingSink()),
        settings_in(tmp_path, SEARCH_LANGUAGE="klingon_test"),
        passwords,
        jwt_keys,
    )
    with caplog.at_level(logging.WARNING, logger="chatalot_server"):
        assert await check_search_setup(ctx) == "simple"
    assert any("SEARCH_LANGUAGE=klingon_test" in r.getMessage() for r in caplog.records)
    owner = await make_user(ctx)
    channel = await make_channel(ctx, None, owner.id)
    [message] = await insert_old(ctx, channel, owner.id, [b"qapla"], start=ctx.clock.now())
    await index_messages(ctx)
    assert await columns(ctx, [message]) == [("qapla", "simple", "'qapla':1")]


async def test_an_invalid_index_is_reported(ctx: Ctx, caplog: pytest.LogCaptureFixture) -> None:
    """A search index left INVALID by an interrupted concurrent build is named in an error with
    the statement that repairs it (the job's first run does this check)."""
    async with ctx.db.transaction("test_invalidate") as tx:
        await tx.conn.execute(
            "UPDATE pg_index SET indisvalid = false"
            " WHERE indexrelid = 'idx_messages_search_recent'::regclass"
        )
    with caplog.at_level(logging.ERROR, logger="chatalot_server"):
        await IndexJob(ctx).run()
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "REINDEX INDEX CONCURRENTLY idx_messages_search_recent" in record.getMessage()


async def test_progress_is_logged(ctx: Ctx, caplog: pytest.LogCaptureFixture) -> None:
    """A run with a backlog says how much there is, and when it is done."""
    owner = await make_user(ctx)
    channel = await make_channel(ctx, None, owner.id)
    await insert_old(ctx, channel, owner.id, [b"a", b"b", b"c"], start=ctx.clock.now())
    with caplog.at_level(logging.INFO, logger="chatalot_server"):
        await index_messages(ctx, batch_size=2)
    messages = [r.getMessage() for r in caplog.records]
    assert any("classifying 3 messages" in m for m in messages)
    assert any("done" in m and "3 classified (3 with text to search)" in m for m in messages)


# -- several processes ---------------------------------------------------------------------------


@pytest.fixture
async def pool(pg: PgServer, fresh_db: str) -> AsyncIterator[Any]:
    pool = await open_pool(pg.url(fresh_db), PoolSettings(max_connections=8, min_connections=2))
    yield pool
    await pool.close()


def pooled_ctx(pool: Any, settings: Settings, passwords: PasswordHasher, keys: JwtKeys) -> Ctx:
    return build_ctx(Database(pool, acquire_timeout=10), settings, passwords, keys)


async def test_concurrent_runs_index_each_row_once(
    pool: Any, settings: Settings, passwords: PasswordHasher, jwt_keys: JwtKeys
) -> None:
    """Two processes' runs at once over a backlog: together they classify every row, and no
    row twice (their counts add up to the backlog)."""
    first, second = (pooled_ctx(pool, settings, passwords, jwt_keys) for _ in range(2))
    owner = await make_user(first)
    channel = await make_channel(first, None, owner.id)
    contents = [f"message number {n}".encode() for n in range(57)]
    ids = await insert_old(first, channel, owner.id, contents, start=first.clock.now())
    async with pool.acquire() as conn:  # count every write to the search columns
        await conn.execute(
            """
            CREATE TABLE search_writes (id uuid);
            CREATE FUNCTION count_search_write() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN INSERT INTO search_writes VALUES (NEW.id); RETURN NEW; END $$;
            CREATE TRIGGER count_search_write AFTER UPDATE OF search_text ON messages
                FOR EACH ROW EXECUTE FUNCTION count_search_write();
            """
        )

    reports = await asyncio.gather(
        index_messages(first, batch_size=5), index_messages(second, batch_size=5)
    )

    assert sum(r.classified for r in reports) == 57
    async with pool.acquire() as conn:
        writes = await conn.fetch("SELECT id, count(*) AS n FROM search_writes GROUP BY id")
    assert sorted(r["id"] for r in writes) == sorted(ids)
    assert {r["n"] for r in writes} == {1}
    assert {c[1] for c in await columns(first, ids)} == {"simple"}


async def test_a_run_leaves_the_backlog_to_the_process_holding_the_lock(
    pool: Any, settings: Settings, passwords: PasswordHasher, jwt_keys: JwtKeys
) -> None:
    """While another process works a batch (holds the job's lock), a run does nothing and
    returns at once; the next run does the work."""
    ctx = pooled_ctx(pool, settings, passwords, jwt_keys)
    owner = await make_user(ctx)
    channel = await make_channel(ctx, None, owner.id)
    await insert_old(ctx, channel, owner.id, [b"one", b"two"], start=ctx.clock.now())
    async with pool.acquire() as other, other.transaction():
        assert await retention_repo.try_lock_job(other, "index_messages")
        report = await asyncio.wait_for(index_messages(ctx), timeout=5)
        assert report.classified == 0
    assert (await index_messages(ctx)).classified == 2


async def test_a_locked_row_is_skipped_not_waited_for(
    pool: Any, settings: Settings, passwords: PasswordHasher, jwt_keys: JwtKeys
) -> None:
    """A row another transaction holds (a user editing it) is left for a later batch."""
    ctx = pooled_ctx(pool, settings, passwords, jwt_keys)
    owner = await make_user(ctx)
    channel = await make_channel(ctx, None, owner.id)
    held, free = await insert_old(ctx, channel, owner.id, [b"held", b"free"], start=ctx.clock.now())
    async with pool.acquire() as other, other.transaction():
        await other.execute("SELECT 1 FROM messages WHERE id = $1 FOR UPDATE", held)
        report = await asyncio.wait_for(index_messages(ctx), timeout=5)
        assert report.classified == 1
    assert await columns(ctx, [held, free]) == [
        (None, None, None),
        ("free", "simple", "'free':1"),
    ]
    assert (await index_messages(ctx)).classified == 1


# -- the migrations on a table with messages ---------------------------------------------------


async def test_migrations_on_an_existing_table(pg: PgServer, empty_db: str) -> None:
    """046 and 047 applied to a database that already holds messages: the rows stay as they
    were (unclassified), both indexes are valid, and the job then indexes the rows."""
    migrations = discover(MIGRATIONS_DIR)
    conn = await asyncpg.connect(pg.url(empty_db).dsn)
    try:
        await run_migrations(conn, [m for m in migrations if m.version < 46])
        user, channel = uuid7(), uuid7()
        await conn.execute(
            "INSERT INTO users (id, username, display_name, email, password_hash)"
            " VALUES ($1, 'olduser', 'Old', 'old@example.com', '!')",
            user,
        )
        await conn.execute(
            "INSERT INTO channels (id, name, channel_type, created_by) VALUES ($1, 'c', 'text', $2)",
            channel,
            user,
        )
        await conn.execute(
            "INSERT INTO messages (id, channel_id, sender_id, ciphertext, nonce)"
            " SELECT gen_random_uuid(), $1, $2, convert_to('old message ' || i, 'UTF8'), '\\x00'"
            "   FROM generate_series(1, 300) AS i",
            channel,
            user,
        )
        await run_migrations(conn, migrations)
        states = await conn.fetch(
            "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c"
            " ON c.oid = i.indexrelid WHERE c.relname LIKE 'idx_messages_search%'"
        )
        assert {r["relname"]: r["indisvalid"] for r in states} == {
            "idx_messages_search": True,
            "idx_messages_search_recent": True,
        }
        assert (
            await conn.fetchval("SELECT count(*) FROM messages WHERE search_config IS NULL") == 300
        )
        async with conn.transaction():
            rows = await search_repo.list_unclassified_messages(conn, limit=1000)
            await search_repo.update_search_columns(
                conn, [r.id for r in rows], ["old message"] * len(rows), language="simple"
            )
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM messages WHERE search_tsv @@ 'old & message'::tsquery"
            )
            == 300
        )
    finally:
        await conn.close()
