"""Concurrent key-bundle fetches against a real pool: a one-time prekey is handed out at most
once, and concurrent uploads cannot pass the per-user cap."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from chatalot.app import create_app
from chatalot.clock import SystemClock
from chatalot.config import PoolSettings, Settings
from chatalot.db.database import Database
from chatalot.db.pool import open_pool
from chatalot.security.passwords import PasswordHasher
from chatalot.security.tokens import JwtKeys
from chatalot.services.keys import MAX_UNUSED_ONE_TIME_PREKEYS
from tests.conftest import build_ctx
from tests.support.auth import bearer, key_payload, raw_public, register_body


@pytest.fixture
async def pooled_client(
    pg: Any, fresh_db: str, settings: Settings, passwords: PasswordHasher, jwt_keys: JwtKeys
) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    pool = await open_pool(pg.url(fresh_db), PoolSettings(max_connections=12, min_connections=2))
    ctx = build_ctx(
        Database(pool, acquire_timeout=10), settings, passwords, jwt_keys, clock=SystemClock()
    )
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=60) as client:
        yield pool, client
    await pool.close()


async def _register(client: httpx.AsyncClient, name: str, one_time: int) -> dict[str, Any]:
    body = register_body(name, **key_payload(one_time=one_time))
    response = await client.post("/api/auth/register", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_concurrent_bundle_fetches_never_share_a_key(
    pooled_client: tuple[Any, httpx.AsyncClient],
) -> None:
    """20 fetches at once against 10 one-time prekeys: 10 distinct keys and 10 nulls."""
    pool, client = pooled_client
    target = await _register(client, "keyowner", one_time=10)
    headers = bearer(target["access_token"])  # fetching one's own bundle claims keys too
    user_id = target["user"]["id"]
    responses = await asyncio.gather(
        *(client.get(f"/api/keys/{user_id}/bundle", headers=headers) for _ in range(20))
    )
    assert [r.status_code for r in responses] == [200] * 20
    claimed = [r.json()["one_time_prekey"] for r in responses]
    keys = [c["key_id"] for c in claimed if c is not None]
    assert len(keys) == 10
    assert sorted(keys) == list(range(1, 11))
    assert claimed.count(None) == 10
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM one_time_prekeys WHERE NOT used") == 0


async def test_concurrent_uploads_respect_the_cap(
    pooled_client: tuple[Any, httpx.AsyncClient],
) -> None:
    """Eight uploads of 200 at once, starting from 0: exactly five fit under the 1000 cap."""
    pool, client = pooled_client
    owner = await _register(client, "uploader", one_time=0)
    headers = bearer(owner["access_token"])

    def batch(start: int) -> list[dict[str, Any]]:
        return [
            {"key_id": i, "public_key": list(raw_public(Ed25519PrivateKey.generate()))}
            for i in range(start, start + 200)
        ]

    responses = await asyncio.gather(
        *(
            client.post("/api/keys/prekeys/one-time", json=batch(1 + n * 200), headers=headers)
            for n in range(8)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 5 + [400] * 3
    async with pool.acquire() as conn:
        unused = await conn.fetchval("SELECT count(*) FROM one_time_prekeys WHERE NOT used")
    assert unused == MAX_UNUSED_ONE_TIME_PREKEYS
