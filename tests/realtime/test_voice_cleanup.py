"""Voice participants whose connection is gone: the 15 s disconnect grace (both ways), the
participants of server processes that are gone (with a real Redis, and the single-process
restart), participants no longer members, empty calls; the shared join/leave pace through
Redis."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from chatalot.clock import FakeClock
from chatalot.context import Ctx
from chatalot.errors import ServiceUnavailable
from chatalot.ids import UserId
from chatalot.realtime import voice_cleanup
from chatalot.realtime.hub import Hub
from chatalot.realtime.redis_state import RedisLiveState
from chatalot.services import voice as voice_service
from tests.realtime.conftest import Open, sync
from tests.realtime.test_voice import active, join, left, rows, state, subscribed, voice_channel
from tests.support.auth import TestUser, make_user

REDIS_URL = os.environ.get("CHATALOT_TEST_REDIS_URL")
redis_only = pytest.mark.skipif(
    not REDIS_URL, reason="set CHATALOT_TEST_REDIS_URL to test Redis state"
)


def clock(ctx: Ctx) -> FakeClock:
    assert isinstance(ctx.clock, FakeClock)
    return ctx.clock


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Real time, for the server to notice a closed socket."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def pending(ctx: Ctx, count: int) -> None:
    """Waits until the server has noticed the closes: ``count`` graces running."""
    await until(lambda: voice_cleanup.pending_count(ctx) == count)


async def in_call(ctx: Ctx, open_ws: Open, channel: Any, *users: TestUser) -> list[Any]:
    """Each user joins the call on a session of their own (time moves 2 s per join)."""
    sockets = []
    for user in users:
        ws = await subscribed(open_ws, user)
        await ws.send(join(channel))
        await sync(ws)
        clock(ctx).advance(2.0)
        sockets.append(ws)
    return sockets


async def hold(ctx: Ctx, user: TestUser, process: str | None) -> None:
    """Pretend another server process holds the user's participation."""
    await rows(
        ctx,
        "UPDATE voice_session_participants SET server_process = $2"
        " WHERE user_id = $1 AND left_at IS NULL",
        user.id,
        process,
    )


# -- the 15 s grace ---------------------------------------------------------------------------------


async def test_disconnect_grace_ends_the_call_after_15_s(ctx: Ctx, open_ws: Open) -> None:
    """Bob's only session closes: nothing for 15 s, then user_left_voice and the new list to the
    channel's subscribers; the pending close is gone afterwards (nothing kept per user)."""
    alice, bob = await make_user(ctx), await make_user(ctx)
    channel = await voice_channel(ctx, alice, bob)
    watcher = await subscribed(open_ws, alice, channel)
    _, b = await in_call(ctx, open_ws, channel, alice, bob)
    await sync(watcher)
    await b.close()
    await pending(ctx, 1)
    clock(ctx).advance(14.9)
    assert await voice_cleanup.expire_grace(ctx) == 0
    assert await sync(watcher) == []
    assert await active(ctx, channel) == [alice.id, bob.id]
    clock(ctx).advance(0.1)
    assert await voice_cleanup.expire_grace(ctx) == 1
    assert await sync(watcher) == [left(channel, bob), state(channel, alice)]
    assert await active(ctx, channel) == [alice.id]
    assert voice_cleanup.pending_count(ctx) == 0
    assert await voice_cleanup.expire_grace(ctx) == 0


async def test_reconnect_within_the_grace_keeps_the_call(ctx: Ctx, open_ws: Open) -> None:
    """Bob reconnects 5 s after his session closed (without joining again): 15 s later he is
    still in the call; closing one of two sessions starts no grace at all."""
    alice, bob = await make_user(ctx), await make_user(ctx)
    channel = await voice_channel(ctx, alice, bob)
    watcher = await subscribed(open_ws, alice, channel)
    _, b = await in_call(ctx, open_ws, channel, alice, bob)
    await sync(watcher)
    await b.close()
    await pending(ctx, 1)
    clock(ctx).advance(5)
    again = await subscribed(open_ws, bob)
    spare = await subscribed(open_ws, bob)
    clock(ctx).advance(10)
    assert await voice_cleanup.expire_grace(ctx) == 0
    assert voice_cleanup.pending_count(ctx) == 0
    await spare.close()  # bob still has ``again`` on this process
    await until(lambda: ctx.hub.session_count(bob.id) == 1)
    assert voice_cleanup.pending_count(ctx) == 0
    clock(ctx).advance(20)
    assert await voice_cleanup.expire_grace(ctx) == 0
    assert await sync(watcher) == []
    assert await active(ctx, channel) == [alice.id, bob.id]
    await again.close()


