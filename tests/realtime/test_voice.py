"""Voice calls over real sockets: join_voice, leave_voice, kick_from_voice with their exact
frames and recipients, the join/leave pace, refusals, the 25-participant cap under real
concurrency, WebRTC relays (sizes, same-call rule, every session of the target), floods, and
the REST channel kick/ban/leave that hang up the removed member."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from chatalot.app import create_app
from chatalot.clock import FakeClock
from chatalot.config import PoolSettings, Settings
from chatalot.context import Ctx
from chatalot.db.database import Database
from chatalot.db.pool import open_pool
from chatalot.ids import ChannelId, UserId
from chatalot.realtime.broker import LocalBroker
from chatalot.realtime.hub import Hub
from chatalot.realtime.ws_protocol import FastWebSocketProtocol
from chatalot.security.passwords import PasswordHasher
from chatalot.security.tokens import JwtKeys
from tests.api.test_admin_users import make_dm
from tests.conftest import build_ctx
from tests.realtime.conftest import Open, recv, sync
from tests.support.auth import TestUser, make_user
from tests.support.pg import PgServer
from tests.support.spaces import add_channel_member, make_channel

CALL = "6f1f3c1e-4b7a-4d52-9a43-3c1b2a0d9e11"  # the client's own call id, passed through


def frame(kind: str, **fields: Any) -> str:
    return json.dumps(
        {"type": kind, **{k: str(v) if isinstance(v, uuid.UUID) else v for k, v in fields.items()}}
    )


def join(channel: Any) -> str:
    return frame("join_voice", channel_id=channel)


def leave(channel: Any) -> str:
    return frame("leave_voice", channel_id=channel)


def kick(channel: Any, user: Any) -> str:
    return frame("kick_from_voice", channel_id=channel, user_id=user)


def offer(target: Any, sdp: str = "v=0\r\n", kind: str = "rtc_offer") -> str:
    return frame(kind, target_user_id=target, session_id=CALL, sdp=sdp)


def candidate(target: Any, text: str = "candidate:1 1 udp 1 127.0.0.1 9 typ host") -> str:
    return frame("rtc_ice_candidate", target_user_id=target, session_id=CALL, candidate=text)


def state(channel: Any, *users: TestUser) -> dict[str, Any]:
    return {
        "type": "voice_state_update",
        "channel_id": str(channel),
        "participants": [str(u.id) for u in users],
    }


def joined(channel: Any, user: TestUser) -> dict[str, Any]:
    return {"type": "user_joined_voice", "channel_id": str(channel), "user_id": str(user.id)}


def left(channel: Any, user: TestUser) -> dict[str, Any]:
    return {"type": "user_left_voice", "channel_id": str(channel), "user_id": str(user.id)}


def error(code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message}


NOT_MEMBER = error("forbidden", "not a member of this channel")
NOT_VOICE = error("validation_error", "not a voice channel")
NOT_IN_CALL = error("forbidden", "target user not in your voice session")
CANNOT_KICK = error("forbidden", "insufficient permissions to kick from voice")
TOO_FAST = error("rate_limited", "please wait before joining/leaving voice again")
FULL = error("voice_full", "voice channel is full (max 25 participants)")


def pace(ctx: Ctx) -> None:
    """Two seconds later: one more join/leave allowed."""
    assert isinstance(ctx.clock, FakeClock)
    ctx.clock.advance(2.0)


async def voice_channel(ctx: Ctx, owner: TestUser, *members: TestUser) -> ChannelId:
    channel = await make_channel(ctx, None, owner.id, name="voice", channel_type="voice")
    for member in members:
        await add_channel_member(ctx, channel, member.id)
    return channel


async def subscribed(open_ws: Open, user: TestUser, *channels: Any) -> ClientConnection:
    ws = await open_ws(user.token)
    if channels:
        await ws.send(frame("subscribe", channel_ids=[str(c) for c in channels]))
        await sync(ws)
    return ws


async def rows(ctx: Ctx, query: str, *args: Any) -> list[Any]:
    async with ctx.db.connection() as conn:
        return list(await conn.fetch(query, *args))


async def active(ctx: Ctx, channel: Any) -> list[UserId]:
    """The active participants of the channel's active call, first joined first."""
    found = await rows(
        ctx,
        """
        SELECT p.user_id FROM voice_session_participants p
          JOIN voice_sessions s ON s.id = p.session_id
         WHERE s.channel_id = $1 AND s.ended_at IS NULL AND p.left_at IS NULL
         ORDER BY p.joined_at, p.user_id
        """,
        channel,
    )
    return [r["user_id"] for r in found]


