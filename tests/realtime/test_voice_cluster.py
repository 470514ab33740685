"""Voice calls across two real `chatalot serve` processes on one database and one Redis: the
call's events and the WebRTC relays cross processes, the join/leave pace is shared, and when a
process is killed its participants leave the call (announced by the survivor)."""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from websockets.asyncio.client import ClientConnection

from tests.realtime.conftest import recv_skipping_heartbeat, sync
from tests.realtime.test_cluster import authenticated, register, user_id
from tests.support.faults import kill_servers
from tests.support.pg import PgServer
from tests.support.process import base_env, start_server

REDIS_URL = os.environ.get("CHATALOT_TEST_REDIS_URL")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.redis,
    pytest.mark.skipif(not REDIS_URL, reason="set CHATALOT_TEST_REDIS_URL to test Redis fan-out"),
    pytest.mark.timeout(180),
]


def frame(kind: str, **fields: Any) -> str:
    return json.dumps({"type": kind, **fields})


async def next_of(
    ws: ClientConnection, kind: str, timeout: float = 10, **fields: Any
) -> dict[str, Any]:
    """The next frame of that type with these field values (others skipped: events of other
    processes arrive in no set order with this session's own answers)."""
    deadline = time.monotonic() + timeout
    while True:
        got = await recv_skipping_heartbeat(ws, max(0.1, deadline - time.monotonic()))
        if got["type"] == kind and all(got.get(k) == v for k, v in fields.items()):
            return got


async def test_a_call_across_two_processes(pg: PgServer, fresh_db: str, tmp_path: Path) -> None:
    """Alice on A, Bob on B (and a second session on A), Carol on B outside the call."""
    assert REDIS_URL is not None
    dsn = pg.url(fresh_db).dsn
    env = base_env(
        DATABASE_URL=dsn,
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
        carol = await register(a, f"carol{uuid.uuid4().hex[:6]}")
        async with httpx.AsyncClient(base_url=a.url) as http:
            created = await http.post(
                "/api/channels",
                json={"name": "call", "channel_type": "voice"},
                headers={"Authorization": f"Bearer {alice['access_token']}"},
            )
        assert created.status_code == 200, created.text
        channel = created.json()["id"]
        conn = await asyncpg.connect(dsn)
        try:
            for auth in (bob, carol):
                await conn.execute(
                    "INSERT INTO channel_members (channel_id, user_id, role)"
                    " VALUES ($1, $2, 'member')",
                    uuid.UUID(channel),
                    uuid.UUID(user_id(auth)),
                )
        finally:
            await conn.close()
        alice_a = await authenticated(a, alice["access_token"])
        alice_b = await authenticated(b, alice["access_token"])
        bob_b = await authenticated(b, bob["access_token"])
        bob_a = await authenticated(a, bob["access_token"])
        carol_b = await authenticated(b, carol["access_token"])
        for ws in (alice_a, bob_b, carol_b):
            await ws.send(frame("subscribe", channel_ids=[channel]))
            await sync(ws)
        me, him = user_id(alice), user_id(bob)

        # The pace counts the joins and leaves of both processes.
        await alice_a.send(frame("join_voice", channel_id=channel))
        assert (await next_of(alice_a, "voice_state_update"))["participants"] == [me]
        await alice_b.send(frame("leave_voice", channel_id=channel))
        await alice_b.send(frame("join_voice", channel_id=channel))
        assert await sync(alice_b) == [
            {
                "type": "error",
                "code": "rate_limited",
                "message": "please wait before joining/leaving voice again",
            }
        ]
        await asyncio.sleep(2.1)
        await alice_a.send(frame("join_voice", channel_id=channel))  # held by A from now
        await sync(alice_a)

        # Events of a join on B reach A's subscribers.
        await bob_b.send(frame("join_voice", channel_id=channel))
        await next_of(bob_b, "voice_state_update", participants=[me, him])
        got = await next_of(alice_a, "user_joined_voice", user_id=him)
        assert got == {"type": "user_joined_voice", "channel_id": channel, "user_id": him}

        # Relays: to every session of the target, on both processes.
        call = str(uuid.uuid4())
        await alice_a.send(frame("rtc_offer", target_user_id=him, session_id=call, sdp="v=0"))
        expected = {"type": "rtc_offer", "from_user_id": me, "session_id": call, "sdp": "v=0"}
        assert await next_of(bob_b, "rtc_offer") == expected
        assert await next_of(bob_a, "rtc_offer") == expected
        await bob_b.send(
            frame("rtc_ice_candidate", target_user_id=me, session_id=call, candidate="c1")
        )
        relayed = await next_of(alice_a, "rtc_ice_candidate")
        assert relayed == {
            "type": "rtc_ice_candidate",
            "from_user_id": him,
            "session_id": call,
            "candidate": "c1",
        }
        assert (await next_of(alice_b, "rtc_ice_candidate")) == relayed
        await carol_b.send(frame("rtc_offer", target_user_id=me, session_id=call, sdp="v=0"))
        assert await next_of(carol_b, "error") == {
            "type": "error",
            "code": "forbidden",
            "message": "target user not in your voice session",
        }

        # B dies: Bob (held by B, no session left anywhere) leaves the call, announced by A.
        await bob_a.close()
        b.proc.kill()
        b.proc.wait(10)
        started = time.monotonic()
        gone = await next_of(alice_a, "user_left_voice", timeout=90)
        waited = time.monotonic() - started
        assert gone == {"type": "user_left_voice", "channel_id": channel, "user_id": him}
        await next_of(alice_a, "voice_state_update", participants=[me])
        assert waited < 60, waited
        conn = await asyncpg.connect(dsn)
        try:
            active = await conn.fetch(
                "SELECT user_id FROM voice_session_participants WHERE left_at IS NULL"
            )
        finally:
            await conn.close()
        assert [str(r["user_id"]) for r in active] == [me]
        await alice_a.close()
    finally:
        kill_servers([b])
        assert a.stop() == 0, a.log
    assert "participant(s) held by" in a.log
