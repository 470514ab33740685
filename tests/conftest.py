"""Test wiring: one PostgreSQL per session (embedded, or TEST_DATABASE_URL), a template
database with all migrations, a rolled-back transaction per test, an in-process app client."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from chatalot import __version__
from chatalot.app import create_app
from chatalot.clock import FakeClock
from chatalot.config import Settings, load_settings
from chatalot.context import Ctx
from chatalot.db.codecs import register_codecs
from chatalot.db.database import Database, Emitted
from tests.support.pg import MIGRATIONS_DIR, PgServer, start_test_server


@pytest.fixture(scope="session")
def pg() -> Iterator[PgServer]:
    server = start_test_server()
    yield server
    if server.embedded is not None:
        server.embedded.stop()
        shutil.rmtree(server.embedded.pgdata.parent, ignore_errors=True)


@pytest.fixture(scope="session")
async def template_db(pg: PgServer) -> str:
    return await pg.ensure_template()


@pytest.fixture(scope="session")
async def worker_db(pg: PgServer, template_db: str) -> AsyncIterator[str]:
    name = await pg.create_database(template=template_db)
    yield name
    await pg.drop_database(name)


@pytest.fixture
async def fresh_db(pg: PgServer, template_db: str) -> AsyncIterator[str]:
    """A migrated database of the test's own (real commits, several connections)."""
    name = await pg.create_database(template=template_db)
    yield name
    await pg.drop_database(name)


@pytest.fixture
async def empty_db(pg: PgServer) -> AsyncIterator[str]:
    """A database with no migrations applied."""
    name = await pg.create_database()
    yield name
    await pg.drop_database(name)


def make_settings(**overrides: str) -> Settings:
    environ = {
        "CHATALOT_ENV": "dev",
        "CHATALOT_MIGRATIONS_DIR": str(MIGRATIONS_DIR),
        "STATIC_FILES_PATH": "/nonexistent-static",
        **overrides,
    }
    return load_settings(environ)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(
        STATIC_FILES_PATH=str(tmp_path / "static"),
        CHATALOT_DATA_DIR=str(tmp_path / "data"),
        FILE_STORAGE_PATH=str(tmp_path / "files"),
    )


class RecordingSink:
    """An EventSink that keeps what it was given (events arrive only after commit)."""

    def __init__(self) -> None:
        self.published: list[Emitted] = []

    async def __call__(self, events: Any) -> None:
        self.published.extend(events)


@pytest.fixture
async def db_conn(pg: PgServer, worker_db: str) -> AsyncIterator[Any]:
    conn = await asyncpg.connect(pg.url(worker_db).dsn)
    await register_codecs(conn)
    outer = conn.transaction()
    await outer.start()
    try:
        yield conn
    finally:
        if os.environ.get("CHATALOT_TEST_KEEP_DB") == "1":
            await outer.commit()
        else:
            await outer.rollback()
        await conn.close()


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def ctx(db_conn: Any, settings: Settings, sink: RecordingSink) -> Ctx:
    clock = FakeClock()
    return Ctx(
        db=Database.single_connection(db_conn, sink=sink),
        settings=settings,
        clock=clock,
        started_monotonic=clock.monotonic(),
        version=__version__,
    )


@pytest.fixture
async def client(ctx: Ctx) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