# -- join and leave --------------------------------------------------------------------------------


async def test_join_replies_and_broadcasts(ctx: Ctx, open_ws: Open) -> None:
    """The joiner's session gets the participant list at once (twice when subscribed, as the
    original), the channel's subscribers voice_state_update then user_joined_voice; a session
    not subscribed and an outsider get nothing. The call and its participants are stored, with
    this process as their holder."""
    alice, bob = await make_user(ctx), await make_user(ctx)
    channel = await voice_channel(ctx, alice, bob)
    a, b = await subscribed(open_ws, alice, channel), await subscribed(open_ws, bob, channel)
    quiet = await subscribed(open_ws, bob)  # bob's other session, not subscribed
    stranger = await subscribed(open_ws, await make_user(ctx))

    await a.send(join(channel))
    assert await sync(a) == [state(channel, alice), state(channel, alice), joined(channel, alice)]
    assert await sync(b) == [state(channel, alice), joined(channel, alice)]
    pace(ctx)
    unsubscribed_joiner = quiet
    await unsubscribed_joiner.send(join(channel))
    assert await sync(unsubscribed_joiner) == [state(channel, alice, bob)]  # the reply only
    assert await sync(a) == [state(channel, alice, bob), joined(channel, bob)]
    assert await sync(b) == [state(channel, alice, bob), joined(channel, bob)]
    assert await sync(stranger) == []

    assert await active(ctx, channel) == [alice.id, bob.id]
    [call] = await rows(
        ctx, "SELECT started_by, ended_at FROM voice_sessions WHERE channel_id = $1", channel
    )
    assert (call["started_by"], call["ended_at"]) == (alice.id, None)
    holders = await rows(ctx, "SELECT DISTINCT server_process FROM voice_session_participants")
    assert [r["server_process"] for r in holders] == [ctx.broker.state.process_id]


async def test_subscribe_reports_calls_going_on(ctx: Ctx, open_ws: Open) -> None:
    """subscribe answers voice_state_update for each subscribed channel with a call, none for
    a channel without one or one the user may not subscribe to."""
    alice, bob = await make_user(ctx), await make_user(ctx)
    channel = await voice_channel(ctx, alice, bob)
    empty = await voice_channel(ctx, alice, bob)
    secret = await voice_channel(ctx, alice)
    a = await subscribed(open_ws, alice)
    await a.send(join(channel))
    await sync(a)
    pace(ctx)
    other = await subscribed(open_ws, alice)
    await other.send(join(secret))  # alice moves to the secret channel's call
    await sync(other)
    pace(ctx)
    await a.send(join(channel))  # and back
    await sync(a)
    b = await open_ws(bob.token)
    await b.send(frame("subscribe", channel_ids=[str(empty), str(channel), str(secret)]))
    assert await sync(b) == [state(channel, alice)]


