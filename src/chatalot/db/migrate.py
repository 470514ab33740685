"""The migration runner, bookkeeping-compatible with sqlx 0.8.

Files ``migrations/NNN_some_topic.sql`` are applied in version order, each in its own
transaction together with its row in ``_sqlx_migrations`` (version, description = the name's
words, installed_on, success, checksum = SHA-384 of the file bytes, execution_time in
nanoseconds, first written as -1). The whole run holds sqlx's advisory lock
(0x3d32ad9e x CRC32(database name)), so several server processes starting at once apply each
file exactly once, and the ``sqlx`` CLI can read and extend the same table. The lock is
session-level and released explicitly at the end of the run, whatever happens (the pool does
not reset sessions on release).

Refuses to go on when an applied file changed (checksum), a row is marked failed, or the
database holds a version this code does not have.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

SQLX_LOCK_FACTOR = 0x3D32AD9E
LOCK_POLL_SECS = 0.1  # how often a runner waiting for another one tries the lock again
_NO_TX_PREFIX = "-- no-transaction"
_SUFFIXES = (".up.sql", ".down.sql", ".sql")

_CREATE_BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),
    success BOOLEAN NOT NULL,
    checksum BYTEA NOT NULL,
    execution_time BIGINT NOT NULL
);
"""


class MigrationError(RuntimeError):
    """Migrations cannot be applied; the message names the file or version and what to do."""


class ChecksumMismatch(MigrationError):
    pass


class DirtyMigration(MigrationError):
    pass


class UnknownMigration(MigrationError):
    pass


class MigrationFailed(MigrationError):
    pass


class MigrationPrivileges(MigrationError):
    pass


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    path: Path
    sql: str
    checksum: bytes
    no_transaction: bool

    @property
    def filename(self) -> str:
        return self.path.name


@dataclass(frozen=True, slots=True)
class AppliedMigration:
    version: int
    description: str
    checksum: bytes
    success: bool
    execution_time: int


@dataclass(frozen=True, slots=True)
class MigrationStatus:
    version: int
    description: str
    state: str  # "installed" | "pending" | "checksum mismatch" | "failed" | "missing locally"
    local_checksum: bytes | None
    applied_checksum: bytes | None


@dataclass(frozen=True, slots=True)
class MigrationReport:
    applied: tuple[Migration, ...]
    already_applied: int


def lock_key(database_name: str) -> int:
    """sqlx's advisory-lock key for a database (a signed 64-bit integer)."""
    return SQLX_LOCK_FACTOR * zlib.crc32(database_name.encode("utf-8"))


def parse_filename(name: str) -> tuple[int, str] | None:
    """(version, description) as sqlx derives them, or None for files sqlx ignores."""
    if "_" not in name or not name.endswith(".sql") or name.endswith(".down.sql"):
        return None
    raw_version, rest = name.split("_", 1)
    if not raw_version.isdigit():
        raise MigrationError(
            f"migration file name {name!r} must start with a number, e.g. 040_x.sql"
        )
    for suffix in _SUFFIXES:
        if rest.endswith(suffix):
            rest = rest[: -len(suffix)]
            break
    return int(raw_version), rest.replace("_", " ")


def discover(directory: Path) -> list[Migration]:
    """Every migration in ``directory``, sorted by version."""
    if not directory.is_dir():
        raise MigrationError(
            f"migrations directory {directory} does not exist (set CHATALOT_MIGRATIONS_DIR)"
        )
    found: dict[int, Migration] = {}
    for path in sorted(directory.iterdir()):
        parsed = parse_filename(path.name) if path.is_file() else None
        if parsed is None:
            continue
        version, description = parsed
        data = path.read_bytes()
        try:
            sql = data.decode("utf-8")
        except UnicodeDecodeError:
            raise MigrationError(f"migration {path.name} is not valid UTF-8") from None
        if version in found:
            raise MigrationError(
                f"migrations {found[version].filename} and {path.name} share version {version}"
            )
        found[version] = Migration(
            version=version,
            description=description,
            path=path,
            sql=sql,
            checksum=hashlib.sha384(data).digest(),
            no_transaction=sql.startswith(_NO_TX_PREFIX),
        )
    return [found[v] for v in sorted(found)]


