"""add_reaction / remove_reaction over real sockets."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from chatalot.context import Ctx
from tests.realtime.conftest import Open, recv_skipping_heartbeat, sync
from tests.realtime.test_messages import send, setup, sql
from tests.support.auth import make_user


def react(message_id: str, emoji: str, kind: str = "add_reaction") -> str:
    return json.dumps({"type": kind, "message_id": message_id, "emoji": emoji})


async def chat(ctx: Ctx, open_ws: Open) -> tuple[Any, Any, Any, Any, str]:
    """Alice and Bob subscribed to their channel; Alice's message id."""
    alice, bob, channel = await setup(ctx)
    a, b = await open_ws(alice.token), await open_ws(bob.token)
    for ws in (a, b):
        await ws.send(json.dumps({"type": "subscribe", "channel_ids": [str(channel)]}))
        await sync(ws)
    await a.send(send(channel))
    sent = await recv_skipping_heartbeat(a)
    await sync(b)
    return alice, bob, a, b, str(sent["id"])


async def test_add_and_remove(ctx: Ctx, open_ws: Open, client: httpx.AsyncClient) -> None:
    """Both subscribers (the reactor too) get reaction_added; twice the same emoji is one
    reaction; the history shows it; removing it tells everyone, removing nothing is silent."""
    alice, bob, a, b, message_id = await chat(ctx, open_ws)
    await b.send(react(message_id, "👍"))
    added = {
        "type": "reaction_added",
        "message_id": message_id,
        "user_id": str(bob.id),
        "emoji": "👍",
    }
    assert await recv_skipping_heartbeat(a) == added
    assert await recv_skipping_heartbeat(b) == added
    rows = await sql(
        ctx, "SELECT user_id, emoji FROM reactions WHERE message_id = $1", uuid.UUID(message_id)
    )
    assert [tuple(r) for r in rows] == [(bob.id, "👍")]
    channel = (
        await sql(ctx, "SELECT channel_id FROM messages WHERE id = $1", uuid.UUID(message_id))
    )[0][0]
    history = await client.get(f"/api/channels/{channel}/messages", headers=alice.headers)
    assert history.json()[0]["reactions"] == [{"emoji": "👍", "user_ids": [str(bob.id)]}]

    await b.send(react(message_id, "👍", "remove_reaction"))
    removed = {**added, "type": "reaction_removed"}
    assert await recv_skipping_heartbeat(a) == removed
    await b.send(react(message_id, "🎉", "remove_reaction"))  # nothing to remove
    assert [f for f in await sync(b) if f["type"] != "reaction_removed"] == []
    assert await sync(a) == []


async def test_refusals(ctx: Ctx, open_ws: Open) -> None:
    """Bad emoji, unknown message, a stranger, too fast: the spec's error frames; the session
    stays open."""
    _alice, _bob, _a, b, message_id = await chat(ctx, open_ws)
    stranger = await open_ws((await make_user(ctx)).token)
    await stranger.send(react(message_id, "👍"))
    assert await sync(stranger) == [
        {"type": "error", "code": "forbidden", "message": "not a member of this channel"}
    ]
    await b.send(react(message_id, ""))
    await b.send(react(message_id, "x" * 33, "remove_reaction"))  # no pace limit on removals
    assert await sync(b) == [
        {"type": "error", "code": "validation_error", "message": "invalid emoji"},
        {"type": "error", "code": "validation_error", "message": "invalid emoji"},
    ]
    fresh = await open_ws((await make_user(ctx)).token)
    await fresh.send(react(str(uuid.uuid4()), "👍"))
    await fresh.send(react(str(uuid.uuid4()), "👍"))  # within 200 ms of the first
    assert await sync(fresh) == [
        {"type": "error", "code": "not_found", "message": "message not found"},
        {"type": "error", "code": "rate_limited", "message": "adding reactions too quickly"},
    ]


async def test_at_most_twenty_distinct_emojis(ctx: Ctx, open_ws: Open) -> None:
    """A message with 20 different emojis takes no 21st (checked before adding)."""
    alice, _bob, a, _b, message_id = await chat(ctx, open_ws)
    others = [await make_user(ctx) for _ in range(2)]
    async with ctx.db.transaction("test_reactions") as tx:
        for i in range(20):
            await tx.conn.execute(
                "INSERT INTO reactions (message_id, user_id, emoji) VALUES ($1, $2, $3)",
                uuid.UUID(message_id),
                others[i % 2].id,
                f"e{i}",
            )
    await a.send(react(message_id, "new"))
    frames = await sync(a)
    assert frames == [
        {
            "type": "error",
            "code": "validation_error",
            "message": "maximum number of reactions reached",
        }
    ]
    assert alice.id not in {
        r[0]
        for r in await sql(
            ctx, "SELECT user_id FROM reactions WHERE message_id = $1", uuid.UUID(message_id)
        )
    }


async def test_a_bug_costs_one_frame_not_the_session(
    ctx: Ctx, open_ws: Open, monkeypatch: Any
) -> None:
    """An unexpected exception while handling a frame answers internal_error (and is logged);
    the session goes on."""
    from chatalot.services import reactions as reactions_service

    async def broken(*_args: Any) -> None:
        raise RuntimeError("boom")

    _alice, _bob, _a, b, message_id = await chat(ctx, open_ws)
    monkeypatch.setattr(reactions_service, "remove_reaction", broken)
    await b.send(react(message_id, "👍", "remove_reaction"))
    assert await sync(b) == [
        {"type": "error", "code": "internal_error", "message": "an internal error occurred"}
    ]