async def test_several_disconnects_in_one_check(ctx: Ctx, open_ws: Open) -> None:
    """Three users of two calls disconnect a second apart: one check ends the participations of
    those whose 15 s are over, in both calls, and keeps the last one's for later."""
    users = [await make_user(ctx) for _ in range(4)]
    first = await voice_channel(ctx, users[0], *users[1:])
    second = await voice_channel(ctx, users[0], *users[1:])
    watcher = await subscribed(open_ws, users[0], first, second)
    sockets = await in_call(ctx, open_ws, first, users[0], users[1])
    sockets += await in_call(ctx, open_ws, second, users[2], users[3])
    await sync(watcher)
    for n, ws in enumerate(sockets[1:], start=1):
        await ws.close()
        await pending(ctx, n)
        clock(ctx).advance(1)
    clock(ctx).advance(
        13.5
    )  # 16.5 s after the first close, 15.5 after the second, 14.5 after the last
    assert await voice_cleanup.expire_grace(ctx) == 2
    assert await sync(watcher) == [
        left(first, users[1]),
        state(first, users[0]),
        left(second, users[2]),
        state(second, users[3]),
    ]
    assert voice_cleanup.pending_count(ctx) == 1
    clock(ctx).advance(1)
    assert await voice_cleanup.expire_grace(ctx) == 1
    assert await sync(watcher) == [left(second, users[3]), state(second)]
    [call] = await rows(ctx, "SELECT ended_at FROM voice_sessions WHERE channel_id = $1", second)
    assert call["ended_at"] is not None


