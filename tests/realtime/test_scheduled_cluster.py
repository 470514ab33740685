"""Scheduled-message delivery with two real `chatalot serve` processes on one database: both
run the delivery job (every 0.2 s here), the due messages are shared between them, and each is
delivered exactly once."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.realtime.test_cluster import register, user_id
from tests.support.pg import PgServer
from tests.support.process import base_env, start_server

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

COUNT = 200
DELIVERED = re.compile(r"Delivered (\d+) scheduled message\(s\)")


def delivered_by(log: str) -> int:
    return sum(int(n) for n in DELIVERED.findall(log))


async def test_two_processes_deliver_each_message_once(
    pg: PgServer, fresh_db: str, tmp_path: Path
) -> None:
    """200 messages falling due over 3 seconds while both processes poll: 200 messages in the
    channel, no duplicate, no scheduled row left, and both processes delivered some."""
    dsn = pg.url(fresh_db).dsn
    env = base_env(
        DATABASE_URL=dsn,
        CHATALOT_ENV="dev",
        CHATALOT_RATE_LIMITS="off",
        REGISTRATION_MODE="open",
        CHATALOT_SCHEDULED_DELIVERY_INTERVAL_SECS="0.2",
    )
    a = start_server(tmp_path, env)
    await asyncio.to_thread(a.wait_healthy)  # the first start writes the keys both use
    b = start_server(tmp_path, env)
    try:
        await asyncio.to_thread(b.wait_healthy)
        alice = await register(a, f"alice{uuid.uuid4().hex[:6]}")
        async with httpx.AsyncClient(base_url=a.url) as http:
            created = await http.post(
                "/api/channels",
                json={"name": "later", "channel_type": "text"},
                headers={"Authorization": f"Bearer {alice['access_token']}"},
            )
        assert created.status_code == 200, created.text
        channel = uuid.UUID(created.json()["id"])
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(
                "INSERT INTO scheduled_messages (id, channel_id, user_id, ciphertext, nonce,"
                " scheduled_for)"
                " SELECT gen_random_uuid(), $1, $2, format('[%s,%s]', i % 256, i / 256), '[7]',"
                " now() + make_interval(secs => i * 0.015) FROM generate_series(1, $3) AS i",
                channel,
                uuid.UUID(user_id(alice)),
                COUNT,
            )
            deadline = time.monotonic() + 60
            while await conn.fetchval("SELECT count(*) FROM scheduled_messages"):
                assert time.monotonic() < deadline, "scheduled messages not delivered in 60 s"
                await asyncio.sleep(0.1)
            total, distinct, senders = await conn.fetchrow(
                "SELECT count(*), count(DISTINCT ciphertext), count(DISTINCT sender_id)"
                " FROM messages WHERE channel_id = $1",
                channel,
            )
        finally:
            await conn.close()
        assert (total, distinct, senders) == (COUNT, COUNT, 1)
    finally:
        assert a.stop() == 0, a.log
        assert b.stop() == 0, b.log
    from_a, from_b = delivered_by(a.log), delivered_by(b.log)
    assert from_a + from_b == COUNT, (from_a, from_b)
    assert from_a > 0 and from_b > 0, (from_a, from_b)
    for server in (a, b):
        assert "Failed to" not in server.log, server.log
