"""The migrated schema: a checked-in snapshot shows any drift, and the rules the original broke
(NOT NULL with SET NULL, undeletable messages, unindexed foreign keys) are checked in the catalog."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import asyncpg
import pytest

from tests.support.pg import PgServer
from tests.support.schema import dump_schema

SNAPSHOT = Path(__file__).with_name("schema.snapshot")


@pytest.fixture
async def conn(pg: PgServer, fresh_db: str):
    connection = await asyncpg.connect(pg.url(fresh_db).dsn)
    yield connection
    await connection.close()


async def test_schema_matches_snapshot(conn: asyncpg.Connection) -> None:
    """The schema after all migrations equals tests/migrations/schema.snapshot
    (regenerate with CHATALOT_UPDATE_SNAPSHOT=1 after adding a migration, and review the diff)."""
    dump = await dump_schema(conn)
    if os.environ.get("CHATALOT_UPDATE_SNAPSHOT") == "1":
        SNAPSHOT.write_text(dump)
    assert dump == SNAPSHOT.read_text()


async def test_table_set(conn: asyncpg.Connection) -> None:
    """The 42 tables of the original up to migration 039, plus sqlx's bookkeeping table."""
    tables = {
        r["tablename"]
        for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    }
    assert len(tables) >= 43
    for name in ("users", "messages", "communities", "message_edits", "_sqlx_migrations"):
        assert name in tables


async def test_no_not_null_column_has_set_null_fk(conn: asyncpg.Connection) -> None:
    """No foreign key is ON DELETE SET NULL on a NOT NULL column (deleting would fail)."""
    rows = await conn.fetch(
        """
        SELECT c.relname, a.attname
          FROM pg_constraint con
          JOIN pg_class c ON c.oid = con.conrelid
          JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = ANY(con.conkey)
         WHERE con.contype = 'f' AND con.confdeltype = 'n' AND a.attnotnull
        """
    )
    assert [tuple(r) for r in rows] == []


async def test_every_foreign_key_column_leads_an_index(conn: asyncpg.Connection) -> None:
    """Every FK column is the first column of some index (cascades and lookups stay indexed)."""
    rows = await conn.fetch(
        """
        SELECT c.relname, a.attname
          FROM pg_constraint con
          JOIN pg_class c ON c.oid = con.conrelid
          JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
         WHERE con.contype = 'f'
           AND NOT EXISTS (
                SELECT 1 FROM pg_index i
                 WHERE i.indrelid = con.conrelid AND i.indkey[0] = con.conkey[1]
                   AND (i.indpred IS NULL
                        OR pg_get_expr(i.indpred, i.indrelid) = '(' || a.attname || ' IS NOT NULL)'))
        """
    )
    assert [tuple(r) for r in rows] == []


async def test_replies_and_thread_roots_do_not_block_deletion(conn: asyncpg.Connection) -> None:
    """Hard-deleting a message that has replies and thread replies works; the links go NULL."""
    user, channel = uuid.uuid4(), uuid.uuid4()
    root, reply, in_thread = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await conn.execute(
        "INSERT INTO users (id, username, display_name, email, password_hash)"
        " VALUES ($1, 'alice', 'Alice', 'alice@example.com', 'x')",
        user,
    )
    await conn.execute(
        "INSERT INTO channels (id, name, channel_type, created_by) VALUES ($1, 'general', 'text', $2)",
        channel,
        user,
    )
    insert = (
        "INSERT INTO messages (id, channel_id, sender_id, ciphertext, nonce, reply_to_id, thread_id)"
        " VALUES ($1, $2, $3, '\\x01', '\\x02', $4, $5)"
    )
    await conn.execute(insert, root, channel, user, None, None)
    await conn.execute(insert, reply, channel, user, root, None)
    await conn.execute(insert, in_thread, channel, user, None, root)
    await conn.execute("DELETE FROM messages WHERE id = $1", root)
    rows = await conn.fetch("SELECT id, reply_to_id, thread_id FROM messages")
    assert {r["id"]: (r["reply_to_id"], r["thread_id"]) for r in rows} == {
        reply: (None, None),
        in_thread: (None, None),
    }


