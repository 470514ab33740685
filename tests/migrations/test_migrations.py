"""The migration runner against a real PostgreSQL: sqlx-exact bookkeeping, refusals, locking."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from pathlib import Path

import asyncpg
import pytest

from chatalot.db.migrate import (
    ChecksumMismatch,
    DirtyMigration,
    MigrationFailed,
    MigrationPrivileges,
    UnknownMigration,
    discover,
    list_applied,
    lock_key,
    parse_filename,
    run_migrations,
    status,
)
from tests.support.pg import MIGRATIONS_DIR, PgServer

# The seed document's table, file by file (names kept from the original).
SEED_FILES = [
    "001_users.sql", "002_identity_keys.sql", "003_refresh_tokens.sql", "004_audit_log.sql",
    "005_prekeys.sql", "006_channels.sql", "007_messages.sql", "008_files.sql",
    "009_dm_pairs.sql", "010_voice_sessions.sql", "011_reactions.sql",
    "012_unread_tracking.sql", "013_channel_bans.sql", "014_groups.sql",
    "015_group_invites.sql", "016_account_deletion_fks.sql", "017_admin_role.sql",
    "018_registration_invites.sql", "019_communities.sql", "020_user_preferences.sql",
    "021_pinned_messages.sql", "022_sender_key_distributions.sql", "023_instance_owner.sql",
    "024_permissions_enhancements.sql", "025_performance_indexes.sql",
    "026_security_suite.sql", "027_lockout_and_quota.sql", "028_blocking_and_reports.sql",
    "029_new_features.sql", "030_discoverable.sql", "031_group_discoverable.sql",
    "032_personal_groups.sql", "033_channel_archiving.sql", "034_customization.sql",
    "035_more_indexes.sql", "036_community_members_index.sql", "037_recovery_codes.sql",
    "038_message_edits.sql", "039_threads.sql",
]  # fmt: skip


async def connect(pg: PgServer, database: str) -> asyncpg.Connection:
    return await asyncpg.connect(pg.url(database).dsn)


def copy_migrations(tmp_path: Path) -> Path:
    target = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, target)
    return target


def test_files_follow_the_seed_table() -> None:
    """migrations/ starts with exactly the seed's 39 files, numbered contiguously from 1."""
    names = [m.filename for m in discover(MIGRATIONS_DIR)]
    assert names[:39] == SEED_FILES
    assert [m.version for m in discover(MIGRATIONS_DIR)] == list(range(1, len(names) + 1))


def test_files_are_plain_utf8_lf() -> None:
    """Files are UTF-8 with LF endings and no BOM, so the checksum is stable across machines."""
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        data = path.read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf"), path.name
        assert b"\r" not in data, path.name
        data.decode("utf-8")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("001_users.sql", (1, "users")),
        ("016_account_deletion_fks.sql", (16, "account deletion fks")),
        ("049_e2e_feature_flag.sql", (49, "e2e feature flag")),
        ("2_add_thing.up.sql", (2, "add thing")),
        ("2_add_thing.down.sql", None),
        ("README.md", None),
        ("nounderscore.sql", None),
    ],
)
def test_parse_filename_like_sqlx(name: str, expected: tuple[int, str] | None) -> None:
    """Version and description are derived from the file name exactly as sqlx does."""
    assert parse_filename(name) == expected


def test_advisory_lock_key_matches_sqlx() -> None:
    """The lock key is sqlx's (0x3d32ad9e x CRC32 of the database name)."""
    assert lock_key("chatalot") == 1029201667983595304
    assert lock_key("postgres") == 368907709894077238


async def test_apply_to_empty_database_records_like_sqlx(pg: PgServer, empty_db: str) -> None:
    """Every file is applied once and recorded with sqlx's version, description, SHA-384 and timing."""
    migrations = discover(MIGRATIONS_DIR)
    conn = await connect(pg, empty_db)
    try:
        report = await run_migrations(conn, migrations)
        rows = await conn.fetch(
            "SELECT version, description, installed_on, success, checksum, execution_time"
            " FROM _sqlx_migrations ORDER BY version"
        )
        columns = await conn.fetch(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
            " WHERE table_name = '_sqlx_migrations' ORDER BY ordinal_position"
        )
    finally:
        await conn.close()
    assert [m.version for m in report.applied] == [m.version for m in migrations]
    assert [r["version"] for r in rows] == [m.version for m in migrations]
    for row, migration in zip(rows, migrations, strict=True):
        assert row["description"] == parse_filename(migration.filename)[1]  # type: ignore[index]
        assert bytes(row["checksum"]) == hashlib.sha384(migration.path.read_bytes()).digest()
        assert len(row["checksum"]) == 48
        assert row["success"] is True
        assert row["execution_time"] > 0
    assert rows[0]["description"] == "users"
    assert rows[15]["description"] == "account deletion fks"
    assert [(c["column_name"], c["data_type"], c["is_nullable"]) for c in columns] == [
        ("version", "bigint", "NO"),
        ("description", "text", "NO"),
        ("installed_on", "timestamp with time zone", "NO"),
        ("success", "boolean", "NO"),
        ("checksum", "bytea", "NO"),
        ("execution_time", "bigint", "NO"),
    ]