async def test_leave(ctx: Ctx, open_ws: Open) -> None:
    """leave_voice: user_left_voice then voice_state_update with who remains; the last one out
    ends the call. Leaving a call one is not in does nothing, even for a non-member."""
    alice, bob = await make_user(ctx), await make_user(ctx)
    channel = await voice_channel(ctx, alice, bob)
    a, b = await subscribed(open_ws, alice, channel), await subscribed(open_ws, bob, channel)
    await a.send(join(channel))
    await sync(a)
    await b.send(join(channel))
    await sync(b)
    await sync(a)
    pace(ctx)
    await b.send(leave(channel))
    assert await sync(b) == [left(channel, bob), state(channel, alice)]
    assert await sync(a) == [left(channel, bob), state(channel, alice)]
    pace(ctx)
    await b.send(leave(channel))  # not in it any more
    assert await sync(b) == []
    stranger = await subscribed(open_ws, await make_user(ctx))
    await stranger.send(leave(channel))
    assert await sync(stranger) == []
    assert await sync(a) == []
    pace(ctx)
    await a.send(leave(channel))
    assert await sync(a) == [left(channel, alice), state(channel)]
    assert await sync(b) == [left(channel, alice), state(channel)]
    [call] = await rows(ctx, "SELECT ended_at FROM voice_sessions WHERE channel_id = $1", channel)
    assert call["ended_at"] is not None
    pace(ctx)
    await a.send(join(channel))  # a new call
    await sync(a)
    assert len(await rows(ctx, "SELECT id FROM voice_sessions WHERE channel_id = $1", channel)) == 2


async def test_join_refusals(ctx: Ctx, open_ws: Open, client: httpx.AsyncClient) -> None:
    """Not a member, a channel that does not exist (the same answer: existence stays private),
    a text, gallery or DM channel the user is in: refused, nothing stored, nothing broadcast;
    the user stays in the call they were in."""
    alice, bob = await make_user(ctx), await make_user(ctx)
    channel = await voice_channel(ctx, alice)
    text = await make_channel(ctx, None, bob.id)
    gallery = await make_channel(ctx, None, bob.id, channel_type="gallery")
    dm = await make_dm(ctx, bob.id, alice.id)
    home = await voice_channel(ctx, bob)
    watcher = await subscribed(open_ws, alice, channel)
    b = await subscribed(open_ws, bob, home)
    await b.send(join(home))
    await sync(b)
    for target, answer in [
        (channel, NOT_MEMBER),
        (uuid.uuid4(), NOT_MEMBER),
        (text, NOT_VOICE),
        (gallery, NOT_VOICE),
        (dm, NOT_VOICE),
    ]:
        pace(ctx)
        await b.send(join(target))
        assert await sync(b) == [answer]
    assert await sync(watcher) == []
    assert await active(ctx, home) == [bob.id]
    calls = await rows(ctx, "SELECT channel_id FROM voice_sessions")
    assert [r["channel_id"] for r in calls] == [home]


async def test_joining_another_call_leaves_the_first(ctx: Ctx, open_ws: Open) -> None:
    """A user is in one call at a time: joining B leaves A (user_left_voice and the new list to
    A's subscribers; A ends when empty), before B's own events."""
    alice, bob = await make_user(ctx), await make_user(ctx)
    first = await voice_channel(ctx, alice, bob)
    second = await voice_channel(ctx, alice, bob)
    a = await subscribed(open_ws, alice, first, second)
    b = await subscribed(open_ws, bob, first)
    await a.send(join(first))
    await sync(a)
    await b.send(join(first))
    await sync(b)
    await sync(a)
    pace(ctx)
    await a.send(join(second))
    assert await sync(a) == [
        state(second, alice),  # the reply, first
        left(first, alice),
        state(first, bob),
        state(second, alice),
        joined(second, alice),
    ]
    assert await sync(b) == [left(first, alice), state(first, bob)]
    assert await active(ctx, first) == [bob.id]
    pace(ctx)
    await b.send(join(second))
    await sync(b)
    assert await active(ctx, second) == [alice.id, bob.id]
    [call] = await rows(ctx, "SELECT ended_at FROM voice_sessions WHERE channel_id = $1", first)
    assert call["ended_at"] is not None


