"""Over real sockets: a webhook's message reaches every subscriber of its channel (its
creator's sessions too) as ``new_message``; an announcement reaches every connected session."""

from __future__ import annotations

import json

import httpx

from chatalot.context import Ctx
from tests.realtime.conftest import Open, recv_skipping_heartbeat, sync
from tests.realtime.test_messages import setup
from tests.support.auth import make_user


async def test_webhook_message_reaches_subscribers(
    ctx: Ctx, open_ws: Open, client: httpx.AsyncClient
) -> None:
    alice, bob, channel = await setup(ctx)  # alice owns the channel and creates the webhook
    created = await client.post(
        f"/api/channels/{channel}/webhooks", json={"name": "CI"}, headers=alice.headers
    )
    assert created.status_code == 200
    token = created.json()["token"]
    a, b = await open_ws(alice.token), await open_ws(bob.token)
    for ws in (a, b):
        await ws.send(json.dumps({"type": "subscribe", "channel_ids": [str(channel)]}))
        await sync(ws)
    quiet = await open_ws(bob.token)  # not subscribed
    stranger = await open_ws((await make_user(ctx)).token)

    response = await client.post(f"/api/webhooks/execute/{token}", json={"content": "Hi ✅"})
    assert response.status_code == 200
    got = await recv_skipping_heartbeat(b)
    assert set(got) == {
        "type",
        "id",
        "channel_id",
        "sender_id",
        "ciphertext",
        "nonce",
        "message_type",
        "reply_to",
        "sender_key_id",
        "created_at",
    }
    assert got["type"] == "new_message" and got["message_type"] == "webhook"
    assert got["sender_id"] == str(alice.id) and got["channel_id"] == str(channel)
    assert bytes(got["ciphertext"]) == "Hi ✅".encode() and got["nonce"] == [0]
    assert got["reply_to"] is None and got["sender_key_id"] is None
    assert await recv_skipping_heartbeat(a) == got  # the creator sees it too
    assert await sync(quiet) == [] and await sync(stranger) == []


async def test_announcement_reaches_everyone(
    ctx: Ctx, open_ws: Open, client: httpx.AsyncClient
) -> None:
    admin = await make_user(ctx, is_admin=True)
    users = [await make_user(ctx) for _ in range(2)]
    sockets = [await open_ws(u.token) for u in users] + [await open_ws(admin.token)]
    for ws in sockets:
        await sync(ws)
    response = await client.post(
        "/api/admin/announcements",
        json={"title": "Maintenance", "body": "Tonight"},
        headers=admin.headers,
    )
    assert response.status_code == 200
    expected = {"type": "announcement", **response.json()}
    for ws in sockets:
        assert await recv_skipping_heartbeat(ws) == expected
    refused = await client.post(
        "/api/admin/announcements", json={"title": "", "body": "x"}, headers=admin.headers
    )
    assert refused.status_code == 400
    for ws in sockets:
        assert await sync(ws) == []