async def test_rerun_is_a_noop(pg: PgServer, fresh_db: str) -> None:
    """Running again on an up-to-date database applies nothing and changes no row."""
    conn = await connect(pg, fresh_db)
    try:
        before = await conn.fetch("SELECT * FROM _sqlx_migrations ORDER BY version")
        report = await run_migrations(conn, discover(MIGRATIONS_DIR))
        after = await conn.fetch("SELECT * FROM _sqlx_migrations ORDER BY version")
    finally:
        await conn.close()
    assert report.applied == ()
    assert report.already_applied == len(SEED_FILES) or report.already_applied >= 39
    assert [dict(r) for r in before] == [dict(r) for r in after]


async def test_tampered_file_is_refused(pg: PgServer, fresh_db: str, tmp_path: Path) -> None:
    """Editing an applied file (even a comment) stops the run with the file's name."""
    directory = copy_migrations(tmp_path)
    target = directory / "007_messages.sql"
    target.write_bytes(target.read_bytes() + b"-- edited\n")
    conn = await connect(pg, fresh_db)
    try:
        with pytest.raises(ChecksumMismatch, match=r"007_messages\.sql"):
            await run_migrations(conn, discover(directory))
    finally:
        await conn.close()


async def test_failed_migration_rolls_back(pg: PgServer, fresh_db: str, tmp_path: Path) -> None:
    """A failing file leaves neither its schema changes nor a bookkeeping row, and names itself."""
    directory = copy_migrations(tmp_path)
    (directory / "900_broken_thing.sql").write_text(
        "CREATE TABLE half_written (id INT);\nINSERT INTO no_such_table VALUES (1);\n"
    )
    conn = await connect(pg, fresh_db)
    try:
        with pytest.raises(MigrationFailed, match=r"900_broken_thing\.sql.*no_such_table"):
            await run_migrations(conn, discover(directory))
        assert await conn.fetchval("SELECT to_regclass('half_written')") is None
        assert await conn.fetchval("SELECT count(*) FROM _sqlx_migrations WHERE version = 900") == 0
        # the lock was released: another session can take it immediately
        other = await connect(pg, fresh_db)
        try:
            key = lock_key(fresh_db)
            assert await other.fetchval("SELECT pg_try_advisory_lock($1)", key) is True
        finally:
            await other.close()
    finally:
        await conn.close()


async def test_dirty_row_is_refused(pg: PgServer, fresh_db: str) -> None:
    """A migration recorded as failed stops the run (sqlx's Dirty)."""
    conn = await connect(pg, fresh_db)
    try:
        await conn.execute("UPDATE _sqlx_migrations SET success = FALSE WHERE version = 3")
        with pytest.raises(DirtyMigration, match=r"migration 3 "):
            await run_migrations(conn, discover(MIGRATIONS_DIR))
    finally:
        await conn.close()


async def test_newer_database_is_refused(pg: PgServer, fresh_db: str) -> None:
    """A version in the database that the code does not know stops the run."""
    conn = await connect(pg, fresh_db)
    try:
        await conn.execute(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)"
            " VALUES (999, 'from the future', TRUE, '\\x00', 1)"
        )
        with pytest.raises(UnknownMigration, match="999"):
            await run_migrations(conn, discover(MIGRATIONS_DIR))
    finally:
        await conn.close()


async def test_concurrent_runners_apply_each_file_once(pg: PgServer, empty_db: str) -> None:
    """Two processes starting at once: one applies, the other waits on the lock and then finds
    nothing to do; no file is applied twice."""
    migrations = discover(MIGRATIONS_DIR)
    first, second = await connect(pg, empty_db), await connect(pg, empty_db)
    try:
        reports = await asyncio.gather(
            run_migrations(first, migrations), run_migrations(second, migrations)
        )
        count = await first.fetchval("SELECT count(*) FROM _sqlx_migrations")
    finally:
        await first.close()
        await second.close()
    applied = sorted(len(r.applied) for r in reports)
    assert applied == [0, len(migrations)]
    assert count == len(migrations)


async def test_status_reports_pending_installed_and_mismatch(
    pg: PgServer, empty_db: str, tmp_path: Path
) -> None:
    """`migrate info` data: pending before, installed after, mismatch when a file changes."""
    directory = copy_migrations(tmp_path)
    conn = await connect(pg, empty_db)
    try:
        before = status(discover(directory), await list_applied(conn))
        await run_migrations(conn, discover(directory))
        (directory / "002_identity_keys.sql").write_text("-- changed\n")
        after = status(discover(directory), await list_applied(conn))
    finally:
        await conn.close()
    assert {r.state for r in before} == {"pending"}
    states = {r.version: r.state for r in after}
    assert states[2] == "checksum mismatch"
    assert states[1] == "installed"


async def test_missing_privileges_are_named(pg: PgServer, empty_db: str) -> None:
    """A role that may not create tables gets MigrationPrivileges, not a raw SQL error."""
    admin = await connect(pg, empty_db)
    role = f"nopriv_{empty_db[-8:]}"
    try:
        await admin.execute(f'CREATE ROLE "{role}" LOGIN')
        await admin.execute(f'REVOKE CREATE ON SCHEMA public FROM PUBLIC, "{role}"')
        conn = await asyncpg.connect(pg.dsn_as(empty_db, role))
        try:
            with pytest.raises(MigrationPrivileges):
                await run_migrations(conn, discover(MIGRATIONS_DIR))
        finally:
            await conn.close()
    finally:
        await admin.execute(f'DROP OWNED BY "{role}"')
        await admin.close()
        cleanup = await asyncpg.connect(pg.admin.dsn)
        try:
            await cleanup.execute(f'DROP ROLE IF EXISTS "{role}"')
        finally:
            await cleanup.close()