async def test_join_leave_pace(ctx: Ctx, open_ws: Open) -> None:
    """Two joins/leaves at once (a leave then a join switches calls, as the web client does),
    then one per 2 s, for all of a user's sessions together; other users and kicks are not
    paced."""
    alice, bob = await make_user(ctx), await make_user(ctx)
    channel = await voice_channel(ctx, alice, bob)
    a1, a2 = await subscribed(open_ws, alice), await subscribed(open_ws, alice)
    b = await subscribed(open_ws, bob)
    await a1.send(join(channel))
    await a1.send(leave(channel))
    await a1.send(join(channel))
    answers = await sync(a1)
    assert [f["type"] for f in answers] == ["voice_state_update", "error"]
    assert answers[1] == TOO_FAST
    await a2.send(join(channel))
    assert await sync(a2) == [TOO_FAST]  # the same bucket for every session of alice
    await b.send(join(channel))
    assert (await sync(b))[0]["type"] == "voice_state_update"
    assert await active(ctx, channel) == [bob.id]
    assert isinstance(ctx.clock, FakeClock)
    ctx.clock.advance(1.9)
    await a2.send(join(channel))
    assert await sync(a2) == [TOO_FAST]
    ctx.clock.advance(0.1)
    await a2.send(join(channel))
    assert (await sync(a2))[0] == state(channel, bob, alice)
    await a2.send(kick(channel, bob.id))  # no pace for kicks: the owner kicks bob
    assert await sync(a2) == []  # (not subscribed: the events went to the subscribers)
    assert await active(ctx, channel) == [alice.id]


async def test_cap_and_rejoin(ctx: Ctx, open_ws: Open) -> None:
    """25 participants: the 26th is refused with voice_full (and stays in their own call); a
    participant may still join again, and once someone leaves the next one gets in."""
    owner = await make_user(ctx)
    channel = await voice_channel(ctx, owner)
    crowd = [await make_user(ctx) for _ in range(24)]
    for member in crowd:
        await add_channel_member(ctx, channel, member.id)
    o = await subscribed(open_ws, owner)
    await o.send(join(channel))
    await sync(o)
    sockets = []
    for member in crowd:
        ws = await subscribed(open_ws, member)
        await ws.send(join(channel))
        sockets.append(ws)
    for ws in sockets:
        assert (await sync(ws))[0]["type"] == "voice_state_update"
    late = await make_user(ctx)
    await add_channel_member(ctx, channel, late.id)
    own = await voice_channel(ctx, late)
    w = await subscribed(open_ws, late)
    await w.send(join(own))
    await w.send(join(channel))
    answers = await sync(w)
    assert answers[-1] == FULL
    assert await active(ctx, own) == [late.id]
    pace(ctx)
    await o.send(join(channel))  # already in: joins again
    assert len((await sync(o))[0]["participants"]) == 25
    await sockets[0].send(leave(channel))
    await sync(sockets[0])
    await w.send(join(channel))
    assert len((await sync(w))[0]["participants"]) == 25
    assert late.id in await active(ctx, channel)


# -- kick -----------------------------------------------------------------------------------------


