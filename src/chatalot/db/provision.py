"""Where the database comes from: DATABASE_URL, or the embedded PostgreSQL when it is unset."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import asyncpg

from chatalot.config import Settings
from chatalot.db.dsn import DatabaseUrl, parse_database_url
from chatalot.db.embedded import EmbeddedOptions, EmbeddedPostgres

log = logging.getLogger("chatalot_server")

EMBEDDED_DATABASE = "chatalot"


@dataclass(slots=True)
class ProvisionedDatabase:
    url: DatabaseUrl
    embedded: EmbeddedPostgres | None

    async def release(self) -> None:
        """Stop the embedded server if we started it (external databases are left alone)."""
        if self.embedded is not None:
            await asyncio.to_thread(self.embedded.stop)
            log.info("Embedded PostgreSQL stopped")
            self.embedded = None


async def provision_database(
    settings: Settings, options: EmbeddedOptions | None = None
) -> ProvisionedDatabase:
    """The configured database, or a started embedded one with the ``chatalot`` database."""
    if settings.database_url is not None:
        return ProvisionedDatabase(url=settings.database_url, embedded=None)
    embedded = EmbeddedPostgres(settings.embedded_pgdata, options)
    await asyncio.to_thread(embedded.start)
    try:
        await ensure_database(embedded.dsn("postgres"), EMBEDDED_DATABASE)
    except BaseException:
        await asyncio.to_thread(embedded.stop)
        raise
    state = "new" if embedded.initialised_now else "existing"
    log.info(
        "Using the embedded PostgreSQL (%s data in %s; set DATABASE_URL to use your own server)",
        state,
        embedded.pgdata,
    )
    return ProvisionedDatabase(
        url=parse_database_url(embedded.dsn(EMBEDDED_DATABASE)), embedded=embedded
    )


async def ensure_database(admin_dsn: str, name: str) -> None:
    """Create database ``name`` if it does not exist (connecting to the maintenance database)."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            quoted = '"' + name.replace('"', '""') + '"'
            await conn.execute(f"CREATE DATABASE {quoted}")
    finally:
        await conn.close()
