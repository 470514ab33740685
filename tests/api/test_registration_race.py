"""Concurrent registrations against a real pool: exactly one instance owner, invites never
over-used, and no 500s."""

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
from tests.support.auth import register_body
from tests.support.pg import PgServer


@pytest.fixture
async def pooled_client(
    pg: PgServer, fresh_db: str, settings: Settings, passwords: PasswordHasher, jwt_keys: JwtKeys
) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    pool = await open_pool(pg.url(fresh_db), PoolSettings(max_connections=10, min_connections=2))
    ctx = build_ctx(
        Database(pool, acquire_timeout=5), settings, passwords, jwt_keys, clock=SystemClock()
    )
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=30) as client:
        yield pool, client
    await pool.close()


async def test_concurrent_first_registrations_make_one_owner(
    pooled_client: tuple[Any, httpx.AsyncClient],
) -> None:
    """Eight people register at once on an empty instance: one becomes owner, the others get
    the invite requirement (invite_only) — never two owners, never a 500."""
    pool, client = pooled_client
    responses = await asyncio.gather(
        *(client.post("/api/auth/register", json=register_body(f"racer{i}")) for i in range(8))
    )
    statuses = sorted(r.status_code for r in responses)
    assert 500 not in statuses
    async with pool.acquire() as conn:
        owners = await conn.fetchval("SELECT count(*) FROM users WHERE is_owner")
        users = await conn.fetchval("SELECT count(*) FROM users")
    assert owners == 1
    assert users == 1
    assert statuses.count(200) == 1
    assert all(
        r.json()["error"]["message"] == "invalid, expired, or fully used invite code"
        or r.json()["error"]["message"] == "an invite code is required to register"
        for r in responses
        if r.status_code != 200
    )


async def test_one_seat_invite_used_once_under_race(
    pooled_client: tuple[Any, httpx.AsyncClient],
) -> None:
    """Five people race for a one-use invite: exactly one gets in."""
    pool, client = pooled_client
    first = await client.post("/api/auth/register", json=register_body("boss"))
    assert first.status_code == 200
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO registration_invites (id, code, max_uses) VALUES (gen_random_uuid(), 'RaceSeat0001', 1)"
        )
    responses = await asyncio.gather(
        *(
            client.post(
                "/api/auth/register", json=register_body(f"guest{i}", invite_code="RaceSeat0001")
            )
            for i in range(5)
        )
    )
    assert sorted(r.status_code for r in responses) == [200, 400, 400, 400, 400]
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT used_count FROM registration_invites") == 1