async def test_user_referenced_everywhere_can_be_deleted(conn: asyncpg.Connection) -> None:
    """Deleting a user who owns a community and group, pinned a message and created a poll,
    announcement and warning works (the original failed with a not-null violation)."""
    owner, other = uuid.uuid4(), uuid.uuid4()
    for uid, name in ((owner, "owner"), (other, "other")):
        await conn.execute(
            "INSERT INTO users (id, username, display_name, email, password_hash)"
            " VALUES ($1, $2, $2, $3, 'x')",
            uid,
            name,
            f"{name}@example.com",
        )
    community, group, channel, message = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await conn.execute(
        "INSERT INTO communities (id, name, owner_id) VALUES ($1, 'c', $2)", community, owner
    )
    await conn.execute(
        "INSERT INTO groups (id, name, owner_id, community_id) VALUES ($1, 'g', $2, $3)",
        group,
        owner,
        community,
    )
    await conn.execute(
        "INSERT INTO channels (id, name, channel_type, group_id) VALUES ($1, 'ch', 'text', $2)",
        channel,
        group,
    )
    await conn.execute(
        "INSERT INTO messages (id, channel_id, sender_id, ciphertext, nonce)"
        " VALUES ($1, $2, $3, '\\x01', '\\x02')",
        message,
        channel,
        other,
    )
    await conn.execute(
        "INSERT INTO pinned_messages (message_id, channel_id, pinned_by) VALUES ($1, $2, $3)",
        message,
        channel,
        owner,
    )
    await conn.execute(
        "INSERT INTO polls (id, channel_id, created_by, question, options)"
        " VALUES ($1, $2, $3, 'q?', '[\"a\",\"b\"]')",
        uuid.uuid4(),
        channel,
        owner,
    )
    await conn.execute(
        "INSERT INTO announcements (id, title, body, created_by) VALUES ($1, 't', 'b', $2)",
        uuid.uuid4(),
        owner,
    )
    await conn.execute(
        "INSERT INTO warnings (id, user_id, channel_id, issued_by, reason)"
        " VALUES ($1, $2, $3, $4, 'spam')",
        uuid.uuid4(),
        other,
        channel,
        owner,
    )
    await conn.execute("DELETE FROM users WHERE id = $1", owner)
    assert await conn.fetchval("SELECT owner_id FROM communities WHERE id = $1", community) is None
    assert await conn.fetchval("SELECT pinned_by FROM pinned_messages") is None
    assert await conn.fetchval("SELECT count(*) FROM warnings") == 1


async def test_case_variants_of_a_username_are_one_name(conn: asyncpg.Connection) -> None:
    """'Alice' and 'alice' cannot both exist (unique lower(username))."""
    insert = (
        "INSERT INTO users (id, username, display_name, email, password_hash)"
        " VALUES ($1, $2, $2, $3, 'x')"
    )
    await conn.execute(insert, uuid.uuid4(), "Alice", "a1@example.com")
    with pytest.raises(asyncpg.UniqueViolationError):
        await conn.execute(insert, uuid.uuid4(), "alice", "a2@example.com")


async def test_one_active_voice_session_per_channel(conn: asyncpg.Connection) -> None:
    """A second concurrent call in the same channel is refused by a unique partial index."""
    channel = uuid.uuid4()
    await conn.execute(
        "INSERT INTO channels (id, name, channel_type) VALUES ($1, 'v', 'voice')", channel
    )
    insert = "INSERT INTO voice_sessions (id, channel_id) VALUES ($1, $2)"
    await conn.execute(insert, uuid.uuid4(), channel)
    with pytest.raises(asyncpg.UniqueViolationError):
        await conn.execute(insert, uuid.uuid4(), channel)
