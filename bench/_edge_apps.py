"""The two reference apps of bench/edge.py, each served by its own uvicorn process.

- ``raw_app``: a raw ASGI callable, no framework.
- ``bare_app``: a default Litestar app, no middleware.

Both answer ``GET /json`` with a small fixed JSON object (the counterpart of our
``GET /api/auth/config``) and ``GET /me`` with the caller's profile: the same repository query
as ``GET /api/account/me`` (``users.select_user``, on a pool opened by our ``open_pool``, so
the pool settings are ours) shaped by the same ``user_public`` and encoded with msgspec. They
read ``DATABASE_URL`` and ``BENCH_USER_ID`` from the environment.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from litestar import Litestar, get

from chatalot.api.shapes import user_public
from chatalot.config import PoolSettings
from chatalot.db.dsn import parse_database_url
from chatalot.db.pool import open_pool
from chatalot.ids import UserId
from chatalot.protocol.api.users import UserPublic
from chatalot.repositories import users as users_repo

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]


class SmallConfig(msgspec.Struct):
    registration_mode: str
    max_messages_cache: int
    max_pins_per_channel: int
    e2e_enabled: bool
    public_url: str | None = None


CONFIG = SmallConfig("open", 500, 50, True)


class _State:
    pool: Any = None
    user_id: UserId = UserId(uuid.UUID(int=0))


state = _State()


async def _open() -> None:
    state.user_id = UserId(uuid.UUID(os.environ["BENCH_USER_ID"]))
    state.pool = await open_pool(parse_database_url(os.environ["DATABASE_URL"]), PoolSettings())


async def _close() -> None:
    if state.pool is not None:
        await state.pool.close()


async def _me() -> UserPublic:
    async with state.pool.acquire() as conn:
        row = await users_repo.select_user(conn, state.user_id)
    assert row is not None
    return user_public(row)


# -- raw ASGI ------------------------------------------------------------------------------

_JSON_HEADERS = [(b"content-type", b"application/json")]


async def raw_app(
    scope: Scope,
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await _open()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await _close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    if path == "/json":
        body = msgspec.json.encode(CONFIG)
    elif path == "/me":
        body = msgspec.json.encode(await _me())
    else:
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    headers = [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# -- bare Litestar -------------------------------------------------------------------------


@get("/json")
async def get_json() -> SmallConfig:
    return CONFIG


@get("/me")
async def get_me() -> UserPublic:
    return await _me()


@asynccontextmanager
async def _lifespan(_app: Litestar) -> AsyncIterator[None]:
    await _open()
    try:
        yield
    finally:
        await _close()


bare_app = Litestar(route_handlers=[get_json, get_me], lifespan=[_lifespan])
