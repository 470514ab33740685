"""A scheduled message scheduled over REST reaches real WebSocket clients when the delivery job
runs (called directly, the clock moved past its time)."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx

from chatalot.clock import FakeClock
from chatalot.context import Ctx
from chatalot.protocol.time import rfc3339
from chatalot.services.scheduled_delivery import deliver_scheduled_messages
from tests.realtime.conftest import Open, recv_skipping_heartbeat, sync
from tests.realtime.test_messages import setup, sql
from tests.support.auth import make_user
from tests.support.spaces import (
    add_channel_member,
    add_community_member,
    make_channel,
    make_community,
)


async def test_channel_delivery_reaches_subscribers(
    ctx: Ctx, open_ws: Open, client: httpx.AsyncClient
) -> None:
    """Nothing at scheduling time; when due, new_message (the original's keys) to every
    subscribed session, both of the author's included (no session of theirs sent it), and
    to nobody else."""
    assert isinstance(ctx.clock, FakeClock)
    alice, bob, channel = await setup(ctx)
    a1, a2, b = await open_ws(alice.token), await open_ws(alice.token), await open_ws(bob.token)
    for ws in (a1, a2, b):
        await ws.send(json.dumps({"type": "subscribe", "channel_ids": [str(channel)]}))
        await sync(ws)
    quiet = await open_ws(bob.token)  # bob's session that did not subscribe
    stranger = await open_ws((await make_user(ctx)).token)
    scheduled = await client.post(
        "/api/messages/schedule",
        json={
            "channel_id": str(channel),
            "ciphertext": json.dumps([104, 105]),
            "nonce": json.dumps([1, 2, 3]),
            "scheduled_for": rfc3339(ctx.clock.now() + timedelta(minutes=5)),
        },
        headers=alice.headers,
    )
    assert scheduled.status_code == 200, scheduled.text
    for ws in (a1, a2, b):
        assert await sync(ws) == []
    ctx.clock.advance(300)
    [message_id] = (await deliver_scheduled_messages(ctx)).delivered
    new = await recv_skipping_heartbeat(b)
    assert new == {
        "type": "new_message",
        "id": str(message_id),
        "channel_id": str(channel),
        "sender_id": str(alice.id),
        "ciphertext": [104, 105],
        "nonce": [1, 2, 3],
        "message_type": "text",
        "reply_to": None,
        "sender_key_id": None,
        "created_at": rfc3339(ctx.clock.now()),
    }
    assert await recv_skipping_heartbeat(a1) == new
    assert await recv_skipping_heartbeat(a2) == new
    for ws in (a1, a2, b, quiet, stranger):
        assert await sync(ws) == []
    history = await client.get(f"/api/channels/{channel}/messages", headers=bob.headers)
    assert [m["id"] for m in history.json()] == [str(message_id)]
    assert (await client.get("/api/messages/scheduled", headers=alice.headers)).json() == []


async def test_dm_delivery_reaches_both_members(
    ctx: Ctx, open_ws: Open, client: httpx.AsyncClient
) -> None:
    """A DM's first message: the peer gets new_dm_channel then new_message without having
    subscribed; every session of the author gets new_message too."""
    assert isinstance(ctx.clock, FakeClock)
    alice, bob = await make_user(ctx), await make_user(ctx)
    community = await make_community(ctx, alice.id)
    await add_community_member(ctx, community, bob.id)
    channel = await make_channel(ctx, None, None, name=None, channel_type="dm")
    await add_channel_member(ctx, channel, alice.id)
    await add_channel_member(ctx, channel, bob.id)
    a1, a2, b = await open_ws(alice.token), await open_ws(alice.token), await open_ws(bob.token)
    await sync(b)
    await sql(
        ctx,
        "INSERT INTO scheduled_messages (id, channel_id, user_id, ciphertext, nonce,"
        " scheduled_for) VALUES (gen_random_uuid(), $1, $2, 'plain text', '[9]', $3)",
        channel,
        alice.id,
        ctx.clock.now() - timedelta(seconds=1),
    )
    await deliver_scheduled_messages(ctx)
    opened = await recv_skipping_heartbeat(b)
    assert opened["type"] == "new_dm_channel"
    assert opened["channel_id"] == str(channel)
    assert opened["other_user_id"] == str(alice.id)
    new = await recv_skipping_heartbeat(b)
    assert new["type"] == "new_message" and new["sender_id"] == str(alice.id)
    assert new["ciphertext"] == list(b"plain text") and new["nonce"] == [9]
    assert await recv_skipping_heartbeat(a1) == new
    assert await recv_skipping_heartbeat(a2) == new
    for ws in (a1, a2, b):
        assert await sync(ws) == []
