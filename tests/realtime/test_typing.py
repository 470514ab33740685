"""typing / stop_typing over real sockets: membership, the 3 s dedup, the 10 s expiry, the end
of typing on send and on disconnect."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from chatalot.clock import FakeClock
from chatalot.context import Ctx
from chatalot.realtime import typing_indicators
from tests.realtime.conftest import Open, recv_skipping_heartbeat, sync
from tests.realtime.test_messages import send, setup
from tests.support.auth import make_user


def typing_frame(channel: Any, kind: str = "typing") -> str:
    return json.dumps({"type": kind, "channel_id": str(channel)})


async def pair(ctx: Ctx, open_ws: Open) -> tuple[Any, Any, Any, Any, Any]:
    alice, bob, channel = await setup(ctx)
    a, b = await open_ws(alice.token), await open_ws(bob.token)
    for ws in (a, b):
        await ws.send(json.dumps({"type": "subscribe", "channel_ids": [str(channel)]}))
        await sync(ws)
    return alice, bob, channel, a, b


def clock(ctx: Ctx) -> FakeClock:
    assert isinstance(ctx.clock, FakeClock)
    return ctx.clock


async def test_typing_is_broadcast_once_per_three_seconds(ctx: Ctx, open_ws: Open) -> None:
    alice, _bob, channel, a, b = await pair(ctx, open_ws)
    typed = {"type": "user_typing", "channel_id": str(channel), "user_id": str(alice.id)}
    await a.send(typing_frame(channel))
    assert await recv_skipping_heartbeat(b) == typed
    assert await sync(a) == [typed]  # the typist's own sessions are subscribers too
    for _ in range(3):  # the client sends one per keystroke burst: within 3 s, one broadcast
        await a.send(typing_frame(channel))
    clock(ctx).advance(2.9)
    await a.send(typing_frame(channel))
    assert await sync(a) == []
    assert await sync(b) == []
    clock(ctx).advance(0.2)
    await a.send(typing_frame(channel))
    assert await recv_skipping_heartbeat(b) == typed


async def test_stop_typing_always_broadcasts(ctx: Ctx, open_ws: Open) -> None:
    alice, _bob, channel, a, b = await pair(ctx, open_ws)
    stopped = {"type": "user_stopped_typing", "channel_id": str(channel), "user_id": str(alice.id)}
    await a.send(typing_frame(channel, "stop_typing"))
    assert await recv_skipping_heartbeat(b) == stopped
    # It cleared the dedup entry: typing again is announced at once.
    await a.send(typing_frame(channel))
    assert (await recv_skipping_heartbeat(b))["type"] == "user_typing"
    await a.send(typing_frame(channel, "stop_typing"))
    assert await recv_skipping_heartbeat(b) == stopped
    await a.send(typing_frame(channel))
    assert (await recv_skipping_heartbeat(b))["type"] == "user_typing"


async def test_non_members_are_ignored(ctx: Ctx, open_ws: Open) -> None:
    """A stranger's typing in someone else's channel: no broadcast and no error (as the
    original); a member who has not subscribed may still type (membership read from the
    database)."""
    alice, bob, channel, a, b = await pair(ctx, open_ws)
    stranger = await open_ws((await make_user(ctx)).token)
    await stranger.send(typing_frame(channel))
    await stranger.send(typing_frame(channel, "stop_typing"))
    assert await sync(stranger) == []
    assert await sync(b) == []
    other_session = await open_ws(bob.token)  # not subscribed
    await other_session.send(typing_frame(channel))
    assert await recv_skipping_heartbeat(a) == {
        "type": "user_typing",
        "channel_id": str(channel),
        "user_id": str(bob.id),
    }
    assert alice


async def test_bad_frames(ctx: Ctx, open_ws: Open) -> None:
    alice = await make_user(ctx)
    ws = await open_ws(alice.token)
    await ws.send('{"type": "typing"}')
    await ws.send('{"type": "typing", "channel_id": "nope"}')
    await ws.send('{"type": "stop_typing", "channel_id": 7}')
    malformed = {"type": "error", "code": "invalid_message", "message": "malformed message"}
    assert await sync(ws) == [malformed, malformed, malformed]


async def test_send_ends_typing(ctx: Ctx, open_ws: Open) -> None:
    """A sent message ends the sender's typing (one user_stopped_typing); a send without
    typing first costs no stop broadcast."""
    alice, _bob, channel, a, b = await pair(ctx, open_ws)
    await a.send(typing_frame(channel))
    await sync(b)
    await a.send(send(channel))
    assert [f["type"] for f in await sync(a)] == [
        "user_typing",
        "message_sent",
        "user_stopped_typing",
    ]
    frames = await sync(b)
    assert [f["type"] for f in frames] == ["new_message", "user_stopped_typing"]
    assert frames[1]["user_id"] == str(alice.id)
    await a.send(send(channel))
    assert [f["type"] for f in await sync(a)] == ["message_sent"]
    assert [f["type"] for f in await sync(b)] == ["new_message"]


async def test_typing_expires_after_ten_seconds(ctx: Ctx, open_ws: Open) -> None:
    alice, _bob, channel, a, b = await pair(ctx, open_ws)
    await a.send(typing_frame(channel))
    await sync(a)
    await sync(b)
    clock(ctx).advance(9.5)
    await typing_indicators.expire(ctx)
    assert await sync(b) == []
    clock(ctx).advance(0.5)
    await typing_indicators.expire(ctx)
    assert await sync(b) == [
        {"type": "user_stopped_typing", "channel_id": str(channel), "user_id": str(alice.id)}
    ]
    await typing_indicators.expire(ctx)  # announced once
    assert await sync(b) == []


async def test_disconnect_ends_typing_of_every_session(ctx: Ctx, open_ws: Open) -> None:
    alice, _bob, channel, a, b = await pair(ctx, open_ws)
    other = await open_ws(alice.token)
    await a.send(typing_frame(channel))
    await sync(b)
    await other.close()  # any session of the user closing ends all of their typing
    frame = await asyncio.wait_for(recv_skipping_heartbeat(b), 5)
    assert frame == {
        "type": "user_stopped_typing",
        "channel_id": str(channel),
        "user_id": str(alice.id),
    }
