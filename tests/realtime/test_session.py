"""/ws over real sockets (uvicorn in this test's loop, the ``websockets`` client): handshake,
limits, errors, subscriptions and delivery of events produced by REST actions."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from chatalot.api.web_client import builtin_client
from chatalot.context import Ctx
from chatalot.db.database import Emitted
from chatalot.protocol import events
from chatalot.realtime.hub import WsLimits
from chatalot.services.audience import Users
from tests.conftest import RecordingSink
from tests.realtime.conftest import Open, closed_code, recv, recv_skipping_heartbeat, sync
from tests.support.auth import make_user
from tests.support.spaces import add_channel_member, make_channel

# -- handshake ---------------------------------------------------------------------------------


async def test_handshake(ctx: Ctx, open_ws: Open) -> None:
    """authenticate -> authenticated {user_id, server_version: the built-in client's version}, then at once a
    heartbeat pong in Unix seconds; a ping is echoed; a second authenticate is ignored."""
    alice = await make_user(ctx)
    ws = await open_ws()
    await ws.send(json.dumps({"type": "authenticate", "token": alice.token, "extra": 1}))
    assert await recv(ws) == {
        "type": "authenticated",
        "user_id": str(alice.id),
        "server_version": builtin_client().version,
    }
    assert await recv(ws) == {"type": "pong", "timestamp": int(ctx.clock.now().timestamp())}
    await ws.send(json.dumps({"type": "authenticate", "token": "whatever"}))
    await ws.send(json.dumps({"type": "ping", "timestamp": 1771234567890}))
    assert await recv(ws) == {"type": "pong", "timestamp": 1771234567890}
    assert len(ctx.hub) == 1


async def test_server_version_from_version_json(ctx: Ctx, open_ws: Open) -> None:
    """With another web client in STATIC_FILES_PATH (an index.html), server_version is that
    client's version.json ``version``."""
    static = Path(ctx.settings.static_files_path)
    static.mkdir(parents=True, exist_ok=True)
    (static / "index.html").write_text("<html></html>")
    (static / "version.json").write_text('{"version": "0.23.0"}')
    alice = await make_user(ctx)
    ws = await open_ws()
    await ws.send(json.dumps({"type": "authenticate", "token": alice.token}))
    assert (await recv(ws))["server_version"] == "0.23.0"


@pytest.mark.parametrize("kind", ["garbage", "expired", "suspended"])
async def test_bad_token_is_refused(ctx: Ctx, open_ws: Open, kind: str) -> None:
    """A forged, expired or suspended user's token: error unauthorized, then close 1008."""
    user = await make_user(ctx, suspended=kind == "suspended")
    token = "not.a.jwt" if kind == "garbage" else user.token
    if kind == "expired":
        ctx.clock.advance(3600)  # type: ignore[attr-defined]  # a FakeClock
    ws = await open_ws()
    await ws.send(json.dumps({"type": "authenticate", "token": token}))
    assert await recv(ws) == {"type": "error", "code": "unauthorized", "message": "invalid token"}
    assert await closed_code(ws) == 1008
    assert len(ctx.hub) == 0


@pytest.mark.parametrize(
    "first",
    [
        '{"type": "ping", "timestamp": 1}',
        '{"token": "no type"}',
        "not json",
        '{"type": "authenticate", "token": 5}',
    ],
)
async def test_first_frame_must_be_authenticate(open_ws: Open, first: str) -> None:
    """Anything but a well-formed authenticate first: auth_required, then close."""
    ws = await open_ws()
    await ws.send(first)
    assert await recv(ws) == {
        "type": "error",
        "code": "auth_required",
        "message": "first message must be Authenticate",
    }
    assert await closed_code(ws) == 1008


@pytest.mark.parametrize("limits", [WsLimits(auth_timeout=0.2)])
async def test_no_authenticate_in_time(open_ws: Open) -> None:
    """Nothing within the auth timeout: auth_timeout, then close."""
    ws = await open_ws()
    assert await recv(ws) == {
        "type": "error",
        "code": "auth_timeout",
        "message": "authentication timed out",
    }
    assert await closed_code(ws) == 1008


async def test_binary_first_frame_is_a_timeout(open_ws: Open) -> None:
    """A binary first frame is answered like a timeout (the original's rule)."""
    ws = await open_ws()
    await ws.send(b'{"type": "authenticate"}')
    assert (await recv(ws))["code"] == "auth_timeout"
    assert await closed_code(ws) == 1008


async def test_ninth_session_is_refused(ctx: Ctx, open_ws: Open) -> None:
    """Eight sessions per user; the ninth gets too_many_sessions (delivered) and is closed;
    after one closes, a new one is accepted."""
    alice = await make_user(ctx)
    sessions = [await open_ws(alice.token) for _ in range(8)]
    ninth = await open_ws()
    await ninth.send(json.dumps({"type": "authenticate", "token": alice.token}))
    assert await recv(ninth) == {
        "type": "error",
        "code": "too_many_sessions",
        "message": "too many concurrent connections, close another device first",
    }
    assert await closed_code(ninth) == 1008
    await sessions[0].close()
    for _ in range(100):
        if len(ctx.hub) == 7:
            break
        await asyncio.sleep(0.01)
    await open_ws(alice.token)
    assert len(ctx.hub) == 8


# -- frames after authentication ------------------------------------------------------------


async def test_errors_never_close_the_session(ctx: Ctx, open_ws: Open) -> None:
    """Unknown type, malformed JSON, a bad id: invalid_message; a frame over 1 MiB: message
    too large; binary frames ignored. The session stays open."""
    alice = await make_user(ctx)
    ws = await open_ws(alice.token)
    await ws.send('{"type": "no_such_thing"}')
    await ws.send("{not json")
    await ws.send('{"type": "ping", "timestamp": "soon"}')
    await ws.send('{"type": "join_voice", "channel_id": "x"}')
    await ws.send('{"type": "update_presence", "status": "away"}')
    await ws.send('{"type": "subscribe", "channel_ids": ["not-a-uuid"]}')
    await ws.send(b"\x00\x01binary")
    await ws.send('{"type": "ping", "timestamp": 1, "pad": "' + "x" * (1024 * 1024) + '"}')
    malformed = {"type": "error", "code": "invalid_message", "message": "malformed message"}
    assert await sync(ws) == [
        malformed,
        malformed,
        malformed,
        malformed,
        malformed,
        malformed,
        {"type": "error", "code": "validation_error", "message": "message too large"},
    ]


async def test_flood_is_rate_limited(ctx: Ctx, open_ws: Open) -> None:
    """30 frames at once pass, the rest get rate_limited; the session survives and the bucket
    refills (10/s)."""
    alice = await make_user(ctx)
    ws = await open_ws(alice.token)
    for i in range(45):
        await ws.send(json.dumps({"type": "ping", "timestamp": -100 - i}))
    frames = [await recv_skipping_heartbeat(ws) for _ in range(45)]
    pongs = [f for f in frames if f["type"] == "pong"]
    limited = [f for f in frames if f["type"] == "error"]
    assert 30 <= len(pongs) <= 33
    assert limited and all(
        f == {"type": "error", "code": "rate_limited", "message": "too many messages, slow down"}
        for f in limited
    )
    await asyncio.sleep(0.25)
    assert await sync(ws) == []


# -- subscriptions and delivery -------------------------------------------------------------


async def test_channel_events_reach_subscribed_members_only(
    client: httpx.AsyncClient, ctx: Ctx, open_ws: Open
) -> None:
    """A member subscribed to a channel gets channel_updated from PATCH; a non-member's
    subscribe is skipped silently and they get nothing; unsubscribe stops delivery."""
    alice, bob, mallory = await make_user(ctx), await make_user(ctx), await make_user(ctx)
    channel = await make_channel(ctx, None, alice.id)
    await add_channel_member(ctx, channel, bob.id)
    ws_bob, ws_mallory = await open_ws(bob.token), await open_ws(mallory.token)
    # Bob names the channel twice and in its braced form: subscribed once.
    subscribe = {"type": "subscribe", "channel_ids": [str(channel), "{" + str(channel) + "}"]}
    for ws in (ws_bob, ws_mallory):
        await ws.send(json.dumps(subscribe))
        assert await sync(ws) == []
    response = await client.patch(
        f"/api/channels/{channel}", json={"topic": "news"}, headers=alice.headers
    )
    assert response.status_code == 200, response.text
    assert await sync(ws_bob) == [
        {
            "type": "channel_updated",
            "channel_id": str(channel),
            "name": "general",
            "topic": "news",
            "read_only": False,
            "slow_mode_seconds": 0,
            "archived": False,
            "voice_background": None,
        }
    ]
    assert await sync(ws_mallory) == []
    await ws_bob.send(json.dumps({"type": "unsubscribe", "channel_ids": []}))
    await sync(ws_bob)
    await client.patch(f"/api/channels/{channel}", json={"topic": "more"}, headers=alice.headers)
    assert await sync(ws_bob) == []


async def test_kick_revokes_the_subscription_at_once(
    client: httpx.AsyncClient, ctx: Ctx, open_ws: Open
) -> None:
    """The kicked member still sees member_kicked (and the key rotation), then nothing more
    from that channel, without unsubscribing or reconnecting (AccessRevoked)."""
    alice, bob = await make_user(ctx), await make_user(ctx)
    channel = await make_channel(ctx, None, alice.id)
    await add_channel_member(ctx, channel, bob.id)
    ws_bob = await open_ws(bob.token)
    await ws_bob.send(json.dumps({"type": "subscribe", "channel_ids": [str(channel)]}))
    await sync(ws_bob)
    response = await client.post(
        f"/api/channels/{channel}/members/{bob.id}/kick", headers=alice.headers
    )
    assert response.status_code == 200, response.text
    assert [f["type"] for f in await sync(ws_bob)] == [
        "member_kicked",
        "sender_key_rotation_required",
    ]
    hub_conn = next(iter(ctx.hub.sessions_of(bob.id)))
    assert hub_conn.subscriptions == set()
    await client.patch(f"/api/channels/{channel}", json={"topic": "x"}, headers=alice.headers)
    assert await sync(ws_bob) == []
    # Subscribing again is refused silently: no longer a member.
    await ws_bob.send(json.dumps({"type": "subscribe", "channel_ids": [str(channel)]}))
    await client.patch(f"/api/channels/{channel}", json={"topic": "y"}, headers=alice.headers)
    assert await sync(ws_bob) == []


async def test_profile_update_reaches_everyone(
    client: httpx.AsyncClient, ctx: Ctx, open_ws: Open
) -> None:
    """user_profile_updated goes to every session, subscribed or not (the author's too)."""
    alice, bob = await make_user(ctx), await make_user(ctx)
    ws_alice, ws_bob = await open_ws(alice.token), await open_ws(bob.token)
    response = await client.put(
        "/api/account/profile", json={"display_name": "Alice A."}, headers=alice.headers
    )
    assert response.status_code == 200, response.text
    for ws in (ws_alice, ws_bob):
        [frame] = await sync(ws)
        assert frame["type"] == "user_profile_updated"
        assert frame["user_id"] == str(alice.id) and frame["display_name"] == "Alice A."


async def test_users_audience(ctx: Ctx, open_ws: Open) -> None:
    """A Users audience reaches every session of those users and nobody else."""
    alice, bob = await make_user(ctx), await make_user(ctx)
    a1, a2, b = await open_ws(alice.token), await open_ws(alice.token), await open_ws(bob.token)
    event = events.GroupDeleted(group_id="g")
    await ctx.broker.publish([Emitted(event, Users.of([alice.id]))])
    assert await sync(a1) == [{"type": "group_deleted", "group_id": "g"}]
    assert await sync(a2) == [{"type": "group_deleted", "group_id": "g"}]
    assert await sync(b) == []


async def test_suspension_closes_sockets(
    client: httpx.AsyncClient, ctx: Ctx, open_ws: Open, sink: RecordingSink
) -> None:
    """An admin suspends a user: their sockets get error unauthorized and close at once; a new
    authenticate is refused."""
    admin, bob = await make_user(ctx, is_admin=True), await make_user(ctx)
    ws_bob = await open_ws(bob.token)
    response = await client.post(
        f"/api/admin/users/{bob.id}/suspend", json={"reason": "spam"}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    assert await recv_skipping_heartbeat(ws_bob) == {
        "type": "error",
        "code": "unauthorized",
        "message": "invalid token",
    }
    assert await closed_code(ws_bob) == 1008
    again = await open_ws()
    await again.send(json.dumps({"type": "authenticate", "token": bob.token}))
    assert (await recv(again))["code"] == "unauthorized"


@pytest.mark.parametrize("limits", [WsLimits(queue_size=8)])
async def test_slow_consumer_gets_out_of_sync_and_is_closed(ctx: Ctx, open_ws: Open) -> None:
    """A client that does not read: frames go to the socket until it pushes back (its buffers
    and the kernel's are full), then queue; more than the session's bound queued: what is
    pending is dropped, the client gets error out_of_sync and the close code 1013; other
    sessions are unaffected."""
    alice, bob = await make_user(ctx), await make_user(ctx)
    ws_alice, ws_bob = await open_ws(alice.token), await open_ws(bob.token)
    big = "x" * 200_000  # 150 frames of 200 KB: far more than the socket buffers hold
    burst = [
        Emitted(events.GroupDeleted(group_id=f"{i}{big}"), Users.of([alice.id])) for i in range(150)
    ]
    await ctx.broker.publish(burst)  # one synchronous burst: nobody reads meanwhile
    frames = []
    code = None
    try:
        while True:
            frames.append(await recv_skipping_heartbeat(ws_alice))
    except Exception:
        code = await closed_code(ws_alice)
    assert frames[-1] == {
        "type": "error",
        "code": "out_of_sync",
        "message": "connection lagged, please refresh",
    }
    assert len(frames) < 150  # some were dropped
    assert code == 1013
    assert await sync(ws_bob) == []
