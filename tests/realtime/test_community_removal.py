"""``community_member_removed`` over real sockets (ours, beyond the original): a community kick,
ban or leave tells every session of the removed user at once, and nobody else; a pre-ban of a
non-member and a refused kick tell nobody."""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx
import pytest

from chatalot.context import Ctx
from chatalot.ids import ChannelId, CommunityId
from tests.realtime.conftest import Open, sync
from tests.support.auth import TestUser, make_user
from tests.support.spaces import (
    add_channel_member,
    add_community_member,
    add_group_member,
    make_channel,
    make_community,
    make_group,
)


@dataclass
class Space:
    owner: TestUser
    moderator: TestUser
    bob: TestUser
    carol: TestUser
    community: CommunityId
    channel: ChannelId

    def url(self, tail: str) -> str:
        return f"/api/communities/{self.community}{tail}"


async def make_space(ctx: Ctx) -> Space:
    """An owner, a moderator and members Bob and Carol, all in one group and channel."""
    owner = await make_user(ctx)
    moderator, bob, carol = await make_user(ctx), await make_user(ctx), await make_user(ctx)
    community = await make_community(ctx, owner.id)
    group = await make_group(ctx, community, owner.id)
    channel = await make_channel(ctx, group, owner.id)
    for user, role in ((moderator, "moderator"), (bob, "member"), (carol, "member")):
        await add_community_member(ctx, community, user.id, role)
        await add_group_member(ctx, group, user.id)
        await add_channel_member(ctx, channel, user.id)
    return Space(owner, moderator, bob, carol, community, channel)


async def remove(client: httpx.AsyncClient, space: Space, reason: str) -> httpx.Response:
    target = space.bob.id
    if reason == "kicked":
        return await client.delete(space.url(f"/members/{target}"), headers=space.moderator.headers)
    if reason == "banned":
        return await client.post(
            space.url(f"/bans/{target}"), json={}, headers=space.moderator.headers
        )
    return await client.post(space.url("/leave"), headers=space.bob.headers)


@pytest.mark.parametrize("reason", ["kicked", "banned", "left"])
async def test_removed_member_is_told(
    client: httpx.AsyncClient, ctx: Ctx, open_ws: Open, reason: str
) -> None:
    """Both of Bob's sessions (subscribed to the community's channel) get exactly
    community_member_removed; Carol, still a member, and the moderator never see it."""
    space = await make_space(ctx)
    bob_1, bob_2 = await open_ws(space.bob.token), await open_ws(space.bob.token)
    ws_carol, ws_mod = await open_ws(space.carol.token), await open_ws(space.moderator.token)
    for ws in (bob_1, bob_2, ws_carol):
        await ws.send(json.dumps({"type": "subscribe", "channel_ids": [str(space.channel)]}))
        await sync(ws)
    response = await remove(client, space, reason)
    assert response.status_code == 200, response.text
    expected = {
        "type": "community_member_removed",
        "community_id": str(space.community),
        "user_id": str(space.bob.id),
        "reason": reason,
    }
    assert await sync(bob_1) == [expected]
    assert await sync(bob_2) == [expected]
    for ws in (ws_carol, ws_mod):
        assert "community_member_removed" not in [f["type"] for f in await sync(ws)]


async def test_preban_of_a_non_member_tells_nobody(
    client: httpx.AsyncClient, ctx: Ctx, open_ws: Open
) -> None:
    """Banning someone who never joined sends no frame, to them or anyone."""
    space = await make_space(ctx)
    stranger = await make_user(ctx)
    ws_stranger, ws_bob = await open_ws(stranger.token), await open_ws(space.bob.token)
    response = await client.post(
        space.url(f"/bans/{stranger.id}"), json={}, headers=space.moderator.headers
    )
    assert response.status_code == 200, response.text
    assert await sync(ws_stranger) == []
    assert await sync(ws_bob) == []


async def test_refused_kick_tells_nobody(
    client: httpx.AsyncClient, ctx: Ctx, open_ws: Open
) -> None:
    """A member trying to kick the moderator: 403 and no frame."""
    space = await make_space(ctx)
    ws_mod, ws_bob = await open_ws(space.moderator.token), await open_ws(space.bob.token)
    response = await client.delete(
        space.url(f"/members/{space.moderator.id}"), headers=space.bob.headers
    )
    assert response.status_code == 403, response.text
    assert await sync(ws_mod) == []
    assert await sync(ws_bob) == []
