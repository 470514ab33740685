"""PostgreSQL restarting under load (``pg_ctl stop -m fast``, then start on the same port): the
server keeps running, requests fail fast with a clear error while the database is away (HTTP
503 ``service_unavailable``, on the WebSocket ``internal_error "failed to send message"``),
WebSocket sessions stay open, and everything works again once the database is back, without
restarting the server. Each test has a PostgreSQL cluster of its own (tests/support/faults.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from chatalot.config import PoolSettings
from chatalot.db.database import Database
from chatalot.db.dsn import parse_database_url
from chatalot.db.notify import NotificationListener
from chatalot.db.pool import open_pool
from chatalot.errors import ServiceUnavailable
from tests.conftest import RecordingSink
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

FAILED_SEND = {"type": "error", "code": "internal_error", "message": "failed to send message"}
FAST = 1.0  # seconds: "fails fast" (the acquire timeout below is 2 s, PostgreSQL answers in ms)


@pytest.fixture
def cluster() -> Iterator[PrivatePostgres]:
    with private_postgres() as cluster:
        yield cluster


# --- the Database layer ---------------------------------------------------------------------


@pytest.fixture
async def database(cluster: PrivatePostgres) -> AsyncIterator[tuple[Database, RecordingSink]]:
    await cluster.create_database("chatalot")
    conn = await asyncpg.connect(cluster.dsn("chatalot"))
    try:
        await conn.execute("CREATE TABLE notes (id int PRIMARY KEY)")
    finally:
        await conn.close()
    pool = await open_pool(
        parse_database_url(cluster.dsn("chatalot")),
        PoolSettings(max_connections=4, min_connections=2, connect_retry_secs=5),
    )
    sink = RecordingSink()
    db = Database(pool, acquire_timeout=2, sink=sink)
    try:
        yield db, sink
    finally:
        pool.terminate()


async def test_database_outage_is_service_unavailable_at_once(
    cluster: PrivatePostgres,
    database: tuple[Database, RecordingSink],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A transaction whose connection is ended by the shutdown, and every request while the
    database is down, raise ServiceUnavailable within a second (nothing is published); the
    pool reconnects by itself once the database is back. The outage is logged once as it
    starts and once as it ends; asyncpg's reconnect attempts are one line, no traceback."""
    db, sink = database
    caplog.set_level(logging.INFO)
    async with db.transaction("before") as tx:
        await tx.conn.execute("INSERT INTO notes VALUES (1)")
        tx.emit("noted", to="everyone")
    assert [e.event for e in sink.published] == ["noted"]

    with pytest.raises(ServiceUnavailable, match="the database is unavailable"):
        async with db.transaction("cut_off") as tx:
            await tx.conn.execute("INSERT INTO notes VALUES (2)")
            tx.emit("lost", to="everyone")
            await asyncio.to_thread(cluster.stop)
            await tx.conn.execute("INSERT INTO notes VALUES (3)")
    assert [e.event for e in sink.published] == ["noted"]

    for _ in range(3):
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable, match="the database is unavailable"):
            async with db.connection() as conn:
                await conn.fetchval("SELECT 1")
        with pytest.raises(ServiceUnavailable):
            async with db.transaction("while_down") as tx:
                await tx.conn.execute("INSERT INTO notes VALUES (4)")
        assert time.monotonic() - started < FAST
    assert db.unavailable_errors == 7

    await asyncio.to_thread(cluster.start)
    async with db.connection() as conn:
        assert await conn.fetch("SELECT id FROM notes ORDER BY id") == [(1,)]
    async with db.transaction("after") as tx:
        await tx.conn.execute("INSERT INTO notes VALUES (5)")
        tx.emit("back", to="everyone")
    assert [e.event for e in sink.published] == ["noted", "back"]

    messages = [r.getMessage() for r in caplog.records if r.name == "chatalot_server.db"]
    assert sum(m.startswith("Database unavailable") for m in messages) == 1, messages
    assert sum(m.startswith("Database reachable again") for m in messages) == 1, messages
    assert "(7 request(s) refused meanwhile)" in caplog.text
    for record in caplog.records:
        if record.name.startswith("asyncpg"):
            assert record.exc_info is None, record.getMessage()
            assert record.getMessage().startswith("Cannot reopen the pool's standing connections")


async def test_statement_errors_are_not_an_outage(database: tuple[Database, RecordingSink]) -> None:
    """Only a lost database is ServiceUnavailable: a bad statement is still its own error."""
    db, _sink = database
    with pytest.raises(asyncpg.UndefinedTableError):
        async with db.connection() as conn:
            await conn.execute("SELECT * FROM no_such_table")
    with pytest.raises(asyncpg.QueryCanceledError):
        async with db.transaction("slow") as tx:
            await tx.conn.execute("SET LOCAL statement_timeout = 10")
            await tx.conn.execute("SELECT pg_sleep(1)")
    assert db.unavailable_errors == 0


