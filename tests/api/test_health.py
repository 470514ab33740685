"""GET /api/health: the client's connect screen needs status "ok"."""

from __future__ import annotations

import asyncpg
import httpx

from chatalot import __version__
from chatalot.app import create_app
from chatalot.clock import FakeClock
from chatalot.context import Ctx
from chatalot.db.database import Database
from chatalot.security.tokens import JwtKeys
from tests.conftest import build_ctx
from tests.support.pg import PgServer


async def test_health_ok(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A reachable database gives 200 with status ok, version, uptime and db_healthy."""
    assert isinstance(ctx.clock, FakeClock)
    ctx.clock.advance(42)
    response = await client.get("/api/health")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "status": "ok",
        "version": __version__,
        "uptime_secs": 42,
        "db_healthy": True,
    }


async def test_health_degraded_when_database_fails(
    pg: PgServer, worker_db: str, ctx: Ctx, jwt_keys: JwtKeys
) -> None:
    """A database that errors still answers 200, with status degraded."""
    gone = await asyncpg.connect(pg.url(worker_db).dsn)
    await gone.close()  # the app's only connection is dead
    broken = build_ctx(Database.single_connection(gone), ctx.settings, ctx.passwords, jwt_keys)
    transport = httpx.ASGITransport(app=create_app(broken))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["db_healthy"] is False
