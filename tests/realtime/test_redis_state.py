"""The presence and typing state shared through a real Redis: two ``RedisLiveState`` with their
own hubs stand for two server processes (each test uses its own key prefix)."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from chatalot.ids import ChannelId, UserId
from chatalot.realtime.hub import Hub
from chatalot.realtime.redis_state import RedisLiveState

REDIS_URL = os.environ.get("CHATALOT_TEST_REDIS_URL")

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not REDIS_URL, reason="set CHATALOT_TEST_REDIS_URL to test Redis state"),
]


class Process:
    def __init__(self, prefix: str, **timers: float) -> None:
        assert REDIS_URL is not None
        self.hub = Hub()
        self.state = RedisLiveState(self.hub, REDIS_URL, uuid.uuid4().hex, prefix=prefix, **timers)

    async def connect(self, user_id: UserId) -> bool:
        """A first session of the user here; whether they just came online."""
        assert self.hub.connect(user_id) is not None
        return await self.state.went_online(user_id)

    async def disconnect(self, user_id: UserId) -> bool:
        for conn in self.hub.sessions_of(user_id):
            self.hub.disconnect(conn)
        return await self.state.went_offline(user_id)


@pytest.fixture
async def processes() -> AsyncIterator[tuple[Process, Process]]:
    prefix = f"test-{uuid.uuid4().hex}"
    a, b = Process(prefix), Process(prefix)
    await a.state.start()
    await b.state.start()
    yield a, b
    await a.state.stop()
    await b.state.stop()
    import redis.asyncio as aioredis

    client = aioredis.from_url(REDIS_URL or "")
    keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def user() -> UserId:
    return UserId(uuid.uuid4())


async def test_online_across_processes(processes: tuple[Process, Process]) -> None:
    a, b = processes
    alice, bob, carol = user(), user(), user()
    assert await a.connect(alice) is True
    assert await b.connect(alice) is False  # already online on the other process
    assert await b.connect(bob) is True
    assert sorted(await a.state.visible_statuses([alice, bob, carol])) == sorted(
        [(alice, "online"), (bob, "online")]
    )
    assert await a.disconnect(alice) is False  # still on b
    assert await b.disconnect(alice) is True
    assert await a.state.visible_statuses([alice, carol]) == []


async def test_statuses_are_shared_and_forgotten(processes: tuple[Process, Process]) -> None:
    a, b = processes
    alice, bob = user(), user()
    await a.connect(alice)
    await b.connect(bob)
    await a.state.set_status(alice, "dnd")
    await b.state.set_status(bob, "invisible")
    assert await b.state.visible_statuses([alice, bob]) == [(alice, "dnd")]
    assert await a.disconnect(alice) is True
    await a.connect(alice)
    assert await b.state.visible_statuses([alice]) == [(alice, "online")]


async def test_typing_dedup_and_expiry_are_shared(processes: tuple[Process, Process]) -> None:
    a, b = processes
    channel, alice = ChannelId(uuid.uuid4()), user()
    now = 1_000_000.0
    assert await a.state.typing_started(channel, alice, now) is True
    assert await b.state.typing_started(channel, alice, now + 2.9) is False
    assert await b.state.typing_started(channel, alice, now + 3.0) is True
    assert await a.state.typing_expired(now + 12.9) == []
    # Both processes sweep at once: the entry is announced by exactly one of them.
    results = await asyncio.gather(
        a.state.typing_expired(now + 13.0), b.state.typing_expired(now + 13.0)
    )
    assert sorted(map(len, results)) == [0, 1]
    assert [*results[0], *results[1]] == [(channel, alice)]

    await a.state.typing_started(channel, alice, now)
    other = ChannelId(uuid.uuid4())
    await b.state.typing_started(other, alice, now)
    assert await a.state.typing_stopped(channel, alice) is True
    assert await a.state.typing_stopped(channel, alice) is False
    assert await a.state.typing_stopped_everywhere(alice) == [other]


async def test_concurrent_typing_broadcasts_once(processes: tuple[Process, Process]) -> None:
    a, b = processes
    channel, alice = ChannelId(uuid.uuid4()), user()
    now = time.time()
    results = await asyncio.gather(
        *(p.state.typing_started(channel, alice, now) for p in (a, b) for _ in range(10))
    )
    assert results.count(True) == 1


async def test_a_dead_process_is_reaped_once(processes: tuple[Process, Process]) -> None:
    """A process that stops heartbeating (killed): its users are announced offline by exactly
    one survivor, unless they are connected elsewhere."""
    a, b = processes
    prefix = a.state.prefix
    assert REDIS_URL is not None
    c = Process(prefix)
    await c.state.start()
    alice, bob = user(), user()
    await c.connect(alice)
    await c.connect(bob)
    await a.connect(bob)
    assert c.state._heartbeat is not None
    c.state._heartbeat.cancel()  # "killed": no more heartbeats, nothing cleaned up
    later = time.time() + c.state.dead_after_seconds + 1
    for process in (a, b):  # the survivors' own entries are fresh at that time
        await process.state._redis.zadd(process.state.procs_key, {process.state.origin: later})
    reaped = await asyncio.gather(
        a.state.reap_dead_processes(later), b.state.reap_dead_processes(later)
    )
    assert [*reaped[0], *reaped[1]] == [alice]  # bob is still on a
    assert await a.state.visible_statuses([alice, bob]) == [(bob, "online")]
    await c.state._redis.aclose()


async def test_redis_forgetting_everything(processes: tuple[Process, Process]) -> None:
    """Redis restarted without persistence: the next heartbeat registers this process's users
    again."""
    a, b = processes
    alice = user()
    await a.connect(alice)
    keys = [k async for k in a.state._redis.scan_iter(match=f"{a.state.prefix}:*")]
    await a.state._redis.delete(*keys)
    assert await b.state.visible_statuses([alice]) == []
    await a.state._beat()
    assert await b.state.visible_statuses([alice]) == [(alice, "online")]


async def test_session_counts_are_shared(processes: tuple[Process, Process]) -> None:
    """Each process records how many sessions a user has on it; the others see the sum, and a
    hub refuses a session when its own plus the others' reach the limit."""
    a, b = processes
    alice = user()
    await a.connect(alice)
    assert a.hub.connect(alice) is not None
    await a.state.record_sessions(alice, 2)
    assert await b.state.sessions_elsewhere(alice) == 2
    assert await a.state.sessions_elsewhere(alice) == 0
    for _ in range(5):
        assert b.hub.connect(alice, elsewhere=await b.state.sessions_elsewhere(alice))
    await b.state.went_online(alice)
    await b.state.record_sessions(alice, 5)
    assert await a.state.sessions_elsewhere(alice) == 5
    assert b.hub.connect(alice, elsewhere=await b.state.sessions_elsewhere(alice)) is not None
    await b.state.record_sessions(alice, 6)
    # 2 on a + 6 on b = 8: a ninth is refused on either process.
    assert b.hub.connect(alice, elsewhere=await b.state.sessions_elsewhere(alice)) is None
    assert a.hub.connect(alice, elsewhere=await a.state.sessions_elsewhere(alice)) is None
    assert await a.disconnect(alice) is False  # still online on b
    assert await b.state.sessions_elsewhere(alice) == 0