async def test_kick_rank_rule(ctx: Ctx, open_ws: Open) -> None:
    """kick_from_voice: the caller's channel role strictly above the target's. A moderator kicks
    a member (kicked_from_voice, user_left_voice, voice_state_update to the subscribers); not
    an admin, not a fellow moderator; a member kicks nobody; instance staff kick a participant
    without a channel role; nobody kicks the instance owner. Kicking someone not in the call:
    nothing."""
    owner, moderator, other_mod = await make_user(ctx), await make_user(ctx), await make_user(ctx)
    member, admin = await make_user(ctx), await make_user(ctx)
    staff = await make_user(ctx, is_admin=True)
    boss = await make_user(ctx, is_owner=True)
    channel = await voice_channel(ctx, owner, member)
    await add_channel_member(ctx, channel, moderator.id, "moderator")
    await add_channel_member(ctx, channel, other_mod.id, "moderator")
    await add_channel_member(ctx, channel, admin.id, "admin")
    await add_channel_member(ctx, channel, boss.id, "member")
    sockets = {}
    for user in (owner, moderator, other_mod, member, admin, boss):
        sockets[user.id] = ws = await subscribed(open_ws, user, channel)
        await ws.send(join(channel))
        await sync(ws)
    for ws in sockets.values():
        await sync(ws)
    watcher = sockets[owner.id]
    m = sockets[moderator.id]
    for target in (admin, other_mod, boss):
        await m.send(kick(channel, target.id))
    await sockets[member.id].send(kick(channel, moderator.id))
    assert await sync(m) == [CANNOT_KICK] * 3
    assert await sync(sockets[member.id]) == [CANNOT_KICK]
    assert await sync(watcher) == []

    await m.send(kick(channel, member.id))
    kicked = {
        "type": "kicked_from_voice",
        "channel_id": str(channel),
        "user_id": str(member.id),
        "kicked_by": str(moderator.id),
    }
    remaining = state(channel, owner, moderator, other_mod, admin, boss)
    assert await sync(m) == [kicked, left(channel, member), remaining]
    assert await sync(watcher) == [kicked, left(channel, member), remaining]
    await m.send(kick(channel, member.id))  # not in the call any more
    assert await sync(m) == []

    # A participant who lost their channel role (removed with SQL): only instance staff.
    await rows(
        ctx, "DELETE FROM channel_members WHERE channel_id = $1 AND user_id = $2", channel, admin.id
    )
    await sockets[owner.id].send(kick(channel, admin.id))
    assert await sync(sockets[owner.id]) == [CANNOT_KICK]
    s = await subscribed(open_ws, staff)
    await s.send(kick(channel, admin.id))
    await s.send(kick(channel, boss.id))
    assert await sync(s) == [CANNOT_KICK]  # staff is no subscriber: only the refusal
    by_staff = {**kicked, "user_id": str(admin.id), "kicked_by": str(staff.id)}
    assert await sync(watcher) == [
        by_staff,
        left(channel, admin),
        state(channel, owner, moderator, other_mod, boss),
    ]
    assert await active(ctx, channel) == [owner.id, moderator.id, other_mod.id, boss.id]
    await s.send(kick(uuid.uuid4(), owner.id))  # a channel that does not exist
    assert await sync(s) == []


# -- WebRTC relays ----------------------------------------------------------------------------------


async def test_relays_reach_every_session_of_the_target(ctx: Ctx, open_ws: Open) -> None:
    """Offer, answer and candidate between two participants reach every session of the target
    (subscribed or not) with from_user_id and the client's session_id; the sender's own sessions
    get nothing."""
    alice, bob = await make_user(ctx), await make_user(ctx)
    channel = await voice_channel(ctx, alice, bob)
    a, b1 = await subscribed(open_ws, alice, channel), await subscribed(open_ws, bob, channel)
    b2 = await subscribed(open_ws, bob)
    a_other = await subscribed(open_ws, alice)
    await a.send(join(channel))
    await sync(a)
    await b1.send(join(channel))
    for ws in (b1, a, b2):
        await sync(ws)
    await a.send(offer(bob.id, "v=0 offer"))
    await a.send(candidate(bob.id, "candidate:a"))
    await b2.send(offer(alice.id, "v=0 answer", kind="rtc_answer"))
    answer = {
        "type": "rtc_answer",
        "from_user_id": str(bob.id),
        "session_id": CALL,
        "sdp": "v=0 answer",
    }
    assert await sync(a) == [answer]
    relayed = [
        {
            "type": "rtc_offer",
            "from_user_id": str(alice.id),
            "session_id": CALL,
            "sdp": "v=0 offer",
        },
        {
            "type": "rtc_ice_candidate",
            "from_user_id": str(alice.id),
            "session_id": CALL,
            "candidate": "candidate:a",
        },
    ]
    assert await sync(b1) == relayed
    assert await sync(b2) == relayed
    assert await sync(a_other) == [answer]  # addressed to alice; nothing of her own


