"""Test wiring: one PostgreSQL per session (embedded, or TEST_DATABASE_URL), a template
database with all migrations, a rolled-back transaction per test, an in-process app client."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from chatalot import __version__
from chatalot.app import create_app, create_litestar
from chatalot.clock import FakeClock
from chatalot.config import Settings, load_settings
from chatalot.context import Ctx
from chatalot.db.codecs import register_codecs
from chatalot.db.database import Database, Emitted
from chatalot.ratelimit import BucketRule, Decision, RateLimiter
from chatalot.security.passwords import Argon2Params, PasswordHasher
from chatalot.security.tokens import JwtKeys, TokenService
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


def settings_in(tmp_path: Path, **overrides: str) -> Settings:
    """Test settings whose folders are inside ``tmp_path`` (plus ``overrides``)."""
    return make_settings(
        STATIC_FILES_PATH=str(tmp_path / "static"),
        CHATALOT_DATA_DIR=str(tmp_path / "data"),
        FILE_STORAGE_PATH=str(tmp_path / "files"),
        **overrides,
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_in(tmp_path)


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


class Unlimited(RateLimiter):
    """Rate limits off (tests that are about rate limits build their own limiter)."""

    async def take(self, rule: BucketRule, key: str) -> Decision:
        return Decision(True, 0)


# Argon2id at production cost (64 MiB, t=3) takes ~0.1 s per hash; tests use a cheap profile.
# tests/services/test_passwords.py checks the production parameters themselves.
TEST_ARGON2 = Argon2Params(time_cost=1, memory_cost_kib=1024, parallelism=1)


@pytest.fixture(scope="session")
def passwords() -> Iterator[PasswordHasher]:
    hasher = PasswordHasher(TEST_ARGON2, workers=2)
    yield hasher
    hasher.close()


@pytest.fixture(scope="session")
def jwt_keys() -> JwtKeys:
    return JwtKeys.generate()


def build_ctx(
    db: Database, settings: Settings, passwords: PasswordHasher, keys: JwtKeys, **extra: Any
) -> Ctx:
    clock = extra.pop("clock", None) or FakeClock(datetime.now(UTC).replace(microsecond=0))
    return Ctx(
        db=db,
        settings=settings,
        clock=clock,
        started_monotonic=clock.monotonic(),
        version=__version__,
        tokens=TokenService(keys, clock),
        passwords=passwords,
        limiter=extra.pop("limiter", None) or Unlimited(),
        **extra,
    )


@pytest.fixture
def ctx(
    db_conn: Any,
    settings: Settings,
    sink: RecordingSink,
    passwords: PasswordHasher,
    jwt_keys: JwtKeys,
) -> Ctx:
    return build_ctx(Database.single_connection(db_conn, sink=sink), settings, passwords, jwt_keys)


# One Litestar app per CORS setting for the whole run, pointed at each test's context (building
# the app costs about 0.1 s, most of a short test). The edge layers are built per test.
_SHARED_APPS: dict[tuple[str, ...], Litestar] = {}
_CURRENT_CTX: list[Ctx] = []


def _current_ctx() -> Ctx:
    return _CURRENT_CTX[-1]


@pytest.fixture
async def client(ctx: Ctx) -> AsyncIterator[httpx.AsyncClient]:
    key = tuple(ctx.settings.cors_origins)
    if key not in _SHARED_APPS:
        _SHARED_APPS[key] = create_litestar(ctx, current=_current_ctx)
    _CURRENT_CTX[:] = [ctx]
    transport = httpx.ASGITransport(app=create_app(ctx, litestar=_SHARED_APPS[key]))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
