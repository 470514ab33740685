"""A message the server acknowledged with ``message_sent`` is stored for good: the reply is sent
only after the commit, so neither ``kill -9`` of the server right after the reply nor a crash of
PostgreSQL itself (immediate shutdown, then WAL recovery) loses it.

Several sessions pipeline sends (within the frame rate limit); the moment the N-th
``message_sent`` arrives the server (and in the second test PostgreSQL too) is killed. Every
acknowledged id must then be in ``messages`` with the content its frame carried (the replies of
one session come in the order of its frames, which pairs each id with its frame).
"""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.faults import (
    LiveClient,
    PrivatePostgres,
    bearer_of,
    close_all,
    create_channel,
    kill_servers,
    private_postgres,
    register_user,
    send_message_frame,
    unique,
)
from tests.support.pg import PgServer
from tests.support.process import ServerProcess, base_env, start_server

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

SESSIONS = 6
PER_SESSION = 25  # under the 30-frame burst of a session's rate limit
KILL_AT = 60  # acknowledgements received before the kill
SLOW_COMMIT = "-c commit_delay=20000 -c commit_siblings=0"


def body(session: int, n: int) -> bytes:
    return f"s{session}-m{n}".encode()


async def send_until_acknowledged(
    clients: list[LiveClient], channel: str, kill: Callable[[], None]
) -> dict[str, bytes]:
    """Pipelines PER_SESSION sends on every session; ``kill`` runs synchronously in the reader
    the moment the KILL_AT-th ``message_sent`` arrives. Returns acknowledged id -> content,
    including acknowledgements that were already on their way when the kill happened."""
    acked: dict[str, bytes] = {}
    refused_before_kill: list[dict[str, Any]] = []
    killed = False

    def on_reply_of(index: int) -> Callable[[dict[str, Any]], None]:
        position = 0

        def on_reply(frame: dict[str, Any]) -> None:
            nonlocal killed, position
            n, position = position, position + 1
            if frame["type"] != "message_sent":
                if not killed:
                    refused_before_kill.append(frame)
                return
            acked[frame["id"]] = body(index, n)
            if len(acked) == KILL_AT:
                killed = True
                kill()

        return on_reply

    for index, client in enumerate(clients):
        client.on_reply = on_reply_of(index)
    for n in range(PER_SESSION):
        for index, client in enumerate(clients):
            await client.send(send_message_frame(channel, body(index, n)))
    await asyncio.wait_for(
        asyncio.gather(*(client.closed.wait() for client in clients)), timeout=30
    )
    assert refused_before_kill == []
    assert killed, f"only {len(acked)} acknowledgements"
    return acked


async def history(server: ServerProcess, auth: dict[str, Any], channel: str) -> dict[str, bytes]:
    """Every message of the channel over REST (pages of 100, newest first)."""
    found: dict[str, bytes] = {}
    params = {"limit": "100"}
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        while True:
            response = await http.get(
                f"/api/channels/{channel}/messages", params=params, headers=bearer_of(auth)
            )
            assert response.status_code == 200, response.text
            page = response.json()
            found.update({m["id"]: bytes(m["ciphertext"]) for m in page})
            if len(page) < 100:
                return found
            params["before"] = page[-1]["id"]


async def stored(dsn: str, ids: list[str]) -> dict[str, bytes]:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        rows = await conn.fetch(
            "SELECT id, ciphertext FROM messages WHERE id = ANY($1::uuid[])",
            [uuid.UUID(i) for i in ids],
        )
    finally:
        await conn.close()
    return {str(row["id"]): bytes(row["ciphertext"]) for row in rows}


async def open_sessions(
    server: ServerProcess, dsn: str
) -> tuple[dict[str, Any], str, list[LiveClient]]:
    alice = await register_user(server, unique("alice"))
    channel = await create_channel(server, alice, dsn)
    clients = [
        await LiveClient.open(server.port, alice["access_token"], f"alice{i}")
        for i in range(SESSIONS)
    ]
    return alice, channel, clients


async def test_acknowledged_messages_survive_kill_9_of_the_server(
    pg: PgServer, fresh_db: str, tmp_path: Path
) -> None:
    """kill -9 of the server at the 60th acknowledgement: every acknowledged message is in the
    database with its content, and a restarted server lists them in the channel's history."""
    dsn = pg.url(fresh_db).dsn
    env = base_env(DATABASE_URL=dsn, CHATALOT_ENV="dev")
    server = start_server(tmp_path, env)
    restarted: ServerProcess | None = None
    clients: list[LiveClient] = []
    try:
        await asyncio.to_thread(server.wait_healthy)
        alice, channel, clients = await open_sessions(server, dsn)
        acked = await send_until_acknowledged(
            clients, channel, lambda: os.kill(server.proc.pid, signal.SIGKILL)
        )
        assert server.proc.wait(10) == -signal.SIGKILL
        assert len(acked) < SESSIONS * PER_SESSION, "the kill came after every send: no test"

        assert await stored(dsn, list(acked)) == acked

        restarted = start_server(tmp_path, env)
        await asyncio.to_thread(restarted.wait_healthy)
        listed = await history(restarted, alice, channel)
        assert {i: listed.get(i) for i in acked} == acked
    finally:
        await close_all(clients)
        kill_servers([s for s in (server, restarted) if s is not None])
    assert "Traceback" not in server.log


@pytest.fixture
def durable_cluster() -> Iterator[PrivatePostgres]:
    """fsync on, and every commit waits 20 ms before its WAL is flushed (``commit_delay`` with
    no minimum of concurrent transactions): a reply sent before the commit is durable then
    reaches the client well before the commit is, and the crash below loses it."""
    with private_postgres(durable=True, settings=SLOW_COMMIT) as cluster:
        yield cluster


async def test_acknowledged_messages_survive_a_crash_of_server_and_database(
    durable_cluster: PrivatePostgres, tmp_path: Path
) -> None:
    """At the 60th acknowledgement PostgreSQL is shut down immediately (as in a crash: nothing
    more is written) and the server is killed with -9: after WAL recovery every acknowledged
    message is there. (A server that acknowledged before its commit was flushed, e.g. with
    ``synchronous_commit = off``, loses the last ones here.)"""
    cluster = durable_cluster
    await cluster.create_database("chatalot")
    dsn = cluster.dsn("chatalot")
    server = start_server(tmp_path, base_env(DATABASE_URL=dsn, CHATALOT_ENV="dev"))
    clients: list[LiveClient] = []
    try:
        await asyncio.to_thread(server.wait_healthy)
        _alice, channel, clients = await open_sessions(server, dsn)

        def crash_both() -> None:
            cluster.crash()
            os.kill(server.proc.pid, signal.SIGKILL)

        acked = await send_until_acknowledged(clients, channel, crash_both)
        assert server.proc.wait(10) == -signal.SIGKILL
        assert len(acked) < SESSIONS * PER_SESSION, "the crash came after every send: no test"
        assert not cluster.running

        await asyncio.to_thread(cluster.start)  # crash recovery
        assert await stored(dsn, list(acked)) == acked
    finally:
        await close_all(clients)
        kill_servers([server])