async def test_relays_only_within_one_call(ctx: Ctx, open_ws: Open) -> None:
    """A member outside the call, a participant of another call, a user in no call: forbidden
    "target user not in your voice session" for every kind, and the target gets nothing; after
    the target left, the same; a member removed from the channel cannot signal either."""
    alice, bob, carol, dave = [await make_user(ctx) for _ in range(4)]
    channel = await voice_channel(ctx, alice, bob, carol)
    elsewhere = await voice_channel(ctx, dave, alice)
    a, b = await subscribed(open_ws, alice), await subscribed(open_ws, bob)
    c, d = await subscribed(open_ws, carol), await subscribed(open_ws, dave)
    for ws, call in ((a, channel), (b, channel), (d, elsewhere)):
        await ws.send(join(call))
        await sync(ws)
    for sender, target in ((c, alice), (d, alice), (a, dave), (a, carol)):
        await sender.send(offer(target.id))
        await sender.send(offer(target.id, kind="rtc_answer"))
        await sender.send(candidate(target.id))
        assert await sync(sender) == [NOT_IN_CALL] * 3
    assert await sync(a) == []
    assert await sync(d) == []
    await rows(
        ctx, "DELETE FROM channel_members WHERE channel_id = $1 AND user_id = $2", channel, bob.id
    )
    await b.send(candidate(alice.id))
    await a.send(candidate(bob.id))
    assert await sync(b) == [NOT_IN_CALL]
    assert await sync(a) == [NOT_IN_CALL]
    pace(ctx)
    await rows(
        ctx, "INSERT INTO channel_members (channel_id, user_id) VALUES ($1, $2)", channel, bob.id
    )
    await b.send(leave(channel))
    await sync(b)
    await a.send(candidate(bob.id))
    assert await sync(a) == [NOT_IN_CALL]
    assert await sync(b) == []


@pytest.mark.parametrize(
    ("make", "answer"),
    [
        (lambda t: offer(t, ""), error("validation_error", "SDP cannot be empty")),
        (
            lambda t: offer(t, "", kind="rtc_answer"),
            error("validation_error", "SDP cannot be empty"),
        ),
        (lambda t: offer(t, "x" * 32_769), error("validation_error", "SDP too large")),
        (lambda t: offer(t, "é" * 16_385), error("validation_error", "SDP too large")),
        (lambda t: candidate(t, ""), error("validation_error", "ICE candidate cannot be empty")),
        (lambda t: candidate(t, "x" * 2_049), error("validation_error", "ICE candidate too large")),
        (lambda t: candidate(t, "€" * 683), error("validation_error", "ICE candidate too large")),
    ],
)
async def test_signalling_sizes(ctx: Ctx, open_ws: Open, make: Any, answer: dict[str, Any]) -> None:
    """Sizes in UTF-8 bytes, checked before the same-call rule (so also for a user in no call);
    the limits themselves pass."""
    alice, bob = await make_user(ctx), await make_user(ctx)
    channel = await voice_channel(ctx, alice, bob)
    a, b = await subscribed(open_ws, alice), await subscribed(open_ws, bob)
    outsider = await subscribed(open_ws, await make_user(ctx))
    await outsider.send(make(bob.id))
    assert await sync(outsider) == [answer]
    for ws in (a, b):
        await ws.send(join(channel))
        await sync(ws)
    await a.send(make(bob.id))
    assert await sync(a) == [answer]
    await a.send(offer(bob.id, "é" * 16_384))
    await a.send(candidate(bob.id, "€" * 682 + "xx"))
    assert await sync(a) == []
    assert [f["type"] for f in await sync(b)] == ["rtc_offer", "rtc_ice_candidate"]


# -- floods and races -----------------------------------------------------------------------------


