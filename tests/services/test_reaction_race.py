"""The 20-different-emojis limit of a message under concurrent adds, on a real pool (each add
its own connection and transaction, as with several sessions or server processes)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from chatalot.clock import SystemClock
from chatalot.config import PoolSettings, Settings
from chatalot.context import Ctx
from chatalot.db.database import Database
from chatalot.db.pool import open_pool
from chatalot.security.passwords import PasswordHasher
from chatalot.security.tokens import JwtKeys
from chatalot.services import reactions
from chatalot.services.actor import Actor
from chatalot.services.messages import Refused
from tests.api.test_pins import insert
from tests.conftest import build_ctx
from tests.support.auth import make_user
from tests.support.pg import PgServer
from tests.support.spaces import make_channel


@pytest.fixture
async def pooled(
    pg: PgServer, fresh_db: str, settings: Settings, passwords: PasswordHasher, jwt_keys: JwtKeys
) -> AsyncIterator[tuple[Any, Ctx]]:
    pool = await open_pool(pg.url(fresh_db), PoolSettings(max_connections=16, min_connections=2))
    ctx = build_ctx(
        Database(pool, acquire_timeout=10), settings, passwords, jwt_keys, clock=SystemClock()
    )
    yield pool, ctx
    await pool.close()


async def test_concurrent_adds_never_pass_twenty_emojis(pooled: tuple[Any, Ctx]) -> None:
    """18 emojis exist; 12 different new ones added at once: exactly 2 succeed, 10 get
    ``maximum number of reactions reached``."""
    pool, ctx = pooled
    owner = await make_user(ctx, "reactowner")
    actor = Actor(user_id=owner.id, username="reactowner", is_admin=False, is_owner=False)
    channel = await make_channel(ctx, None, owner.id)
    message = await insert(ctx, channel, owner.id)
    for n in range(18):
        await reactions.add_reaction(ctx, actor, message, f"e{n}")

    async def add(emoji: str) -> str:
        try:
            await reactions.add_reaction(ctx, actor, message, emoji)
        except Refused as err:
            return err.message
        return "ok"

    results = await asyncio.gather(*(add(f"new{n}") for n in range(12)))
    assert sorted(results).count("ok") == 2, results
    assert set(results) == {"ok", "maximum number of reactions reached"}
    async with pool.acquire() as conn:
        distinct = await conn.fetchval(
            "SELECT count(DISTINCT emoji) FROM reactions WHERE message_id = $1", message
        )
    assert distinct == 20
