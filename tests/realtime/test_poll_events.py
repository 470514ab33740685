"""poll_created, poll_voted, poll_vote_removed and poll_closed reach the channel's subscribers
over real sockets, and nobody else."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import msgspec
from websockets.asyncio.client import ClientConnection

from chatalot.context import Ctx
from chatalot.protocol import events
from tests.realtime.conftest import Open, recv_skipping_heartbeat, sync
from tests.realtime.test_messages import setup
from tests.support.auth import make_user


async def subscribe(ws: ClientConnection, channel: Any) -> None:
    await ws.send(json.dumps({"type": "subscribe", "channel_ids": [str(channel)]}))
    await sync(ws)


async def both_get(a: ClientConnection, b: ClientConnection) -> dict[str, Any]:
    """The next frame of both subscribers: the same one."""
    frame = await recv_skipping_heartbeat(a)
    assert await recv_skipping_heartbeat(b) == frame
    return frame


async def test_poll_lifecycle_reaches_subscribers(
    ctx: Ctx, open_ws: Open, client: httpx.AsyncClient
) -> None:
    """Creating, voting, switching the vote, removing it and closing: each event with the
    original's keys to both subscribers (the actor's session too); a refused action sends
    nothing; a member's unsubscribed session, an outsider and an outsider who tried to
    subscribe to the channel get nothing."""
    alice, bob, channel = await setup(ctx)
    a, b = await open_ws(alice.token), await open_ws(bob.token)
    for ws in (a, b):
        await subscribe(ws, channel)
    quiet = await open_ws(bob.token)  # bob's second session, not subscribed
    stranger_user = await make_user(ctx)
    stranger = await open_ws(stranger_user.token)
    await subscribe(stranger, channel)  # not a member: skipped silently

    response = await client.post(
        f"/api/channels/{channel}/polls",
        json={"question": "Tea or coffee?", "options": ["Tea", "Coffee"]},
        headers=alice.headers,
    )
    assert response.status_code == 200
    poll = response.json()["id"]
    base = {"poll_id": poll, "channel_id": str(channel)}
    assert await both_get(a, b) == {
        "type": "poll_created",
        **base,
        "created_by": str(alice.id),
        "question": "Tea or coffee?",
    }

    vote = f"/api/polls/{poll}/vote"
    assert (
        await client.post(vote, json={"option_index": 0}, headers=bob.headers)
    ).status_code == 200
    voter = {**base, "voter_id": str(bob.id)}
    assert await both_get(a, b) == {"type": "poll_voted", **voter, "option_index": 0}

    assert (
        await client.post(vote, json={"option_index": 1}, headers=bob.headers)
    ).status_code == 200
    assert await both_get(a, b) == {"type": "poll_vote_removed", **voter, "option_index": 0}
    assert await both_get(a, b) == {"type": "poll_voted", **voter, "option_index": 1}

    refused = await client.post(vote, json={"option_index": 5}, headers=bob.headers)
    assert refused.status_code == 400
    outsider_vote = await client.post(vote, json={"option_index": 0}, headers=stranger_user.headers)
    assert outsider_vote.status_code == 403

    assert (await client.delete(f"{vote}/1", headers=bob.headers)).status_code == 200
    assert await both_get(a, b) == {"type": "poll_vote_removed", **voter, "option_index": 1}

    assert (await client.post(f"/api/polls/{poll}/close", headers=bob.headers)).status_code == 403
    assert (await client.post(f"/api/polls/{poll}/close", headers=alice.headers)).status_code == 200
    assert await both_get(a, b) == {"type": "poll_closed", **base}

    assert await sync(a) == [] and await sync(b) == []
    assert await sync(quiet) == [] and await sync(stranger) == []


async def test_anonymous_poll_events_have_no_voter(
    ctx: Ctx, open_ws: Open, client: httpx.AsyncClient
) -> None:
    """On an anonymous poll every vote event carries ``voter_id: null``, also to the voter's
    own subscribed session."""
    alice, bob, channel = await setup(ctx)
    a, b = await open_ws(alice.token), await open_ws(bob.token)
    for ws in (a, b):
        await subscribe(ws, channel)
    response = await client.post(
        f"/api/channels/{channel}/polls",
        json={"question": "Secret?", "options": ["x", "y"], "anonymous": True},
        headers=alice.headers,
    )
    poll = response.json()["id"]
    assert (await both_get(a, b))["type"] == "poll_created"
    vote = f"/api/polls/{poll}/vote"
    assert (
        await client.post(vote, json={"option_index": 0}, headers=bob.headers)
    ).status_code == 200
    assert (
        await client.post(vote, json={"option_index": 1}, headers=bob.headers)
    ).status_code == 200
    base = {"poll_id": poll, "channel_id": str(channel), "voter_id": None}
    assert await both_get(a, b) == {"type": "poll_voted", **base, "option_index": 0}
    assert await both_get(a, b) == {"type": "poll_vote_removed", **base, "option_index": 0}
    assert await both_get(a, b) == {"type": "poll_voted", **base, "option_index": 1}
    assert await sync(a) == [] and await sync(b) == []


def test_poll_events_are_documented() -> None:
    """docs/protocol.md names each poll event with its exact keys (from protocol/events.py)."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()
    for struct in (events.PollCreated, events.PollVoted, events.PollClosed):
        tag = struct.__struct_config__.tag
        fields = ", ".join(f.encode_name for f in msgspec.structs.fields(struct))
        assert f"`{tag} {{{fields}}}`" in text, tag
    assert "`poll_vote_removed {...same keys}`" in text
    assert msgspec.structs.fields(events.PollVoteRemoved) == msgspec.structs.fields(
        events.PollVoted
    )
