"""Fixtures shared by the API tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from chatalot.app import create_app
from chatalot.clock import SystemClock
from chatalot.config import PoolSettings, Settings
from chatalot.context import Ctx
from chatalot.db.database import Database
from chatalot.db.pool import open_pool
from chatalot.security.passwords import PasswordHasher
from chatalot.security.tokens import JwtKeys
from tests.conftest import build_ctx
from tests.support.pg import PgServer


@pytest.fixture
async def pooled(
    pg: PgServer, fresh_db: str, settings: Settings, passwords: PasswordHasher, jwt_keys: JwtKeys
) -> AsyncIterator[tuple[Any, Ctx, httpx.AsyncClient]]:
    """(pool, ctx, client) on a real pool of 12 connections, for requests that race."""
    pool = await open_pool(pg.url(fresh_db), PoolSettings(max_connections=12, min_connections=2))
    ctx = build_ctx(
        Database(pool, acquire_timeout=10), settings, passwords, jwt_keys, clock=SystemClock()
    )
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=30) as client:
        yield pool, ctx, client
    await pool.close()
