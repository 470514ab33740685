"""Concurrent POST /api/channels/{id}/pins/{msg_id} against a real pool: the per-channel limit
holds, one message is pinned once, never a 500."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx

from chatalot.context import Ctx
from chatalot.services.instance_settings import InstanceValues
from tests.api.test_pins import insert
from tests.support.auth import make_user
from tests.support.spaces import add_channel_member, make_channel


async def test_concurrent_pins_stop_at_the_limit(
    pooled: tuple[Any, Ctx, httpx.AsyncClient],
) -> None:
    """Twelve different messages pinned at once by two moderators under a limit of 3: three
    pins, nine ``maximum of 3 pins per channel``."""
    pool, ctx, client = pooled
    owner, moderator = await make_user(ctx, "pinowner"), await make_user(ctx, "pinmod")
    channel = await make_channel(ctx, None, owner.id)
    await add_channel_member(ctx, channel, moderator.id, "moderator")
    messages = [await insert(ctx, channel, owner.id) for _ in range(12)]
    ctx.instance.values = InstanceValues(max_pins_per_channel=3)
    responses = await asyncio.gather(
        *(
            client.post(
                f"/api/channels/{channel}/pins/{m}",
                headers=(owner if i % 2 else moderator).headers,
            )
            for i, m in enumerate(messages)
        )
    )
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 3, 400: 9}, [r.text for r in responses]
    refused = {r.json()["error"]["message"] for r in responses if r.status_code == 400}
    assert refused == {"maximum of 3 pins per channel"}
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM pinned_messages") == 3


async def test_one_message_pinned_at_once_many_times(
    pooled: tuple[Any, Ctx, httpx.AsyncClient],
) -> None:
    """Eight pins of the same message at once: one pin, seven 409 ``message is already
    pinned``."""
    pool, ctx, client = pooled
    owner = await make_user(ctx, "samepin")
    channel = await make_channel(ctx, None, owner.id)
    message = await insert(ctx, channel, owner.id)
    responses = await asyncio.gather(
        *(
            client.post(f"/api/channels/{channel}/pins/{message}", headers=owner.headers)
            for _ in range(8)
        )
    )
    assert Counter(r.status_code for r in responses) == {200: 1, 409: 7}, [
        r.text for r in responses
    ]
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM pinned_messages") == 1