async def test_notification_listener_survives_a_failed_reload(pg: PgServer, fresh_db: str) -> None:
    """The reload after a reconnect fails once: the listener still reconnects after the next
    loss of its connection, and notifications arrive again (the reload is retried)."""
    received: list[str] = []
    reloads: list[bool] = []

    async def reload() -> None:
        reloads.append(True)
        if len(reloads) == 1:
            raise ServiceUnavailable("the database is unavailable, try again shortly")

    listener = NotificationListener(
        pg.url(fresh_db).dsn, {"fault_test": received.append}, on_reconnect=reload
    )
    admin = await asyncpg.connect(pg.url(fresh_db).dsn)
    try:
        await listener.start()

        async def cut_and_wait(reloads_before: int) -> None:
            pid = listener._conn.get_server_pid()  # the connection to cut
            await admin.execute("SELECT pg_terminate_backend($1)", pid)
            await wait_until(lambda: len(reloads) > reloads_before, 5, "a reconnect")

        await cut_and_wait(0)  # the reload fails...
        await wait_until(lambda: len(reloads) == 2, 5, "the reload retried")  # ...and is retried
        await cut_and_wait(2)  # the listener still watches its connection
        await admin.execute("SELECT pg_notify('fault_test', 'hello')")
        await wait_until(lambda: received == ["hello"], 5, "the notification")
    finally:
        await asyncio.wait_for(listener.stop(), 5)
        await admin.close()


# --- a real server --------------------------------------------------------------------------


@dataclass
class Outcome:
    """One request of the load: who sent it, when, how long it took, what came back."""

    who: str
    sent_at: float
    seconds: float
    result: Any


@dataclass
class Load:
    """Each WebSocket client sends a message every ``period`` seconds (waiting for the reply)
    and an HTTP client lists the channels, until stopped."""

    clients: list[LiveClient]
    server: ServerProcess
    channel: str
    auth: dict[str, Any]
    period: float = 0.25
    sends: list[Outcome] = field(default_factory=list)
    gets: list[Outcome] = field(default_factory=list)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def _sender(self, client: LiveClient) -> None:
        n = 0
        while not self.stopping.is_set():
            n += 1
            started = time.monotonic()
            frame = send_message_frame(self.channel, f"{client.name}-{n}".encode())
            reply = await client.request(frame, timeout=10)
            self.sends.append(Outcome(client.name, started, time.monotonic() - started, reply))
            await asyncio.sleep(self.period)

    async def _getter(self) -> None:
        async with httpx.AsyncClient(base_url=self.server.url, timeout=10) as http:
            while not self.stopping.is_set():
                started = time.monotonic()
                response = await http.get("/api/channels", headers=bearer_of(self.auth))
                body = response.json()
                code = body["error"]["code"] if response.status_code != 200 else None
                result = (response.status_code, code)
                self.gets.append(Outcome("http", started, time.monotonic() - started, result))
                await asyncio.sleep(self.period)

    async def run(self) -> None:
        await asyncio.gather(*(self._sender(c) for c in self.clients), self._getter())

    def sends_between(self, start: float, end: float) -> list[Outcome]:
        return [o for o in self.sends if start <= o.sent_at < end]

    def acked_since(self, when: float, who: str | None = None) -> set[str]:
        return {
            o.result["id"]
            for o in self.sends_between(when, float("inf"))
            if o.result["type"] == "message_sent" and who in (None, o.who)
        }


async def wait_until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        await asyncio.sleep(0.05)


def server_env(cluster: PrivatePostgres) -> dict[str, str]:
    return base_env(
        DATABASE_URL=cluster.dsn("chatalot"),
        CHATALOT_ENV="dev",
        REGISTRATION_MODE="open",
        CHATALOT_DB_ACQUIRE_TIMEOUT_SECS="2",
    )


