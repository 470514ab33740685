"""Realtime test wiring: the app served by a real uvicorn (in this test's event loop, on a free
loopback port) with a hub and a LocalBroker as the Database's sink, so that REST actions of the
``client`` fixture reach WebSocket clients (``websockets`` library) exactly as in production,
while the database work is still rolled back at the end of each test."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from chatalot.app import create_app
from chatalot.config import Settings
from chatalot.context import Ctx
from chatalot.db.database import Database
from chatalot.realtime.broker import LocalBroker
from chatalot.realtime.hub import Hub, WsLimits
from chatalot.realtime.ws_protocol import FastWebSocketProtocol
from chatalot.security.passwords import PasswordHasher
from chatalot.security.tokens import JwtKeys
from tests.conftest import RecordingSink, build_ctx

TIMEOUT = 5.0


class Served:
    """The running server: ``ws_url`` and ``connect_ws`` for clients."""

    def __init__(self, ctx: Ctx, port: int) -> None:
        self.ctx = ctx
        self.ws_url = f"ws://127.0.0.1:{port}/ws"


@pytest.fixture
def limits() -> WsLimits:
    return WsLimits()


@pytest.fixture
def ctx(
    db_conn: Any,
    settings: Settings,
    sink: RecordingSink,
    passwords: PasswordHasher,
    jwt_keys: JwtKeys,
    limits: WsLimits,
) -> Ctx:
    """The test context, with a hub and a LocalBroker that the Database publishes to (the
    ``sink`` fixture still records every batch)."""
    hub = Hub(limits)
    broker = LocalBroker(hub)

    async def both(events: Any) -> None:
        await sink(events)
        await broker.publish(events)

    db = Database.single_connection(db_conn, sink=both)
    return build_ctx(db, settings, passwords, jwt_keys, hub=hub, broker=broker)


@pytest.fixture
async def served(ctx: Ctx) -> AsyncIterator[Served]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        create_app(ctx),
        ws=FastWebSocketProtocol,
        lifespan="off",
        log_config=None,
        access_log=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield Served(ctx, port)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


async def recv(ws: ClientConnection, timeout: float = TIMEOUT) -> dict[str, Any]:
    raw = await asyncio.wait_for(ws.recv(), timeout)
    assert isinstance(raw, str), raw
    frame = json.loads(raw)
    assert isinstance(frame, dict)
    return frame


PRESENCE_FRAMES = frozenset({"presence_update", "presence_bulk"})


async def recv_skipping_heartbeat(
    ws: ClientConnection, timeout: float = TIMEOUT, *, presence: bool = False
) -> dict[str, Any]:
    """The next frame that is not a server heartbeat (a pong with a Unix-seconds timestamp;
    tests use small negative timestamps for their own pings) nor, unless ``presence``, a
    presence frame (background noise for every test but the presence ones)."""
    while True:
        frame = await recv(ws, timeout)
        if frame["type"] == "pong" and frame["timestamp"] >= 0:
            continue
        if not presence and frame["type"] in PRESENCE_FRAMES:
            continue
        return frame


async def sync(
    ws: ClientConnection, marker: int = -1, *, presence: bool = False
) -> list[dict[str, Any]]:
    """Every non-heartbeat frame (presence frames only if ``presence``) received before the
    echo of a ping sent now."""
    await ws.send(json.dumps({"type": "ping", "timestamp": marker}))
    frames: list[dict[str, Any]] = []
    while True:
        frame = await recv_skipping_heartbeat(ws, presence=presence)
        if frame == {"type": "pong", "timestamp": marker}:
            return frames
        frames.append(frame)


async def closed_code(ws: ClientConnection, timeout: float = TIMEOUT) -> int | None:
    """Reads until the server closes; the close code it sent."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


Open = Callable[..., Awaitable[ClientConnection]]


@pytest.fixture
async def open_ws(served: Served) -> AsyncIterator[Open]:
    """``await open_ws(token)``: a client authenticated with ``token`` (checked: the
    ``authenticated`` frame and the first heartbeat arrived); ``token=None``: just connected."""
    opened: list[ClientConnection] = []

    async def open_(token: str | None = None) -> ClientConnection:
        ws = await connect(served.ws_url, open_timeout=TIMEOUT, max_size=None)
        opened.append(ws)
        if token is not None:
            await ws.send(json.dumps({"type": "authenticate", "token": token}))
            first = await recv(ws)
            assert first["type"] == "authenticated", first
            beat = await recv(ws)
            if beat["type"] == "presence_bulk":  # online community mates, before the heartbeat
                beat = await recv(ws)
            assert beat["type"] == "pong" and beat["timestamp"] > 0, beat
        return ws

    yield open_
    for ws in opened:
        await ws.close()