async def test_join_leave_flood(ctx: Ctx, open_ws: Open) -> None:
    """Three users flood join/leave from two sessions each, over two channels, while time moves:
    every frame is answered (a list, a pace refusal, or nothing for a leave), never an
    internal error, and in the end the stored calls match what the users did last."""
    users = [await make_user(ctx) for _ in range(3)]
    first = await voice_channel(ctx, users[0], *users[1:])
    second = await voice_channel(ctx, users[0], *users[1:])
    sockets = [await subscribed(open_ws, u) for u in users for _ in range(2)]
    assert isinstance(ctx.clock, FakeClock)
    kinds: Counter[str] = Counter()
    for round_ in range(8):  # 3 frames a round: within the per-session frame bucket (30)
        for i, ws in enumerate(sockets):
            channel = first if (i + round_) % 2 else second
            await ws.send(join(channel) if (i + round_) % 3 else leave(channel))
            await ws.send(join(channel))
        ctx.clock.advance(0.7)
        for ws in sockets:
            for answer in await sync(ws):
                kinds[answer.get("code", answer["type"])] += 1
    assert set(kinds) <= {
        "voice_state_update",
        "user_joined_voice",
        "user_left_voice",
        "rate_limited",
    }
    assert kinds["rate_limited"] > 0 and kinds["voice_state_update"] > 0
    ctx.clock.advance(10)
    for user_index, ws in enumerate(sockets[::2]):
        await ws.send(leave(first if user_index else second))
        await sync(ws)
    in_calls = await rows(
        ctx,
        """
        SELECT p.user_id, s.channel_id FROM voice_session_participants p
          JOIN voice_sessions s ON s.id = p.session_id
         WHERE p.left_at IS NULL AND s.ended_at IS NULL
        """,
    )
    per_user = Counter(r["user_id"] for r in in_calls)
    assert all(n == 1 for n in per_user.values())  # never in two calls
    for user_index, user in enumerate(users):
        channel = first if user_index else second
        assert (user.id, channel) not in {(r["user_id"], r["channel_id"]) for r in in_calls}
    empty_active = await rows(
        ctx,
        """
        SELECT s.id FROM voice_sessions s WHERE s.ended_at IS NULL AND NOT EXISTS
          (SELECT 1 FROM voice_session_participants p WHERE p.session_id = s.id AND p.left_at IS NULL)
        """,
    )
    assert empty_active == []


