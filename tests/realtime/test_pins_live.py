"""message_pinned / message_unpinned reach the channel's subscribers over real sockets."""

from __future__ import annotations

import json

import httpx

from chatalot.context import Ctx
from tests.api.test_pins import insert
from tests.realtime.conftest import Open, recv_skipping_heartbeat, sync
from tests.realtime.test_messages import setup
from tests.support.auth import make_user


async def test_pin_and_unpin_reach_subscribers(
    ctx: Ctx, open_ws: Open, client: httpx.AsyncClient
) -> None:
    """Both subscribers (the pinner too) get message_pinned, then message_unpinned; a member
    who did not subscribe and an outsider get nothing; a refused pin sends nothing."""
    alice, bob, channel = await setup(ctx)
    message = await insert(ctx, channel, bob.id)
    a, b = await open_ws(alice.token), await open_ws(bob.token)
    for ws in (a, b):
        await ws.send(json.dumps({"type": "subscribe", "channel_ids": [str(channel)]}))
        await sync(ws)
    quiet = await open_ws(bob.token)  # bob's second session, not subscribed
    stranger = await open_ws((await make_user(ctx)).token)

    path = f"/api/channels/{channel}/pins/{message}"
    assert (await client.post(path, headers=alice.headers)).status_code == 200
    pinned = await recv_skipping_heartbeat(b)
    assert set(pinned) == {"type", "message_id", "channel_id", "pinned_by", "pinned_at"}
    assert pinned["type"] == "message_pinned"
    assert pinned["message_id"] == str(message) and pinned["channel_id"] == str(channel)
    assert pinned["pinned_by"] == str(alice.id)
    listed = (await client.get(f"/api/channels/{channel}/pins", headers=bob.headers)).json()
    assert pinned["pinned_at"] == listed[0]["pinned_at"]
    assert await recv_skipping_heartbeat(a) == pinned

    assert (await client.post(path, headers=alice.headers)).status_code == 409
    assert (await client.delete(path, headers=alice.headers)).status_code == 200
    unpinned = {"type": "message_unpinned", "message_id": str(message), "channel_id": str(channel)}
    assert await recv_skipping_heartbeat(b) == unpinned
    assert await recv_skipping_heartbeat(a) == unpinned
    assert await sync(a) == [] and await sync(b) == []
    assert await sync(quiet) == [] and await sync(stranger) == []