async def list_applied(conn: Any) -> list[AppliedMigration]:
    exists = await conn.fetchval("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
    if not exists:
        return []
    rows = await conn.fetch(
        "SELECT version, description, checksum, success, execution_time"
        " FROM _sqlx_migrations ORDER BY version"
    )
    return [
        AppliedMigration(
            version=r["version"],
            description=r["description"],
            checksum=bytes(r["checksum"]),
            success=r["success"],
            execution_time=r["execution_time"],
        )
        for r in rows
    ]


def status(migrations: list[Migration], applied: list[AppliedMigration]) -> list[MigrationStatus]:
    """Every version known locally or in the database, with its state (for `migrate info`)."""
    local = {m.version: m for m in migrations}
    remote = {a.version: a for a in applied}
    rows = []
    for version in sorted(local.keys() | remote.keys()):
        m, a = local.get(version), remote.get(version)
        if a is None:
            state = "pending"
        elif m is None:
            state = "missing locally"
        elif not a.success:
            state = "failed"
        elif a.checksum != m.checksum:
            state = "checksum mismatch"
        else:
            state = "installed"
        rows.append(
            MigrationStatus(
                version=version,
                description=(m.description if m else a.description if a else ""),
                state=state,
                local_checksum=m.checksum if m else None,
                applied_checksum=a.checksum if a else None,
            )
        )
    return rows


async def run_migrations(conn: Any, migrations: list[Migration]) -> MigrationReport:
    """Apply every pending migration under sqlx's advisory lock. Raises MigrationError."""
    database = await conn.fetchval("SELECT current_database()")
    key = lock_key(database)
    try:
        await _lock(conn, key)
        try:
            await conn.execute(_CREATE_BOOKKEEPING)
        except asyncpg.InsufficientPrivilegeError:
            raise MigrationPrivileges(
                "cannot create the _sqlx_migrations table: insufficient privilege"
            ) from None
        applied = await list_applied(conn)
        _check_applied(migrations, applied)
        done = {a.version for a in applied}
        newly: list[Migration] = []
        for migration in migrations:
            if migration.version in done:
                continue
            await _apply_one(conn, migration)
            newly.append(migration)
        return MigrationReport(applied=tuple(newly), already_applied=len(done))
    finally:
        await _unlock(conn, key)


async def _lock(conn: Any, key: int) -> None:
    """Take the advisory lock, polling with ``pg_try_advisory_lock`` instead of waiting in
    ``pg_advisory_lock``: a session blocked in a statement holds a snapshot, and CREATE INDEX
    CONCURRENTLY (a ``-- no-transaction`` migration run by the process that has the lock) waits
    for every older snapshot to go away: the two would deadlock. Between tries this session is
    idle and holds none."""
    # Polling PostgreSQL: there is no local event to wait for.
    while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", key):  # noqa: ASYNC110
        await asyncio.sleep(LOCK_POLL_SECS)


async def _unlock(conn: Any, key: int) -> None:
    """Release the session-level advisory lock. The connection may go back to a pool that does
    not reset sessions (db/pool.py), so a lock that cannot be released must not survive it:
    if the unlock fails or is cancelled, the session is ended, which releases every lock (a
    failed unlock is not raised: it would hide the error that made the run stop, if any)."""
    try:
        # also right when a cancelled wait never got the lock (pg_advisory_unlock returns false)
        await conn.execute("SELECT pg_advisory_unlock($1)", key)
    except Exception:
        conn.terminate()
    except BaseException:  # cancelled: end the session, then let the cancellation through
        conn.terminate()
        raise


def _check_applied(migrations: list[Migration], applied: list[AppliedMigration]) -> None:
    local = {m.version: m for m in migrations}
    for row in applied:
        if not row.success:
            raise DirtyMigration(
                f"migration {row.version} ({row.description}) is recorded as failed in "
                "_sqlx_migrations: repair the schema by hand, then delete that row"
            )
    for row in applied:
        migration = local.get(row.version)
        if migration is None:
            raise UnknownMigration(
                f"the database has migration {row.version} ({row.description}) which this "
                "version of Chatalot does not know: it was migrated by a newer release; "
                "upgrade Chatalot instead of running an older one"
            )
        if migration.checksum != row.checksum:
            raise ChecksumMismatch(
                f"migration {migration.filename} was changed after it was applied (checksum "
                f"{migration.checksum.hex()[:16]}... differs from the applied "
                f"{row.checksum.hex()[:16]}...): restore the original file; applied "
                "migrations must never be edited"
            )


async def _apply_one(conn: Any, migration: Migration) -> None:
    started = time.perf_counter_ns()
    try:
        if migration.no_transaction:
            await conn.execute(migration.sql)
            await _record(conn, migration)
        else:
            async with conn.transaction():
                await conn.execute(migration.sql)
                await _record(conn, migration)
    except asyncpg.InsufficientPrivilegeError as err:
        raise MigrationPrivileges(
            f"migration {migration.filename} failed: insufficient privilege ({err})"
        ) from None
    except asyncpg.PostgresError as err:
        raise MigrationFailed(
            f"migration {migration.filename} failed and was rolled back: "
            f"{getattr(err, 'sqlstate', '?')} {err}"
        ) from None
    elapsed = time.perf_counter_ns() - started
    await conn.execute(
        "UPDATE _sqlx_migrations SET execution_time = $1 WHERE version = $2",
        elapsed,
        migration.version,
    )


async def _record(conn: Any, migration: Migration) -> None:
    await conn.execute(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)"
        " VALUES ($1, $2, TRUE, $3, -1)",
        migration.version,
        migration.description,
        migration.checksum,
    )
