"""Concurrent POST /api/dms for the same pair, against a real pool: one channel, never a
500."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from chatalot.app import create_app
from chatalot.clock import SystemClock
from chatalot.config import PoolSettings, Settings
from chatalot.db.database import Database
from chatalot.db.pool import open_pool
from chatalot.security.passwords import PasswordHasher
from chatalot.security.tokens import JwtKeys
from tests.conftest import build_ctx
from tests.support.auth import make_user
from tests.support.pg import PgServer
from tests.support.spaces import add_community_member, make_community


@pytest.fixture
async def pooled(
    pg: PgServer, fresh_db: str, settings: Settings, passwords: PasswordHasher, jwt_keys: JwtKeys
) -> AsyncIterator[tuple[Any, Any, httpx.AsyncClient]]:
    pool = await open_pool(pg.url(fresh_db), PoolSettings(max_connections=10, min_connections=2))
    ctx = build_ctx(
        Database(pool, acquire_timeout=5), settings, passwords, jwt_keys, clock=SystemClock()
    )
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=30) as client:
        yield pool, ctx, client
    await pool.close()


async def test_concurrent_dm_requests_make_one_channel(
    pooled: tuple[Any, Any, httpx.AsyncClient],
) -> None:
    """Both users ask for their DM at the same time, several times each: one channel, every
    answer names it, one pair row, two memberships."""
    pool, ctx, client = pooled
    alice, bob = await make_user(ctx, "racealice"), await make_user(ctx, "racebob")
    community = await make_community(ctx, alice.id)
    await add_community_member(ctx, community, bob.id)
    requests = []
    for _ in range(4):
        requests.append(
            client.post("/api/dms", json={"target_user_id": str(bob.id)}, headers=alice.headers)
        )
        requests.append(
            client.post("/api/dms", json={"target_user_id": str(alice.id)}, headers=bob.headers)
        )
    responses = await asyncio.gather(*requests)
    assert [r.status_code for r in responses] == [200] * 8, [r.text for r in responses]
    assert len({r.json()["channel"]["id"] for r in responses}) == 1
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM dm_pairs") == 1
        assert await conn.fetchval("SELECT count(*) FROM channels WHERE channel_type = 'dm'") == 1
        assert await conn.fetchval("SELECT count(*) FROM channel_members") == 2
