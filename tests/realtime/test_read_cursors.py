"""mark_read / mark_all_read over real sockets: cursors, read receipts, the opt-out."""

from __future__ import annotations

import json
from typing import Any

import httpx

from chatalot.context import Ctx
from tests.realtime.conftest import Open, recv_skipping_heartbeat, sync
from tests.realtime.test_messages import send, setup, sql


async def _sent(ws: Any, channel: Any) -> str:
    await ws.send(send(channel))
    frame = await recv_skipping_heartbeat(ws)
    assert frame["type"] == "message_sent", frame
    return str(frame["id"])


async def test_mark_read_moves_the_cursor_and_sends_a_receipt(ctx: Ctx, open_ws: Open) -> None:
    """Bob marks Alice's message read: his cursor points at it, the channel's subscribers get
    read_receipt, and the unread count drops to nothing."""
    alice, bob, channel = await setup(ctx)
    a, b = await open_ws(alice.token), await open_ws(bob.token)
    for ws in (a, b):
        await ws.send(json.dumps({"type": "subscribe", "channel_ids": [str(channel)]}))
        await sync(ws)
    message_id = await _sent(a, channel)
    await sync(b)  # bob's new_message
    await b.send(
        json.dumps({"type": "mark_read", "channel_id": str(channel), "message_id": message_id})
    )
    receipt = await recv_skipping_heartbeat(a)
    assert receipt["type"] == "read_receipt"
    assert (receipt["channel_id"], receipt["user_id"], receipt["message_id"]) == (
        str(channel),
        str(bob.id),
        message_id,
    )
    assert receipt["timestamp"].endswith("+00:00")
    rows = await sql(
        ctx,
        "SELECT last_read_message_id::text FROM read_cursors WHERE user_id = $1",
        bob.id,
    )
    assert [r[0] for r in rows] == [message_id]


async def test_receipts_can_be_turned_off(
    ctx: Ctx, open_ws: Open, client: httpx.AsyncClient
) -> None:
    """With "sendReadReceipts": false the cursor still moves, but nobody is told."""
    alice, bob, channel = await setup(ctx)
    response = await client.put(
        "/api/account/preferences",
        json={"preferences": {"sendReadReceipts": False}},
        headers=bob.headers,
    )
    assert response.status_code == 200
    a, b = await open_ws(alice.token), await open_ws(bob.token)
    await a.send(json.dumps({"type": "subscribe", "channel_ids": [str(channel)]}))
    await sync(a)
    message_id = await _sent(a, channel)
    await b.send(
        json.dumps({"type": "mark_read", "channel_id": str(channel), "message_id": message_id})
    )
    await sync(b)
    assert await sync(a) == []
    rows = await sql(
        ctx,
        "SELECT count(*) FROM read_cursors WHERE user_id = $1 AND channel_id = $2",
        bob.id,
        channel,
    )
    assert rows[0][0] == 1


async def test_mark_read_is_silent_for_outsiders_and_foreign_messages(
    ctx: Ctx, open_ws: Open
) -> None:
    """A non-member, or a message of another channel: no cursor, no receipt, no error."""
    alice, bob, channel = await setup(ctx)
    other_alice, _, other_channel = await setup(ctx)
    a = await open_ws(alice.token)
    await a.send(json.dumps({"type": "subscribe", "channel_ids": [str(channel)]}))
    await sync(a)
    foreign = await _sent(await open_ws(other_alice.token), other_channel)
    b = await open_ws(bob.token)
    await b.send(
        json.dumps({"type": "mark_read", "channel_id": str(channel), "message_id": foreign})
    )
    await b.send(
        json.dumps({"type": "mark_read", "channel_id": str(other_channel), "message_id": foreign})
    )
    assert await sync(b) == []
    assert await sync(a) == []
    rows = await sql(ctx, "SELECT count(*) FROM read_cursors WHERE user_id = $1", bob.id)
    assert rows[0][0] == 0


async def test_mark_all_read(ctx: Ctx, open_ws: Open, client: httpx.AsyncClient) -> None:
    """Every channel's cursor goes to its newest message: no unread counts are left."""
    alice, bob, channel = await setup(ctx)
    a = await open_ws(alice.token)
    for _ in range(3):
        await _sent(a, channel)
    unread = await client.get("/api/channels/unread", headers=bob.headers)
    assert unread.json() == [{"channel_id": str(channel), "unread_count": 3}]
    b = await open_ws(bob.token)
    await b.send(json.dumps({"type": "mark_all_read"}))
    assert await sync(b) == []
    unread = await client.get("/api/channels/unread", headers=bob.headers)
    assert unread.json() == []


async def test_malformed_mark_read(ctx: Ctx, open_ws: Open) -> None:
    """A mark_read with a bad id is a malformed message; the session stays open."""
    alice, _bob, _channel = await setup(ctx)
    a = await open_ws(alice.token)
    await a.send(json.dumps({"type": "mark_read", "channel_id": "nope", "message_id": "x"}))
    frames = await sync(a)
    assert frames == [{"type": "error", "code": "invalid_message", "message": "malformed message"}]
