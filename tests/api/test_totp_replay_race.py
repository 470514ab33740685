"""One TOTP code, many simultaneous sign-ins on a real pool: exactly one succeeds."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from chatalot.app import create_app
from chatalot.clock import FakeClock
from chatalot.config import PoolSettings, Settings
from chatalot.context import Ctx
from chatalot.db.database import Database
from chatalot.db.pool import open_pool
from chatalot.security import totp
from chatalot.security.passwords import PasswordHasher
from chatalot.security.tokens import JwtKeys
from tests.conftest import build_ctx, settings_in
from tests.support.auth import make_user
from tests.support.pg import PgServer


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_in(tmp_path, TOTP_ENCRYPTION_KEY="race-test-totp-key-abcdefghijklmnop")


@pytest.fixture
async def pooled(
    pg: PgServer, fresh_db: str, settings: Settings, passwords: PasswordHasher, jwt_keys: JwtKeys
) -> AsyncIterator[tuple[Ctx, httpx.AsyncClient]]:
    pool = await open_pool(pg.url(fresh_db), PoolSettings(max_connections=10, min_connections=2))
    ctx = build_ctx(Database(pool, acquire_timeout=5), settings, passwords, jwt_keys)
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=30) as client:
        yield ctx, client
    await pool.close()


async def test_concurrent_logins_with_one_code_let_exactly_one_in(
    pooled: tuple[Ctx, httpx.AsyncClient],
) -> None:
    """Eight sign-ins with the same code at the same moment: one 200, seven 401, no 500."""
    ctx, client = pooled
    user = await make_user(ctx, "racer")
    shown = (await client.post("/api/totp/setup", headers=user.headers, json={})).json()["secret"]
    secret = base64.b32decode(shown)
    enabled = await client.post(
        "/api/totp/verify",
        headers=user.headers,
        json={"code": totp.code_for(secret, ctx.clock.now())},
    )
    assert enabled.status_code == 200, enabled.text
    assert isinstance(ctx.clock, FakeClock)
    ctx.clock.advance(30)
    body = {"username": "racer", "password": user.password}
    body["totp_code"] = totp.code_for(secret, ctx.clock.now())
    responses = await asyncio.gather(*(client.post("/api/auth/login", json=body) for _ in range(8)))
    assert sorted(r.status_code for r in responses) == [200] + [401] * 7
