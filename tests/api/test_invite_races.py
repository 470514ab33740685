"""Invites under real concurrency (own database, real commits, a connection pool): many users
accepting a limited invite at once never use more seats than it has, and the same user
accepting twice at once joins once."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from chatalot.context import Ctx
from tests.support.auth import make_user
from tests.support.spaces import (
    add_community_member,
    make_community,
    make_community_invite,
    make_group,
    make_group_invite,
)

RACERS = 8
SEATS = 3


async def test_community_invite_never_over_used(
    pooled: tuple[Any, Ctx, httpx.AsyncClient],
) -> None:
    pool, ctx, client = pooled
    owner = await make_user(ctx, "raceowner")
    community = await make_community(ctx, owner.id)
    await make_group(ctx, community, owner.id)
    _, code = await make_community_invite(ctx, community, owner.id, max_uses=SEATS)
    users = [await make_user(ctx, f"racer{i}") for i in range(RACERS)]
    responses = await asyncio.gather(
        *(client.post(f"/api/community-invites/{code}/accept", headers=u.headers) for u in users)
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * SEATS + [400] * (RACERS - SEATS), [r.text for r in responses]
    assert {r.json()["error"]["message"] for r in responses if r.status_code == 400} == {
        "invite fully used"
    }
    async with pool.acquire() as conn:
        used = await conn.fetchval("SELECT used_count FROM community_invites WHERE code = $1", code)
        members = await conn.fetchval(
            "SELECT count(*) FROM community_members WHERE community_id = $1", community
        )
        group_members = await conn.fetchval("SELECT count(*) FROM group_members")
    assert used == SEATS
    assert members == 1 + SEATS
    assert group_members == 1 + SEATS


async def test_group_invite_never_over_used(
    pooled: tuple[Any, Ctx, httpx.AsyncClient],
) -> None:
    pool, ctx, client = pooled
    owner = await make_user(ctx, "gowner")
    community = await make_community(ctx, owner.id)
    group = await make_group(ctx, community, owner.id, visibility="private")
    _, code = await make_group_invite(ctx, group, owner.id, max_uses=SEATS)
    users = [await make_user(ctx, f"gracer{i}") for i in range(RACERS)]
    for user in users:
        await add_community_member(ctx, community, user.id)
    responses = await asyncio.gather(
        *(client.post(f"/api/invites/{code}/accept", headers=u.headers) for u in users)
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * SEATS + [400] * (RACERS - SEATS), [r.text for r in responses]
    async with pool.acquire() as conn:
        used = await conn.fetchval("SELECT used_count FROM group_invites WHERE code = $1", code)
        members = await conn.fetchval(
            "SELECT count(*) FROM group_members WHERE group_id = $1", group
        )
    assert used == SEATS
    assert members == 1 + SEATS


async def test_same_user_accepting_twice_at_once_joins_once(
    pooled: tuple[Any, Ctx, httpx.AsyncClient],
) -> None:
    pool, ctx, client = pooled
    owner = await make_user(ctx, "downer")
    community = await make_community(ctx, owner.id)
    _, code = await make_community_invite(ctx, community, owner.id, max_uses=10)
    user = await make_user(ctx, "twice")
    responses = await asyncio.gather(
        *(
            client.post(f"/api/community-invites/{code}/accept", headers=user.headers)
            for _ in range(4)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409, 409, 409], [r.text for r in responses]
    async with pool.acquire() as conn:
        used = await conn.fetchval("SELECT used_count FROM community_invites WHERE code = $1", code)
    assert used == 1
