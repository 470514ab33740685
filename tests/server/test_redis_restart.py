"""Redis going away and coming back under two `chatalot serve` processes (``REDIS_URL``, one
database). Each test has a ``redis-server`` of its own on a free port, killed with SIGKILL and
started again on the same port (tests/support/faults.py).

What happens meanwhile (realtime/broker.py): each process keeps serving its own sessions; an
event reaches the sessions of the process where it happened, not the other process's (Redis
pub/sub keeps nothing for an absent subscriber). Once a process has subscribed again, every
session of that process gets ``error out_of_sync`` and is closed with 1013, so that clients
reconnect and refetch what they missed; from then on events cross processes again.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.faults import (
    REDIS_SERVER,
    LiveClient,
    RedisServer,
    bearer_of,
    close_all,
    create_channel,
    kill_servers,
    redis_server,
    register_user,
    unique,
)
from tests.support.pg import PgServer
from tests.support.process import ServerProcess, base_env, start_server

pytestmark = [
    pytest.mark.slow,
    pytest.mark.redis,
    pytest.mark.timeout(180),
    pytest.mark.skipif(not Path(REDIS_SERVER).exists(), reason=f"needs {REDIS_SERVER}"),
]

OUT_OF_SYNC = {
    "type": "error",
    "code": "out_of_sync",
    "message": "connection lagged, please refresh",
}
FAST = 1.0


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    with redis_server(tmp_path) as server:
        yield server


def env_for(pg: PgServer, database: str, redis: RedisServer, **extra: str) -> dict[str, str]:
    return base_env(
        DATABASE_URL=pg.url(database).dsn,
        CHATALOT_ENV="dev",
        REDIS_URL=redis.url,
        REGISTRATION_MODE="open",
        **extra,
    )


async def start_pair(tmp_path: Path, env: dict[str, str]) -> tuple[ServerProcess, ServerProcess]:
    a = start_server(tmp_path, env)
    try:
        await asyncio.to_thread(a.wait_healthy)
        b = start_server(tmp_path, env)  # after A: the generated keys are shared through the folder
    except BaseException:
        kill_servers([a])
        raise
    try:
        await asyncio.to_thread(b.wait_healthy)
    except BaseException:
        kill_servers([a, b])
        raise
    return a, b


def stop_pair(*servers: ServerProcess) -> None:
    try:
        for server in servers:
            if server.proc.poll() is None:
                assert server.stop() == 0, server.log
    finally:
        kill_servers(servers)


async def wait_for_log(server: ServerProcess, needle: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while needle not in server.log:
        if time.monotonic() > deadline:
            raise AssertionError(f"{needle!r} not logged within {timeout}s:\n{server.log}")
        await asyncio.sleep(0.05)


async def new_message_arrives(
    sender: LiveClient, receiver: LiveClient, channel: str, body: bytes
) -> bool:
    """``sender`` sends (must be acknowledged); True if ``receiver`` gets the ``new_message``
    within 2 s."""
    sent = await sender.send_message(channel, body)
    assert sent["type"] == "message_sent", sent
    try:
        await receiver.wait_event(
            lambda e: e["type"] == "new_message" and e["id"] == sent["id"], timeout=2
        )
    except TimeoutError:
        return False
    return True


async def test_each_process_keeps_serving_through_a_redis_restart(
    pg: PgServer, fresh_db: str, tmp_path: Path, redis: RedisServer
) -> None:
    """Alice and Carol on process A, Bob on B, all subscribed to one channel.

    Redis killed: sends on both processes are acknowledged at once and stored, pings are
    echoed, the other session on the same process receives the message, the other process's
    does not, and HTTP keeps working. Redis back: every session of both processes is told
    ``out_of_sync`` and closed with 1013; new sessions work and messages cross processes in
    both directions again (after a few lost batches at most, see the next test)."""
    env = env_for(pg, fresh_db, redis, CHATALOT_RATE_LIMITS="off")
    a, b = await start_pair(tmp_path, env)
    clients: list[LiveClient] = []
    try:
        alice = await register_user(a, unique("alice"))
        bob = await register_user(a, unique("bob"))
        carol = await register_user(a, unique("carol"))
        channel = await create_channel(a, alice, pg.url(fresh_db).dsn, bob, carol)

        async def open_all() -> tuple[LiveClient, LiveClient, LiveClient]:
            opened = (
                await LiveClient.open(a.port, alice["access_token"], "alice@A"),
                await LiveClient.open(a.port, carol["access_token"], "carol@A"),
                await LiveClient.open(b.port, bob["access_token"], "bob@B"),
            )
            clients.extend(opened)
            for client in opened:
                await client.subscribe(channel)
            return opened

        ws_alice, ws_carol, ws_bob = await open_all()
        assert await new_message_arrives(ws_alice, ws_bob, channel, b"A to B, before")
        assert await new_message_arrives(ws_bob, ws_alice, channel, b"B to A, before")

        redis.kill()
        await wait_for_log(a, "Redis event subscription lost")
        await wait_for_log(b, "Redis event subscription lost")
        started = time.monotonic()
        sent = await ws_alice.send_message(channel, b"during, on A")
        assert sent["type"] == "message_sent", sent
        assert time.monotonic() - started < FAST
        await ws_carol.wait_event(lambda e: e.get("id") == sent["id"], timeout=2)
        on_b = await ws_bob.send_message(channel, b"during, on B")
        assert on_b["type"] == "message_sent", on_b
        await asyncio.sleep(2)
        assert on_b["id"] not in ws_alice.new_message_ids()
        assert sent["id"] not in ws_bob.new_message_ids()
        conn = await asyncpg.connect(pg.url(fresh_db).dsn)
        try:
            stored = await conn.fetchval(
                "SELECT count(*) FROM messages WHERE id = ANY($1::uuid[])",
                [uuid.UUID(sent["id"]), uuid.UUID(on_b["id"])],
            )
        finally:
            await conn.close()
        assert stored == 2
        for client in (ws_alice, ws_carol, ws_bob):
            assert await client.ping() < FAST
        for server, who in ((a, alice), (b, bob)):
            async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
                response = await http.get("/api/channels", headers=bearer_of(who))
            assert response.status_code == 200, response.text
        assert not any(client.closed.is_set() for client in clients)

        redis.start()
        for client in (ws_alice, ws_carol, ws_bob):
            assert await client.wait_closed(timeout=15) == 1013
            assert OUT_OF_SYNC in [
                client.replies.get_nowait() for _ in range(client.replies.qsize())
            ]
        await wait_for_log(a, "Redis event subscription re-established")
        await wait_for_log(b, "Redis event subscription re-established")

        ws_alice, ws_carol, ws_bob = await open_all()
        # The first batches a process publishes after the restart can be lost, one per stale
        # pooled Redis connection (the xfail test below); then every message crosses.
        for sender, receiver, label in ((ws_alice, ws_bob, "A to B"), (ws_bob, ws_carol, "B to A")):
            arrived = [
                await new_message_arrives(sender, receiver, channel, f"{label} {n}".encode())
                for n in range(5)
            ]
            assert True in arrived[:3], (label, arrived)
            assert all(arrived[arrived.index(True) :]), (label, arrived)
        assert a.proc.poll() is None and b.proc.poll() is None
    finally:
        await close_all(clients)
        stop_pair(a, b)
    for server in (a, b):
        assert "Exception in ASGI application" not in server.log


async def test_first_event_after_redis_restart_reaches_the_other_process(
    pg: PgServer, fresh_db: str, tmp_path: Path, redis: RedisServer
) -> None:
    """A process that published nothing while Redis was away: once Redis is back and both
    processes have subscribed again, its next event reaches the other process's sessions (a
    client that reconnected after ``out_of_sync`` must not miss anything newer)."""
    env = env_for(pg, fresh_db, redis, CHATALOT_RATE_LIMITS="off")
    a, b = await start_pair(tmp_path, env)
    clients: list[LiveClient] = []
    try:
        alice = await register_user(a, unique("alice"))
        bob = await register_user(a, unique("bob"))
        ws_bob = await LiveClient.open(b.port, bob["access_token"], "bob@B")
        clients.append(ws_bob)
        await profile(a, alice, "Alice 1")  # A has published once: its connection is pooled
        await ws_bob.wait_event(lambda e: e.get("display_name") == "Alice 1")

        redis.kill()
        await wait_for_log(a, "Redis event subscription lost")
        redis.start()
        await wait_for_log(a, "Redis event subscription re-established")
        await wait_for_log(b, "Redis event subscription re-established")
        assert await ws_bob.wait_closed(timeout=10) == 1013
        ws_bob = await LiveClient.open(b.port, bob["access_token"], "bob@B again")
        clients.append(ws_bob)

        await profile(a, alice, "Alice 2")
        await ws_bob.wait_event(lambda e: e.get("display_name") == "Alice 2", timeout=3)
    finally:
        await close_all(clients)
        stop_pair(a, b)


async def profile(server: ServerProcess, who: dict[str, Any], name: str) -> None:
    """A profile change: a ``user_profile_updated`` event for every session of every process."""
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        response = await http.put(
            "/api/account/profile", json={"display_name": name}, headers=bearer_of(who)
        )
    assert response.status_code == 200, response.text


async def test_http_keeps_working_through_a_redis_outage_with_shared_rate_limits(
    pg: PgServer, fresh_db: str, tmp_path: Path, redis: RedisServer
) -> None:
    """With the production setting (rate limits on, shared through Redis), a Redis outage must
    not take HTTP down: requests and new WebSocket sessions are served while it is away and
    right after it is back (the limits may be local meanwhile)."""
    a, b = await start_pair(tmp_path, env_for(pg, fresh_db, redis))
    clients: list[LiveClient] = []
    try:
        alice = await register_user(a, unique("alice"))
        redis.kill()
        for _ in range(3):
            async with httpx.AsyncClient(base_url=a.url, timeout=10) as http:
                response = await http.get("/api/channels", headers=bearer_of(alice))
            assert response.status_code == 200, response.text
        clients.append(await LiveClient.open(b.port, alice["access_token"], "during"))
        redis.start()
        await wait_for_log(a, "Redis event subscription re-established")
        async with httpx.AsyncClient(base_url=a.url, timeout=10) as http:
            response = await http.get("/api/channels", headers=bearer_of(alice))
        assert response.status_code == 200, response.text
        clients.append(await LiveClient.open(a.port, alice["access_token"], "after"))
    finally:
        await close_all(clients)
        stop_pair(a, b)
    for server in (a, b):
        assert "Traceback" not in server.log, server.log
