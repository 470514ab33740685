"""send_message / edit_message / delete_message over real sockets."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from chatalot.context import Ctx
from chatalot.ids import ChannelId
from tests.realtime.conftest import Open, recv_skipping_heartbeat, sync
from tests.support.auth import make_user
from tests.support.spaces import add_channel_member, make_channel, sql, time_out


def send(channel_id: Any, **extra: Any) -> str:
    frame = {
        "type": "send_message",
        "channel_id": str(channel_id),
        "ciphertext": [104, 105],
        "nonce": [1, 2, 3],
        "message_type": "text",
    }
    return json.dumps(frame | extra)


async def setup(ctx: Ctx) -> tuple[Any, Any, ChannelId]:
    alice = await make_user(ctx)
    bob = await make_user(ctx)
    channel = await make_channel(ctx, None, alice.id)
    await add_channel_member(ctx, channel, bob.id)
    return alice, bob, channel


async def test_send_delivers(ctx: Ctx, open_ws: Open) -> None:
    """B (subscribed) gets new_message, A's sending session message_sent, A's other session
    new_message; the acknowledged message is in the database."""
    alice, bob, channel = await setup(ctx)
    a1, a2, b = await open_ws(alice.token), await open_ws(alice.token), await open_ws(bob.token)
    for ws in (a1, a2, b):
        await ws.send(json.dumps({"type": "subscribe", "channel_ids": [str(channel)]}))
        await sync(ws)
    await a1.send(send(channel))
    sent = await recv_skipping_heartbeat(a1)
    assert sent["type"] == "message_sent" and set(sent) == {
        "type",
        "id",
        "channel_id",
        "created_at",
    }
    assert sent["channel_id"] == str(channel)
    new = await recv_skipping_heartbeat(b)
    assert new == {
        "type": "new_message",
        "id": sent["id"],
        "channel_id": str(channel),
        "sender_id": str(alice.id),
        "ciphertext": [104, 105],
        "nonce": [1, 2, 3],
        "message_type": "text",
        "reply_to": None,
        "sender_key_id": None,
        "created_at": sent["created_at"],
    }
    assert await recv_skipping_heartbeat(a2) == new
    rows = await sql(
        ctx,
        "SELECT ciphertext, nonce, sender_id FROM messages WHERE id = $1",
        uuid.UUID(sent["id"]),
    )
    assert [tuple(r) for r in rows] == [(b"hi", b"\x01\x02\x03", alice.id)]


async def test_sending_session_gets_no_new_message(ctx: Ctx, open_ws: Open) -> None:
    alice, _bob, channel = await setup(ctx)
    a1 = await open_ws(alice.token)
    await a1.send(json.dumps({"type": "subscribe", "channel_ids": [str(channel)]}))
    await a1.send(send(channel))
    frames = await sync(a1)
    assert [f["type"] for f in frames] == ["message_sent"]


REFUSALS = [
    ("not_member", {}, ("forbidden", "not a member of this channel")),
    ("banned", {}, ("forbidden", "not a member of this channel")),
    ("timed_out", {}, None),
    ("read_only", {}, ("read_only", "this channel is read-only")),
    ("archived", {}, ("archived", "this channel is archived")),
    ("too_large", {"ciphertext": [1] * 65_537}, ("validation_error", "message too large")),
    ("empty", {"ciphertext": []}, ("validation_error", "message cannot be empty")),
    ("bad_nonce", {"nonce": [1] * 257}, ("validation_error", "nonce too large")),
    (
        "bad_reply",
        {"reply_to": str(uuid.uuid4())},
        ("validation_error", "replied-to message not found"),
    ),
    (
        "bad_thread",
        {"thread_id": str(uuid.uuid4())},
        ("validation_error", "thread root message not found"),
    ),
    ("bad_type", {"message_type": "system"}, ("validation_error", "invalid message type")),
]


@pytest.mark.parametrize(("case", "extra", "expected"), REFUSALS, ids=[r[0] for r in REFUSALS])
async def test_send_refusals(
    ctx: Ctx, open_ws: Open, case: str, extra: dict[str, Any], expected: tuple[str, str] | None
) -> None:
    _alice, bob, channel = await setup(ctx)
    if case == "not_member":
        await sql(ctx, "DELETE FROM channel_members WHERE user_id = $1", bob.id)
    elif case == "banned":
        await sql(
            ctx, "INSERT INTO channel_bans (channel_id, user_id) VALUES ($1, $2)", channel, bob.id
        )
    elif case == "timed_out":
        await time_out(ctx, channel, bob.id)
    elif case in ("read_only", "archived"):
        await sql(ctx, f"UPDATE channels SET {case} = true WHERE id = $1", channel)
    ws = await open_ws(bob.token)
    await ws.send(send(channel, **extra))
    frames = await sync(ws)
    assert len(frames) == 1 and frames[0]["type"] == "error"
    if expected is None:
        assert frames[0]["code"] == "timed_out"
        assert frames[0]["message"].startswith("you are timed out for ")
    else:
        assert (frames[0]["code"], frames[0]["message"]) == expected
    assert await sql(ctx, "SELECT id FROM messages") == []


async def test_slow_mode_and_moderator_exemption(ctx: Ctx, open_ws: Open) -> None:
    alice, bob, channel = await setup(ctx)
    await sql(
        ctx, "UPDATE channels SET slow_mode_seconds = 30, read_only = true WHERE id = $1", channel
    )
    await sql(ctx, "UPDATE channels SET read_only = false WHERE id = $1", channel)
    ws = await open_ws(bob.token)
    await ws.send(send(channel))
    await ws.send(send(channel))
    frames = await sync(ws)
    assert frames[0]["type"] == "message_sent"
    assert frames[1] == {
        "type": "error",
        "code": "slow_mode",
        "message": "slow mode: wait 30 seconds",
    }
    owner = await open_ws(alice.token)  # the channel owner is exempt
    await owner.send(send(channel))
    await owner.send(send(channel))
    assert [f["type"] for f in await sync(owner)] == ["message_sent", "message_sent"]


async def test_blocked_dm(ctx: Ctx, open_ws: Open) -> None:
    alice = await make_user(ctx)
    bob = await make_user(ctx)
    dm = await make_channel(ctx, None, None, name=None, channel_type="dm")
    await add_channel_member(ctx, dm, alice.id)
    await add_channel_member(ctx, dm, bob.id)
    await sql(
        ctx, "INSERT INTO user_blocks (blocker_id, blocked_id) VALUES ($1, $2)", bob.id, alice.id
    )
    ws = await open_ws(alice.token)
    await ws.send(send(dm))
    assert await sync(ws) == [
        {"type": "error", "code": "blocked", "message": "cannot send messages to this user"}
    ]


async def test_edit_and_delete(ctx: Ctx, open_ws: Open) -> None:
    alice, bob, channel = await setup(ctx)  # alice owns the channel
    a = await open_ws(alice.token)
    b = await open_ws(bob.token)
    for ws in (a, b):
        await ws.send(json.dumps({"type": "subscribe", "channel_ids": [str(channel)]}))
        await sync(ws)
    await b.send(send(channel))
    bob_msg = (await sync(b))[0]["id"]
    await a.send(send(channel))
    alice_msg = next(f for f in await sync(a) if f["type"] == "message_sent")["id"]
    await sync(b)
    # own edit: message_edited to subscribers, history row written
    await b.send(
        json.dumps({"type": "edit_message", "message_id": bob_msg, "ciphertext": [9], "nonce": [8]})
    )
    assert [f["type"] for f in await sync(b)] == ["message_edited"]  # the editor's too
    edited = [f for f in await sync(a) if f["type"] == "message_edited"]
    assert edited and edited[0]["message_id"] == bob_msg and edited[0]["ciphertext"] == [9]
    rows = await sql(
        ctx, "SELECT old_ciphertext FROM message_edits WHERE message_id = $1", uuid.UUID(bob_msg)
    )
    assert [r["old_ciphertext"] for r in rows] == [b"hi"]
    # editing someone else's message
    await a.send(
        json.dumps({"type": "edit_message", "message_id": bob_msg, "ciphertext": [9], "nonce": [8]})
    )
    assert {
        "type": "error",
        "code": "forbidden",
        "message": "you can only edit your own messages",
    } in await sync(a)
    # a member deleting another's message
    await b.send(json.dumps({"type": "delete_message", "message_id": alice_msg}))
    assert {
        "type": "error",
        "code": "forbidden",
        "message": "you don't have permission to delete this message",
    } in await sync(b)
    # the channel owner (moderator+) deletes bob's message; then it is gone
    await a.send(json.dumps({"type": "delete_message", "message_id": bob_msg}))
    assert await sync(a) == [{"type": "message_deleted", "message_id": bob_msg}]
    assert {"type": "message_deleted", "message_id": bob_msg} in await sync(b)
    await a.send(json.dumps({"type": "delete_message", "message_id": bob_msg}))
    assert {
        "type": "error",
        "code": "not_found",
        "message": "message not found or already deleted",
    } in await sync(a)
    # own delete
    await a.send(json.dumps({"type": "delete_message", "message_id": alice_msg}))
    assert {"type": "message_deleted", "message_id": alice_msg} in await sync(a)


async def test_a_failure_after_the_message_is_stored_is_not_a_second_answer(
    ctx: Ctx, open_ws: Open, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The message is committed and acknowledged, then publishing its events fails (a broker
    hiccup): the sender gets message_sent and nothing else for that frame. A second answer (an
    error) would be taken by the client for the answer to its next frame (CI once saw a send
    answered with a bare internal error that way around a PostgreSQL restart)."""
    alice, _bob, channel = await setup(ctx)
    a = await open_ws(alice.token)

    async def broken_sink(_events: Any) -> None:
        raise RuntimeError("the broker is away")

    monkeypatch.setattr(ctx.db, "sink", broken_sink)
    await a.send(send(channel))
    sent = await recv_skipping_heartbeat(a)
    assert sent["type"] == "message_sent"
    assert await sync(a) == []  # no second answer before the echo of a ping sent now
    rows = await sql(ctx, "SELECT count(*) FROM messages WHERE id = $1", uuid.UUID(sent["id"]))
    assert rows[0][0] == 1
