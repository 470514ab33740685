"""Real `chatalot serve` processes: /ws on a real server, and two processes on one database
and one Redis delivering each other's events (REDIS_URL -> RedisBroker)."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.realtime.conftest import recv, sync
from tests.support.auth import register_body
from tests.support.pg import PgServer
from tests.support.process import ServerProcess, base_env, start_server

REDIS_URL = os.environ.get("CHATALOT_TEST_REDIS_URL")

pytestmark = pytest.mark.slow


async def register(server: ServerProcess, name: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post("/api/auth/register", json=register_body(name))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def authenticated(server: ServerProcess, token: str) -> ClientConnection:
    ws = await connect(f"ws://127.0.0.1:{server.port}/ws", open_timeout=10)
    await ws.send(json.dumps({"type": "authenticate", "token": token}))
    assert (await recv(ws))["type"] == "authenticated"
    frame = await recv(ws)
    if frame["type"] == "presence_bulk":  # online community mates, before the heartbeat
        frame = await recv(ws)
    assert frame["type"] == "pong"
    return ws


def user_id(auth: dict[str, Any]) -> str:
    return str(auth["user"]["id"])


async def test_ws_on_a_real_server(pg: PgServer, fresh_db: str, tmp_path: Path) -> None:
    """`chatalot serve` answers /ws: handshake, ping, and a profile change made over HTTP
    arrives on the socket (the broker is the database's sink)."""
    env = base_env(DATABASE_URL=pg.url(fresh_db).dsn, CHATALOT_ENV="dev")
    server = start_server(tmp_path, env)
    try:
        await asyncio.to_thread(server.wait_healthy)
        alice = await register(server, f"alice{uuid.uuid4().hex[:6]}")
        ws = await authenticated(server, alice["access_token"])
        async with httpx.AsyncClient(base_url=server.url) as http:
            response = await http.put(
                "/api/account/profile",
                json={"display_name": "Alice Real"},
                headers={"Authorization": f"Bearer {alice['access_token']}"},
            )
        assert response.status_code == 200, response.text
        [frame] = await sync(ws)
        assert frame["type"] == "user_profile_updated"
        assert frame["display_name"] == "Alice Real"
        await ws.close()
    finally:
        assert server.stop() == 0, server.log
    assert "WebSocket connected" in server.log
    assert "WebSocket disconnected" in server.log


@pytest.mark.redis
@pytest.mark.skipif(not REDIS_URL, reason="set CHATALOT_TEST_REDIS_URL to test Redis fan-out")
async def test_two_processes_share_events_through_redis(
    pg: PgServer, fresh_db: str, tmp_path: Path
) -> None:
    """An event produced on process A reaches a client connected to process B: a channel
    broadcast to B's subscriber, Everyone events, and a kick on A revokes the subscription on
    B at once."""
    assert REDIS_URL is not None
    env = base_env(
        DATABASE_URL=pg.url(fresh_db).dsn,
        CHATALOT_ENV="dev",
        REDIS_URL=REDIS_URL,
        CHATALOT_RATE_LIMITS="off",
        REGISTRATION_MODE="open",
    )
    a = start_server(tmp_path, env)
    await asyncio.to_thread(a.wait_healthy)
    b = start_server(tmp_path, env)  # after A: the generated keys are shared through the folder
    try:
        await asyncio.to_thread(b.wait_healthy)
        alice = await register(a, f"alice{uuid.uuid4().hex[:6]}")
        bob = await register(a, f"bob{uuid.uuid4().hex[:6]}")
        alice_h = {"Authorization": f"Bearer {alice['access_token']}"}
        async with httpx.AsyncClient(base_url=a.url) as http:
            created = await http.post(
                "/api/channels", json={"name": "general", "channel_type": "text"}, headers=alice_h
            )
            assert created.status_code == 200, created.text
            channel = created.json()["id"]
            conn = await asyncpg.connect(pg.url(fresh_db).dsn)
            try:
                await conn.execute(
                    "INSERT INTO channel_members (channel_id, user_id, role)"
                    " VALUES ($1, $2, 'member')",
                    uuid.UUID(channel),
                    uuid.UUID(user_id(bob)),
                )
            finally:
                await conn.close()

            ws_bob = await authenticated(b, bob["access_token"])
            await ws_bob.send(json.dumps({"type": "subscribe", "channel_ids": [channel]}))
            assert await sync(ws_bob) == []

            response = await http.patch(
                f"/api/channels/{channel}", json={"topic": "from A"}, headers=alice_h
            )
            assert response.status_code == 200, response.text
            frame = await recv(ws_bob)
            assert frame["type"] == "channel_updated" and frame["topic"] == "from A"

            response = await http.put(
                "/api/account/profile", json={"display_name": "Alice On A"}, headers=alice_h
            )
            assert response.status_code == 200, response.text
            frame = await recv(ws_bob)
            assert frame["type"] == "user_profile_updated"

            response = await http.post(
                f"/api/channels/{channel}/members/{user_id(bob)}/kick", headers=alice_h
            )
            assert response.status_code == 200, response.text
            assert (await recv(ws_bob))["type"] == "member_kicked"
            assert (await recv(ws_bob))["type"] == "sender_key_rotation_required"
            await http.patch(f"/api/channels/{channel}", json={"topic": "gone"}, headers=alice_h)
            # A later Everyone event arrives: nothing from the channel came before it.
            await http.put(
                "/api/account/profile", json={"display_name": "Alice Again"}, headers=alice_h
            )
            frame = await recv(ws_bob)
            assert frame["type"] == "user_profile_updated"
            assert frame["display_name"] == "Alice Again"
        await ws_bob.close()
    finally:
        assert a.stop() == 0, a.log
        assert b.stop() == 0, b.log
    assert "WebSocket events are shared through Redis" in a.log


@pytest.mark.redis
@pytest.mark.skipif(not REDIS_URL, reason="set CHATALOT_TEST_REDIS_URL to test Redis fan-out")
async def test_presence_and_typing_across_processes(
    pg: PgServer, fresh_db: str, tmp_path: Path
) -> None:
    """Alice on process A, Bob on process B, one community and channel: Bob's presence_bulk
    lists Alice, Alice hears Bob come online, typing on either process is deduplicated across
    both, and Bob's last session closing on B tells Alice he is offline."""
    assert REDIS_URL is not None
    env = base_env(
        DATABASE_URL=pg.url(fresh_db).dsn,
        CHATALOT_ENV="dev",
        REDIS_URL=REDIS_URL,
        CHATALOT_RATE_LIMITS="off",
        REGISTRATION_MODE="open",
    )
    a = start_server(tmp_path, env)
    await asyncio.to_thread(a.wait_healthy)
    b = start_server(tmp_path, env)
    try:
        await asyncio.to_thread(b.wait_healthy)
        alice = await register(a, f"alice{uuid.uuid4().hex[:6]}")
        bob = await register(a, f"bob{uuid.uuid4().hex[:6]}")
        channel = uuid.uuid4()
        conn = await asyncpg.connect(pg.url(fresh_db).dsn)
        try:
            community = uuid.uuid4()
            await conn.execute(
                "INSERT INTO communities (id, name, description, owner_id) VALUES ($1, 'c', '', $2)",
                community,
                uuid.UUID(user_id(alice)),
            )
            await conn.execute(
                "INSERT INTO channels (id, name, channel_type, created_by) VALUES ($1, 't', 'text', $2)",
                channel,
                uuid.UUID(user_id(alice)),
            )
            for auth in (alice, bob):
                await conn.execute(
                    "INSERT INTO community_members (community_id, user_id, role)"
                    " VALUES ($1, $2, 'member')",
                    community,
                    uuid.UUID(user_id(auth)),
                )
                await conn.execute(
                    "INSERT INTO channel_members (channel_id, user_id, role)"
                    " VALUES ($1, $2, 'member')",
                    channel,
                    uuid.UUID(user_id(auth)),
                )
        finally:
            await conn.close()

        ws_alice = await authenticated(a, alice["access_token"])
        ws_bob = await connect(f"ws://127.0.0.1:{b.port}/ws", open_timeout=10)
        await ws_bob.send(json.dumps({"type": "authenticate", "token": bob["access_token"]}))
        assert (await recv(ws_bob))["type"] == "authenticated"
        assert await recv(ws_bob) == {
            "type": "presence_bulk",
            "statuses": [[user_id(alice), "online"]],
        }
        assert await recv(ws_alice) == {
            "type": "presence_update",
            "user_id": user_id(bob),
            "status": "online",
        }
        for ws in (ws_alice, ws_bob):
            await ws.send(json.dumps({"type": "subscribe", "channel_ids": [str(channel)]}))
            await sync(ws, presence=True)
        bob_on_a = await authenticated(a, bob["access_token"])  # a second device, on A
        await ws_bob.send(json.dumps({"type": "typing", "channel_id": str(channel)}))
        typing = {"type": "user_typing", "channel_id": str(channel), "user_id": user_id(bob)}
        assert await recv(ws_alice) == typing
        await bob_on_a.send(json.dumps({"type": "typing", "channel_id": str(channel)}))
        await sync(bob_on_a)
        assert await sync(ws_alice, presence=True) == []  # deduplicated across processes
        await bob_on_a.close()
        # Closing a session ends Bob's typing (announced once, by A)...
        stopped = {**typing, "type": "user_stopped_typing"}
        assert await recv(ws_alice) == stopped
        # ...but Bob is still online on B; only his last session closing says offline.
        assert await sync(ws_alice, presence=True) == []
        await ws_bob.close()
        assert await recv(ws_alice) == {
            "type": "presence_update",
            "user_id": user_id(bob),
            "status": "offline",
        }
        await ws_alice.close()
    finally:
        assert a.stop() == 0, a.log
        assert b.stop() == 0, b.log
