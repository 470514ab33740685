"""The PostgreSQL server the tests run against.

``TEST_DATABASE_URL`` (any database on the server; we create our own databases next to it)
selects an existing server, e.g. the system PostgreSQL 15 in CI. Without it, one embedded
PostgreSQL (not durable, fast) is started for the whole test session.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from chatalot.db.dsn import DatabaseUrl, parse_database_url
from chatalot.db.embedded import EmbeddedOptions, EmbeddedPostgres
from chatalot.db.migrate import discover, run_migrations

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


@dataclass
class PgServer:
    admin: DatabaseUrl  # a maintenance database we may create/drop databases from
    embedded: EmbeddedPostgres | None

    def url(self, database: str) -> DatabaseUrl:
        return self.admin.with_database(database)

    def dsn_as(self, database: str, user: str, password: str | None = None) -> str:
        """The DSN of ``database`` with other credentials."""
        parts = urlsplit(self.url(database).dsn)
        host = parts.netloc.rsplit("@", 1)[-1]
        auth = f"{user}:{password}" if password is not None else user
        return urlunsplit((parts.scheme, f"{auth}@{host}", parts.path, parts.query, ""))

    async def create_database(self, name: str | None = None, *, template: str | None = None) -> str:
        name = name or f"chatalot_t_{uuid.uuid4().hex[:12]}"
        conn = await asyncpg.connect(self.admin.dsn)
        try:
            clause = f' TEMPLATE "{template}"' if template else ""
            await conn.execute(f'CREATE DATABASE "{name}"{clause}')
        finally:
            await conn.close()
        return name

    async def drop_database(self, name: str) -> None:
        conn = await asyncpg.connect(self.admin.dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    async def ensure_template(self) -> str:
        """A database with every migration applied, named after a digest of migrations/."""
        digest = hashlib.sha256()
        for migration in discover(MIGRATIONS_DIR):
            digest.update(migration.filename.encode() + migration.checksum)
        name = f"chatalot_template_{digest.hexdigest()[:12]}"
        conn = await asyncpg.connect(self.admin.dsn)
        try:
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        finally:
            await conn.close()
        if exists:
            return name
        building = await self.create_database(f"{name}_building_{uuid.uuid4().hex[:6]}")
        conn = await asyncpg.connect(self.url(building).dsn)
        try:
            await run_migrations(conn, discover(MIGRATIONS_DIR))
        finally:
            await conn.close()
        admin = await asyncpg.connect(self.admin.dsn)
        try:
            try:
                await admin.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
            except asyncpg.DuplicateDatabaseError:  # another run built it meanwhile
                await admin.execute(f'DROP DATABASE "{building}"')
        finally:
            await admin.close()
        return name


def reachable_temp_dir(prefix: str) -> Path:
    """A new folder for an embedded PostgreSQL's data, which the tests delete themselves.

    As root, PostgreSQL runs as a system user that must reach the data, and Chatalot never opens
    folders above the data folder (pytest's ``tmp_path`` is under a 0700 folder). So the test
    makes its own folder in the system temp folder and opens it; that is the test's business.
    """
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


def start_test_server() -> PgServer:
    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        return PgServer(admin=parse_database_url(given), embedded=None)
    root = reachable_temp_dir("chatalot-test-pg-")
    embedded = EmbeddedPostgres(root / "pg", EmbeddedOptions(durable=False, max_connections=300))
    embedded.start()
    return PgServer(admin=parse_database_url(embedded.dsn("postgres")), embedded=embedded)