async def test_grace_retried_when_the_database_is_away(
    ctx: Ctx, open_ws: Open, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database unavailable at the end of the grace: nothing lost, the next check ends the
    call."""
    alice, bob = await make_user(ctx), await make_user(ctx)
    channel = await voice_channel(ctx, alice, bob)
    _, b = await in_call(ctx, open_ws, channel, alice, bob)
    await b.close()
    await pending(ctx, 1)
    clock(ctx).advance(15)

    async def unavailable(*_args: Any) -> int:
        raise ServiceUnavailable("the database is unavailable")

    with monkeypatch.context() as patch:
        patch.setattr(voice_service, "leave_after_disconnect", unavailable)
        assert await voice_cleanup.expire_grace(ctx) == 0
    assert voice_cleanup.pending_count(ctx) == 1
    assert await voice_cleanup.expire_grace(ctx) == 1
    assert await active(ctx, channel) == [alice.id]


async def test_a_join_after_the_disconnect_is_kept(ctx: Ctx, open_ws: Open) -> None:
    """Only participations that began at or before the disconnect end: a call joined after it
    (from another process, say) stays."""
    alice, bob = await make_user(ctx), await make_user(ctx)
    channel = await voice_channel(ctx, alice, bob)
    closed_at = ctx.clock.now()
    clock(ctx).advance(1)
    await in_call(ctx, open_ws, channel, bob)
    assert await voice_service.leave_after_disconnect(ctx, [(bob.id, closed_at)]) == 0
    assert await voice_service.leave_after_disconnect(ctx, [(bob.id, ctx.clock.now())]) == 1
    assert await active(ctx, channel) == []


# -- server processes that are gone ----------------------------------------------------------------


async def test_restart_of_a_single_process_clears_earlier_participants(
    ctx: Ctx, open_ws: Open
) -> None:
    """Without Redis, at start: participants held by earlier processes (and rows from before
    processes were recorded) leave, with the events; this process's own stay."""
    alice, bob, carol = await make_user(ctx), await make_user(ctx), await make_user(ctx)
    channel = await voice_channel(ctx, alice, bob, carol)
    watcher = await subscribed(open_ws, alice, channel)
    await in_call(ctx, open_ws, channel, alice, bob, carol)
    await sync(watcher)
    await hold(ctx, bob, "an-earlier-process")
    await hold(ctx, carol, None)
    assert await voice_cleanup.clear_previous_processes(ctx) == 2
    frames = await sync(watcher)
    assert sorted(f["user_id"] for f in frames[:2]) == sorted([str(bob.id), str(carol.id)])
    assert frames[2:] == [state(channel, alice)]
    assert await active(ctx, channel) == [alice.id]
    assert await voice_cleanup.ProcessSweeper(ctx).run() == 0  # nothing to do without Redis


@pytest.fixture
async def redis_state(ctx: Ctx) -> AsyncIterator[RedisLiveState]:
    """This test's process shares its state through Redis (a key prefix of its own)."""
    assert REDIS_URL is not None
    prefix = f"test-{uuid.uuid4().hex}"
    live = RedisLiveState(ctx.hub, REDIS_URL, uuid.uuid4().hex, prefix=prefix)
    await live.start()
    local = ctx.broker.state
    ctx.broker.state = live
    yield live
    ctx.broker.state = local
    keys = [k async for k in live._redis.scan_iter(match=f"{prefix}:*")]
    await live.stop()
    if keys:
        import redis.asyncio as aioredis

        client = aioredis.from_url(REDIS_URL)
        await client.delete(*keys)
        await client.aclose()


@pytest.mark.redis
@redis_only
async def test_participants_of_dead_processes_leave(
    ctx: Ctx, open_ws: Open, redis_state: RedisLiveState
) -> None:
    """With Redis: a process whose heartbeat is older than 30 s is gone at once; one Redis does
    not know (it lost its data, or rows from before processes were recorded) only when still
    unknown 10 s later; live processes and this one keep theirs. Each leave is announced."""
    users = [await make_user(ctx) for _ in range(5)]
    alice, bob, carol, dave, erin = users
    channel = await voice_channel(ctx, alice, bob, carol, dave, erin)
    watcher = await subscribed(open_ws, alice, channel)
    await in_call(ctx, open_ws, channel, *users)
    await sync(watcher)
    assert await rows(
        ctx,
        "SELECT 1 FROM voice_session_participants WHERE server_process = $1",
        redis_state.process_id,
    )
    now = time.time()
    await redis_state._redis.zadd(redis_state.procs_key, {"dead": now - 31, "alive": now - 5})
    await hold(ctx, bob, "dead")
    await hold(ctx, carol, "forgotten")
    await hold(ctx, dave, None)
    await hold(ctx, erin, "alive")
    sweeper = voice_cleanup.ProcessSweeper(ctx)
    assert await sweeper.run() == 1
    assert await sync(watcher) == [left(channel, bob), state(channel, alice, carol, dave, erin)]
    clock(ctx).advance(9.9)
    assert await sweeper.run() == 0
    clock(ctx).advance(0.1)
    assert await sweeper.run() == 2
    frames = await sync(watcher)
    assert sorted(f["user_id"] for f in frames[:2]) == sorted([str(carol.id), str(dave.id)])
    assert frames[2:] == [state(channel, alice, erin)]
    assert await active(ctx, channel) == [alice.id, erin.id]
    # A second sweeper (another process) finds nothing left to announce.
    clock(ctx).advance(20)
    assert await voice_cleanup.ProcessSweeper(ctx, confirm_after=0).run() == 0
    assert await voice_cleanup.clear_previous_processes(ctx) == 0  # not alone: the sweeper's job


@pytest.mark.redis
@redis_only
async def test_an_unknown_process_that_comes_back_is_kept(
    ctx: Ctx, open_ws: Open, redis_state: RedisLiveState
) -> None:
    """Unknown at one check, registered again (Redis had lost it) before the next: kept."""
    alice, bob = await make_user(ctx), await make_user(ctx)
    channel = await voice_channel(ctx, alice, bob)
    await in_call(ctx, open_ws, channel, alice, bob)
    await hold(ctx, bob, "back-soon")
    sweeper = voice_cleanup.ProcessSweeper(ctx)
    assert await sweeper.run() == 0
    await redis_state._redis.zadd(redis_state.procs_key, {"back-soon": time.time()})
    clock(ctx).advance(30)
    assert await sweeper.run() == 0
    await redis_state._redis.zrem(redis_state.procs_key, "back-soon")
    assert await sweeper.run() == 0  # newly unknown: counted from now
    clock(ctx).advance(10)
    assert await sweeper.run() == 1


@pytest.mark.redis
@redis_only
async def test_voice_pace_is_shared_through_redis() -> None:
    """Two processes, one user: two joins/leaves at once over both, then one per 2 s; another
    user has their own bucket; both processes see each other's heartbeats."""
    assert REDIS_URL is not None
    prefix = f"test-{uuid.uuid4().hex}"
    a = RedisLiveState(Hub(), REDIS_URL, uuid.uuid4().hex, prefix=prefix)
    b = RedisLiveState(Hub(), REDIS_URL, uuid.uuid4().hex, prefix=prefix)
    await a.start()
    await b.start()
    try:
        alice, bob = UserId(uuid.uuid4()), UserId(uuid.uuid4())
        t = time.time()
        assert await a.voice_pace(alice, t) is True
        assert await b.voice_pace(alice, t + 0.1) is True
        assert await a.voice_pace(alice, t + 0.2) is False
        assert await b.voice_pace(bob, t + 0.2) is True
        assert await b.voice_pace(alice, t + 1.9) is False
        assert await b.voice_pace(alice, t + 2.1) is True
        assert await a.voice_pace(alice, t + 2.2) is False
        assert await a.voice_pace(alice, t + 1.0) is False  # a clock behind gives nothing
        results = await asyncio.gather(
            *(p.voice_pace(bob, t + 10) for p in (a, b) for _ in range(5))
        )
        assert results.count(True) == 2  # a full bucket again: two, whoever asks
        beats = await a.process_heartbeats()
        assert beats is not None and set(beats) == {a.process_id, b.process_id}
    finally:
        keys = [k async for k in a._redis.scan_iter(match=f"{prefix}:*")]
        if keys:
            await a._redis.delete(*keys)
        await a.stop()
        await b.stop()


# -- participants removed from the channel, empty calls ----------------------------------------------


async def test_non_members_leave_and_empty_calls_end(ctx: Ctx, open_ws: Open) -> None:
    """A participant who lost the channel some other way (a community kick, say) leaves at the
    next check, with the events; a call without participants ends at the hourly sweep; the rest
    is untouched."""
    alice, bob = await make_user(ctx), await make_user(ctx)
    channel = await voice_channel(ctx, alice, bob)
    empty = await voice_channel(ctx, alice)
    watcher = await subscribed(open_ws, alice, channel)
    await in_call(ctx, open_ws, channel, alice, bob)
    await sync(watcher)
    assert await voice_service.remove_non_members(ctx) == 0
    await rows(
        ctx, "DELETE FROM channel_members WHERE channel_id = $1 AND user_id = $2", channel, bob.id
    )
    await rows(
        ctx,
        "INSERT INTO voice_sessions (id, channel_id, started_by) VALUES ($1, $2, $3)",
        uuid.uuid4(),
        empty,
        alice.id,
    )
    assert await voice_service.remove_non_members(ctx) == 1
    assert await sync(watcher) == [left(channel, bob), state(channel, alice)]
    assert await active(ctx, channel) == [alice.id]
    assert await voice_service.remove_non_members(ctx) == 0
    assert await voice_service.end_empty_calls(ctx) == 1
    ended = await rows(ctx, "SELECT ended_at FROM voice_sessions WHERE channel_id = $1", empty)
    assert [r["ended_at"] is not None for r in ended] == [True]
    assert await voice_service.end_empty_calls(ctx) == 0
    assert await active(ctx, channel) == [alice.id]