@pytest.fixture
async def pooled_ws(
    pg: PgServer, fresh_db: str, settings: Settings, passwords: PasswordHasher, jwt_keys: JwtKeys
) -> AsyncIterator[tuple[Ctx, str]]:
    """A server on a real pool (each frame its own connection and transaction) and a system
    clock: (ctx, ws url)."""
    pool = await open_pool(pg.url(fresh_db), PoolSettings(max_connections=30, min_connections=2))
    hub = Hub()
    broker = LocalBroker(hub)
    ctx = build_ctx(
        Database(pool, acquire_timeout=10, sink=broker.publish),
        settings,
        passwords,
        jwt_keys,
        hub=hub,
        broker=broker,
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        create_app(ctx), ws=FastWebSocketProtocol, lifespan="off", log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield ctx, f"ws://127.0.0.1:{port}/ws"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()
        await pool.close()


@pytest.mark.parametrize("call_exists", [False, True])
async def test_26_concurrent_joins_never_give_26(
    pooled_ws: tuple[Ctx, str], call_exists: bool
) -> None:
    """26 members send join_voice at the same moment on their own sockets (each its own
    transaction on the pool), with no call yet (25 get in, one voice_full) or a call with a 27th
    member in it (24 get in, two voice_full); never an internal error, never 26 participants."""
    ctx, url = pooled_ws
    owner = await make_user(ctx)
    channel = await voice_channel(ctx, owner)
    users = [await make_user(ctx) for _ in range(26)]
    for user in users:
        await add_channel_member(ctx, channel, user.id)
    sockets = []
    for user in [owner, *users]:
        ws = await connect(url, open_timeout=10)
        await ws.send(json.dumps({"type": "authenticate", "token": user.token}))
        assert (await recv(ws))["type"] == "authenticated"
        sockets.append(ws)
    host, sockets = sockets[0], sockets[1:]
    if call_exists:
        await host.send(join(channel))
        assert (await first_answer(host))["type"] == "voice_state_update"
    try:
        await asyncio.gather(*(ws.send(join(channel)) for ws in sockets))
        answers = await asyncio.gather(*(first_answer(ws) for ws in sockets))
    finally:
        await asyncio.gather(*(ws.close() for ws in [host, *sockets]))
    kinds = Counter(a.get("code", a["type"]) for a in answers)
    refused = 2 if call_exists else 1
    assert kinds == {"voice_state_update": 26 - refused, "voice_full": refused}, answers
    assert [a for a in answers if a["type"] == "error"] == [FULL] * refused
    in_call = await active(ctx, channel)
    assert len(in_call) == 25
    assert (owner.id in in_call) is call_exists
    biggest = max(len(a["participants"]) for a in answers if a["type"] == "voice_state_update")
    assert biggest <= 25


async def first_answer(ws: ClientConnection) -> dict[str, Any]:
    while True:
        got = await recv(ws, 30)
        if got["type"] in ("voice_state_update", "error"):
            return got


# -- REST removal hangs up --------------------------------------------------------------------------


async def test_rest_kick_ban_and_leave_hang_up(
    ctx: Ctx, open_ws: Open, client: httpx.AsyncClient
) -> None:
    """REST channel kick: member_kicked, user_left_voice, voice_state_update, then the sender-key
    rotation, to the subscribers (the kicked member's own session included, until the
    revocation); ban the same with member_banned; leaving the channel hangs up too. A member
    kicked while not in the call: no voice event."""
    owner, bob, carol, dave = [await make_user(ctx) for _ in range(4)]
    channel = await voice_channel(ctx, owner, bob, carol, dave)
    o = await subscribed(open_ws, owner, channel)
    others = {u.id: await subscribed(open_ws, u, channel) for u in (bob, carol, dave)}
    for ws in (o, others[bob.id], others[carol.id]):
        await ws.send(join(channel))
        await sync(ws)
    for ws in (o, *others.values()):
        await sync(ws)

    base = f"/api/channels/{channel}/members"
    assert (await client.post(f"{base}/{bob.id}/kick", headers=owner.headers)).status_code == 200
    rotation = {
        "type": "sender_key_rotation_required",
        "channel_id": str(channel),
        "reason": "member_removed",
    }
    kicked = {
        "type": "member_kicked",
        "channel_id": str(channel),
        "user_id": str(bob.id),
        "kicked_by": str(owner.id),
    }
    expected = [kicked, left(channel, bob), state(channel, owner, carol), rotation]
    assert await sync(o) == expected
    assert await sync(others[bob.id]) == expected

    response = await client.post(
        f"{base}/{carol.id}/ban", json={"reason": None}, headers=owner.headers
    )
    assert response.status_code == 200
    banned = {
        "type": "member_banned",
        "channel_id": str(channel),
        "user_id": str(carol.id),
        "banned_by": str(owner.id),
    }
    assert await sync(o) == [banned, left(channel, carol), state(channel, owner), rotation]

    assert (await client.post(f"{base}/{dave.id}/kick", headers=owner.headers)).status_code == 200
    dave_kicked = {**kicked, "user_id": str(dave.id)}
    assert await sync(o) == [dave_kicked, rotation]

    # Leaving the channel (the owner cannot: a member re-added for it).
    await add_channel_member(ctx, channel, bob.id)
    b = await subscribed(open_ws, bob, channel)
    pace(ctx)
    await b.send(join(channel))
    await sync(b)
    await sync(o)
    assert (
        await client.post(f"/api/channels/{channel}/leave", headers=bob.headers)
    ).status_code == 200
    assert await sync(o) == [left(channel, bob), state(channel, owner)]
    assert await active(ctx, channel) == [owner.id]
