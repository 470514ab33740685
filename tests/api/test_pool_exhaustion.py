"""A request that cannot get a database connection within the acquire timeout gets 503."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import get

from chatalot.api.deps import CtxDep
from chatalot.app import create_app
from chatalot.clock import SystemClock
from chatalot.config import PoolSettings, Settings
from chatalot.db.database import Database
from chatalot.db.pool import open_pool
from chatalot.security.passwords import PasswordHasher
from chatalot.security.tokens import JwtKeys
from tests.conftest import build_ctx
from tests.support.pg import PgServer


@get("/api/_test/needs-db")
async def get_needs_db(ctx: CtxDep) -> dict[str, int]:
    async with ctx.db.connection() as conn:
        return {"one": int(await conn.fetchval("SELECT 1"))}


@pytest.fixture
async def pooled(
    pg: PgServer, fresh_db: str, settings: Settings, passwords: PasswordHasher, jwt_keys: JwtKeys
) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    pool = await open_pool(pg.url(fresh_db), PoolSettings(max_connections=2, min_connections=2))
    db = Database(pool, acquire_timeout=settings.pool.acquire_timeout_secs)  # the default, 5 s
    ctx = build_ctx(db, settings, passwords, jwt_keys, clock=SystemClock())
    transport = httpx.ASGITransport(app=create_app(ctx, extra_handlers=[get_needs_db]))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", timeout=30
    ) as c:
        yield pool, c
    await pool.close()


@pytest.mark.slow
async def test_exhausted_pool_answers_503_after_about_5s(
    pooled: tuple[Any, httpx.AsyncClient],
) -> None:
    """All connections busy: the request waits ~5 s (the seed's acquire timeout), then 503 in
    the error shape; once a connection frees up, requests succeed again."""
    pool, client = pooled
    held = [await pool.acquire(), await pool.acquire()]
    started = time.monotonic()
    response = await client.get("/api/_test/needs-db")
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert 4.5 <= elapsed < 8
    for conn in held:
        await pool.release(conn)
    ok = await client.get("/api/_test/needs-db")
    assert ok.status_code == 200 and ok.json() == {"one": 1}
