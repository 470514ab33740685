"""Web Push with real WebSocket sessions: a DM recipient with an open session gets the
new_message frame and no push; once their last session has closed, the next DM is pushed."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from chatalot.config import Settings
from chatalot.context import Ctx
from chatalot.ids import UserId
from chatalot.services import push as push_service
from chatalot.services.actor import Actor
from tests.conftest import settings_in
from tests.realtime.conftest import Open, recv_skipping_heartbeat
from tests.support.auth import make_user
from tests.support.spaces import (
    add_channel_member,
    add_community_member,
    make_channel,
    make_community,
)
from tests.support.webpush import browser_keys, decrypt, vapid_pair
from tests.support.webpush import push_service as running_push_service

VAPID = vapid_pair()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_in(tmp_path, **VAPID.env)


def send_frame(channel: object) -> str:
    return json.dumps(
        {
            "type": "send_message",
            "channel_id": str(channel),
            "ciphertext": [104, 105],
            "nonce": [1, 2, 3],
            "message_type": "text",
        }
    )


async def test_live_session_gets_no_push(ctx: Ctx, open_ws: Open) -> None:
    alice = await make_user(ctx)
    bob = await make_user(ctx)
    community = await make_community(ctx, alice.id)
    await add_community_member(ctx, community, bob.id)
    dm = await make_channel(ctx, None, None, name=None, channel_type="dm")
    await add_channel_member(ctx, dm, alice.id)
    await add_channel_member(ctx, dm, bob.id)
    async with running_push_service() as service:
        keys = browser_keys()
        await push_service.subscribe(
            ctx,
            Actor(user_id=bob.id, username=bob.row.username, is_admin=False, is_owner=False),
            endpoint=service.endpoint("bob"),
            p256dh_key=keys.p256dh,
            auth_key=keys.auth_key,
        )
        a = await open_ws(alice.token)
        b = await open_ws(bob.token)
        await a.send(send_frame(dm))
        assert (await recv_skipping_heartbeat(a))["type"] == "message_sent"
        frame = await recv_skipping_heartbeat(b)
        while frame["type"] != "new_message":  # new_dm_channel comes first
            frame = await recv_skipping_heartbeat(b)
        await ctx.push.drain()
        assert service.received == []
        # bob goes away: the next DM is pushed
        await b.close()
        for _ in range(100):
            if not ctx.hub.session_count(UserId(bob.id)):
                break
            await asyncio.sleep(0.02)
        await a.send(send_frame(dm))
        assert (await recv_skipping_heartbeat(a))["type"] == "message_sent"
        await service.wait_for(1)
        await ctx.push.drain()
        [received] = service.received
        assert decrypt(received, keys)["notification_type"] == "dm"
        await ctx.push.close()
