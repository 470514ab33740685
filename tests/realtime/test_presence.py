"""Presence over real sockets: presence_bulk on connect, online / offline announcements to
community mates only, chosen statuses (invisible shown as offline), several sessions."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from chatalot.context import Ctx
from tests.realtime.conftest import Open, recv, recv_skipping_heartbeat, sync
from tests.support.auth import make_user
from tests.support.spaces import add_community_member, make_community


async def mates(ctx: Ctx, count: int) -> list[Any]:
    """``count`` users sharing one community."""
    users = [await make_user(ctx) for _ in range(count)]
    community = await make_community(ctx, users[0].id)
    for user in users[1:]:
        await add_community_member(ctx, community, user.id)
    return users


async def connect_raw(open_ws: Open, token: str) -> tuple[Any, list[dict[str, Any]]]:
    """A session and the frames it got before the first heartbeat."""
    ws = await open_ws()
    await ws.send(json.dumps({"type": "authenticate", "token": token}))
    frames = []
    while True:
        frame = await recv(ws)
        if frame["type"] == "pong":
            return ws, frames
        frames.append(frame)


def presence(user: Any, status: str) -> dict[str, Any]:
    return {"type": "presence_update", "user_id": str(user.id), "status": status}


async def next_presence(ws: Any) -> dict[str, Any]:
    return await recv_skipping_heartbeat(ws, presence=True)


async def test_connect_and_disconnect(ctx: Ctx, open_ws: Open) -> None:
    alice, bob = await mates(ctx, 2)
    stranger = await make_user(ctx)
    a, first = await connect_raw(open_ws, alice.token)
    assert [f["type"] for f in first] == ["authenticated"]  # nobody online: no presence_bulk
    s, _ = await connect_raw(open_ws, stranger.token)

    b, first = await connect_raw(open_ws, bob.token)
    assert first[1:] == [{"type": "presence_bulk", "statuses": [[str(alice.id), "online"]]}]
    assert await next_presence(a) == presence(bob, "online")
    assert await sync(b, presence=True) == []  # never told about themself

    b2, first = await connect_raw(open_ws, bob.token)  # a second device: no new announcement
    assert first[1:] == [{"type": "presence_bulk", "statuses": [[str(alice.id), "online"]]}]
    await b.close()
    assert await sync(a, presence=True) == []  # bob is still online on b2
    await b2.close()
    assert await next_presence(a) == presence(bob, "offline")
    assert await sync(s, presence=True) == []  # strangers hear nothing


async def test_chosen_status(ctx: Ctx, open_ws: Open) -> None:
    alice, bob, carol = await mates(ctx, 3)
    a, _ = await connect_raw(open_ws, alice.token)
    b, _ = await connect_raw(open_ws, bob.token)
    await next_presence(a)
    await b.send(json.dumps({"type": "update_presence", "status": "dnd"}))
    assert await next_presence(a) == presence(bob, "dnd")
    assert await sync(b, presence=True) == []  # not to the user's own sessions

    await a.send(json.dumps({"type": "update_presence", "status": "invisible"}))
    assert await next_presence(b) == presence(alice, "offline")
    c, first = await connect_raw(open_ws, carol.token)
    # Bob shows as dnd; invisible Alice is not listed.
    assert first[1:] == [{"type": "presence_bulk", "statuses": [[str(bob.id), "dnd"]]}]
    await asyncio.gather(next_presence(a), next_presence(b))  # carol's online

    await a.send(json.dumps({"type": "update_presence", "status": "idle"}))
    assert await next_presence(c) == presence(alice, "idle")
    assert c


async def test_status_is_forgotten_when_offline(ctx: Ctx, open_ws: Open) -> None:
    """Coming back after being fully offline starts as online, not as the old status."""
    alice, bob = await mates(ctx, 2)
    a, _ = await connect_raw(open_ws, alice.token)
    b, _ = await connect_raw(open_ws, bob.token)
    await next_presence(a)
    await b.send(json.dumps({"type": "update_presence", "status": "idle"}))
    await next_presence(a)
    await b.close()
    assert await next_presence(a) == presence(bob, "offline")
    b, _ = await connect_raw(open_ws, bob.token)
    assert await next_presence(a) == presence(bob, "online")
    _c, first = await connect_raw(open_ws, alice.token)
    assert first[1:] == [{"type": "presence_bulk", "statuses": [[str(bob.id), "online"]]}]


async def test_bad_status(ctx: Ctx, open_ws: Open) -> None:
    alice, bob = await mates(ctx, 2)
    a, _ = await connect_raw(open_ws, alice.token)
    b, _ = await connect_raw(open_ws, bob.token)
    await next_presence(a)
    for text in (
        '{"type": "update_presence", "status": "away"}',
        '{"type": "update_presence"}',
        '{"type": "update_presence", "status": 1}',
    ):
        await b.send(text)
    malformed = {"type": "error", "code": "invalid_message", "message": "malformed message"}
    assert await sync(b, presence=True) == [malformed] * 3
    assert await sync(a, presence=True) == []
