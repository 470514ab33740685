"""Suspension, deletion and ended sessions take effect on every server process at once: two app
instances, each with its own pool, Ctx and notification listener, share one database (real
commits)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest

from chatalot.app import create_app
from chatalot.clock import SystemClock
from chatalot.config import PoolSettings, Settings
from chatalot.context import Ctx
from chatalot.db.database import Database
from chatalot.db.notify import NotificationListener
from chatalot.db.pool import open_pool
from chatalot.security.passwords import PasswordHasher
from chatalot.security.tokens import JwtKeys
from chatalot.services import revoked_sessions, suspensions
from tests.conftest import build_ctx
from tests.support.auth import PASSWORD, bearer, make_user
from tests.support.pg import PgServer

pytestmark = pytest.mark.fresh_db

WAIT_SECONDS = 5.0


@dataclass
class Node:
    """One server process: its own pool, Ctx, listener and HTTP client."""

    ctx: Ctx
    client: httpx.AsyncClient


async def eventually(check: Callable[[], Awaitable[bool]]) -> float:
    """Polls ``check`` until it is true (at most WAIT_SECONDS); returns the seconds it took."""
    started = time.monotonic()
    while True:
        if await check():
            return time.monotonic() - started
        if time.monotonic() - started > WAIT_SECONDS:
            raise AssertionError(f"condition not met within {WAIT_SECONDS} s")
        await asyncio.sleep(0.02)


@pytest.fixture
async def nodes(
    pg: PgServer, fresh_db: str, settings: Settings, passwords: PasswordHasher, jwt_keys: JwtKeys
) -> AsyncIterator[tuple[Node, Node]]:
    url = pg.url(fresh_db)
    pools = []
    listeners = []
    clients = []
    built = []
    try:
        for _ in range(2):
            pool = await open_pool(url, PoolSettings(max_connections=4, min_connections=1))
            pools.append(pool)
            ctx = build_ctx(
                Database(pool, acquire_timeout=5),
                settings,
                passwords,
                jwt_keys,
                clock=SystemClock(),
            )
            listener = NotificationListener(
                url.dsn,
                {
                    suspensions.CHANNEL: ctx.suspensions.on_notification,
                    revoked_sessions.CHANNEL: ctx.revoked_sessions.on_notification,
                },
            )
            await listener.start()
            listeners.append(listener)
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=create_app(ctx)), base_url="http://testserver"
            )
            clients.append(client)
            built.append(Node(ctx, client))
        yield built[0], built[1]
    finally:
        for client in clients:
            await client.aclose()
        for listener in listeners:
            await listener.stop()
        for pool in pools:
            await pool.close()


async def status_on(node: Node, headers: dict[str, str]) -> int:
    return (await node.client.get("/api/account/sessions", headers=headers)).status_code


async def test_suspension_reaches_the_other_process(nodes: tuple[Node, Node]) -> None:
    """Suspending through process A makes process B refuse the user's token within seconds
    (no restart, no shared memory); unsuspending through B restores access on both."""
    a, b = nodes
    await make_user(a.ctx, "boss", is_admin=True, is_owner=True)
    admin = await make_user(a.ctx, "helper", is_admin=True)
    target = await make_user(a.ctx, "target")
    assert await status_on(a, target.headers) == 200
    assert await status_on(b, target.headers) == 200

    response = await a.client.post(
        f"/api/admin/users/{target.id}/suspend", json={"reason": "abuse"}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    assert await status_on(a, target.headers) == 401  # the acting process knows at once

    async def refused_on_b() -> bool:
        return await status_on(b, target.headers) == 401

    await eventually(refused_on_b)
    assert b.ctx.suspensions.is_suspended(target.id)

    response = await b.client.post(
        f"/api/admin/users/{target.id}/unsuspend", json={}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    assert await status_on(b, target.headers) == 200

    async def accepted_on_a() -> bool:
        return await status_on(a, target.headers) == 200

    await eventually(accepted_on_a)


async def test_deleted_users_token_is_refused_everywhere(nodes: tuple[Node, Node]) -> None:
    """Deleting an account through A makes B refuse its still-unexpired access token."""
    a, b = nodes
    await make_user(a.ctx, "boss", is_admin=True, is_owner=True)
    admin = await make_user(a.ctx, "helper", is_admin=True)
    doomed = await make_user(a.ctx, "doomed")
    assert await status_on(b, doomed.headers) == 200

    response = await a.client.delete(f"/api/admin/users/{doomed.id}", headers=admin.headers)
    assert response.status_code == 200, response.text
    assert await status_on(a, doomed.headers) == 401

    async def refused_on_b() -> bool:
        return await status_on(b, doomed.headers) == 401

    await eventually(refused_on_b)


async def test_refused_suspension_notifies_nobody(nodes: tuple[Node, Node]) -> None:
    """A suspension that fails (an admin target) rolls back its notification: B keeps
    accepting the token."""
    a, b = nodes
    await make_user(a.ctx, "boss", is_admin=True, is_owner=True)
    admin = await make_user(a.ctx, "helper", is_admin=True)
    other_admin = await make_user(a.ctx, "helper2", is_admin=True)
    response = await a.client.post(
        f"/api/admin/users/{other_admin.id}/suspend", json={}, headers=admin.headers
    )
    assert response.status_code == 400
    # a later, successful notification proves the channel works and nothing else was queued
    plain = await make_user(a.ctx, "plain")
    ok = await a.client.post(f"/api/admin/users/{plain.id}/suspend", json={}, headers=admin.headers)
    assert ok.status_code == 200

    async def plain_refused_on_b() -> bool:
        return await status_on(b, plain.headers) == 401

    await eventually(plain_refused_on_b)
    assert await status_on(b, other_admin.headers) == 200
    assert not b.ctx.suspensions.is_suspended(other_admin.id)


async def test_ended_session_is_refused_on_the_other_process(nodes: tuple[Node, Node]) -> None:
    """Logging out everywhere through A makes B refuse the session's access token, which B had
    already verified and cached, within seconds."""
    a, b = nodes
    await make_user(a.ctx, "boss", is_admin=True, is_owner=True)
    await make_user(a.ctx, "roamer")
    login = await a.client.post(
        "/api/auth/login", json={"username": "roamer", "password": PASSWORD}
    )
    headers = bearer(login.json()["access_token"])
    assert await status_on(b, headers) == 200
    response = await a.client.post("/api/account/logout-all", json={}, headers=headers)
    assert response.status_code == 200, response.text
    assert await status_on(a, headers) == 401

    async def refused_on_b() -> bool:
        return await status_on(b, headers) == 401

    await eventually(refused_on_b)