async def test_server_rides_out_a_postgres_restart(
    cluster: PrivatePostgres, tmp_path: Path
) -> None:
    """Three sessions (two users) send a message every 0.25 s and an HTTP client lists channels
    while PostgreSQL is stopped for 3 s and started again:

    - during the outage every send is answered ``internal_error "failed to send message"`` in
      under a second, pings are echoed, HTTP answers 503 ``service_unavailable`` (never 500),
      health says ``degraded``;
    - no session is closed; once the database is back every session's sends succeed again
      (within 15 s), the other user receives them, and a new login works;
    - every acknowledged message is stored; the server logs the outage without a traceback."""
    await cluster.create_database("chatalot")
    server = start_server(tmp_path, server_env(cluster))
    clients: list[LiveClient] = []
    try:
        await asyncio.to_thread(server.wait_healthy)
        alice = await register_user(server, unique("alice"))
        bob = await register_user(server, unique("bob"))
        channel = await create_channel(server, alice, cluster.dsn("chatalot"), bob)
        clients = [
            await LiveClient.open(server.port, alice["access_token"], "alice1"),
            await LiveClient.open(server.port, alice["access_token"], "alice2"),
            await LiveClient.open(server.port, bob["access_token"], "bob"),
        ]
        for client in clients:
            await client.subscribe(channel)
        load = Load(clients, server, channel, alice)
        running = asyncio.get_running_loop().create_task(load.run())
        try:
            await asyncio.sleep(1)
            stopped_at = time.monotonic()
            await asyncio.to_thread(cluster.stop)
            down_at = time.monotonic()
            await asyncio.sleep(3)
            async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
                health = (await http.get("/api/health")).json()
                login = await http.post(
                    "/api/auth/login",
                    json={"username": alice["user"]["username"], "password": "Correct-Horse-9"},
                )
            latencies = [await client.ping() for client in clients]
            restarting_at = time.monotonic()
            await asyncio.to_thread(cluster.start)
            up_at = time.monotonic()
            await wait_until(
                lambda: all(load.acked_since(up_at, c.name) for c in clients),
                15,
                "every session sends successfully again",
            )
            await asyncio.sleep(1.5)
        finally:
            load.stopping.set()
            await asyncio.wait_for(running, 15)

        assert health["db_healthy"] is False and health["status"] == "degraded"
        assert login.status_code == 503, login.text
        assert login.json()["error"]["code"] == "service_unavailable"
        assert max(latencies) < FAST, latencies

        during = load.sends_between(down_at, restarting_at)
        assert len(during) >= 9, during
        assert all(o.result == FAILED_SEND for o in during), during
        assert max(o.seconds for o in during) < FAST, during
        for outcome in load.sends:  # around the stop and start: one or the other, promptly
            if not (outcome.result["type"] == "message_sent" or outcome.result == FAILED_SEND):
                # the server's account of the failure (which exception), printed whole: an
                # assertion message would be cut short
                print(server.log[-12000:])  # noqa: T201
            assert outcome.result["type"] == "message_sent" or outcome.result == FAILED_SEND, (
                outcome
            )
            assert outcome.seconds < 3, outcome
        before = load.sends_between(0, stopped_at)
        assert before and all(o.result["type"] == "message_sent" for o in before)

        statuses = {o.result for o in load.gets}
        assert statuses <= {(200, None), (503, "service_unavailable")}, statuses
        assert (503, "service_unavailable") in statuses
        assert [o.result for o in load.gets if o.sent_at > up_at + 1] != []
        assert all(o.result == (200, None) for o in load.gets if o.sent_at > up_at + 1)

        assert not any(client.closed.is_set() for client in clients)
        for client in clients:
            await client.ping()
        acked = load.acked_since(0)
        from_alice = load.acked_since(up_at, "alice1") | load.acked_since(up_at, "alice2")
        await clients[2].wait_event(lambda e: e["type"] == "new_message" and e["id"] in from_alice)

        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            login = await http.post(
                "/api/auth/login",
                json={"username": alice["user"]["username"], "password": "Correct-Horse-9"},
            )
        assert login.status_code == 200, login.text
        fresh = await LiveClient.open(server.port, login.json()["access_token"], "fresh")
        clients.append(fresh)
        assert (await fresh.send_message(channel, b"after"))["type"] == "message_sent"

        conn = await asyncpg.connect(cluster.dsn("chatalot"), timeout=10)
        try:
            found = await conn.fetchval(
                "SELECT count(*) FROM messages WHERE id = ANY($1::uuid[])",
                [uuid.UUID(i) for i in acked],
            )
        finally:
            await conn.close()
        assert found == len(acked)
        assert server.proc.poll() is None
    finally:
        await close_all(clients)
        if server.proc.poll() is None:
            assert server.stop() == 0, server.log
        kill_servers([server])
    log = server.log
    assert "Traceback" not in log, log
    assert " ERROR " not in log, log
    assert "WARN chatalot_server.db: Database unavailable" in log
    assert "INFO chatalot_server.db: Database reachable again" in log


async def test_new_session_during_outage_is_told_to_come_back(
    cluster: PrivatePostgres, tmp_path: Path
) -> None:
    """A client that authenticates while the database is down with a token this process has
    not checked yet (a fresh login) cannot be verified: it is closed at once with 1013 (try
    again later), not told ``unauthorized`` (which makes the client drop its tokens), and the
    server logs no error."""
    await cluster.create_database("chatalot")
    server = start_server(tmp_path, server_env(cluster))
    try:
        await asyncio.to_thread(server.wait_healthy)
        alice = await register_user(server, unique("alice"))
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            login = await http.post(
                "/api/auth/login",
                json={"username": alice["user"]["username"], "password": "Correct-Horse-9"},
            )
        assert login.status_code == 200, login.text
        await asyncio.to_thread(cluster.stop)
        async with connect(f"ws://127.0.0.1:{server.port}/ws", open_timeout=10) as ws:
            token = login.json()["access_token"]
            await ws.send(json.dumps({"type": "authenticate", "token": token}))
            frames: list[str] = []
            with contextlib.suppress(ConnectionClosed):
                while True:
                    frames.append(str(await asyncio.wait_for(ws.recv(), 5)))
            code = ws.close_code
        assert not any('"unauthorized"' in f or '"auth_required"' in f for f in frames), frames
        assert code == 1013, (code, frames)
    finally:
        kill_servers([server])
    assert "Traceback" not in server.log
    assert "Exception in ASGI application" not in server.log
