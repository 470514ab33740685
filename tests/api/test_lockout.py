"""Lockouts that a stranger cannot turn against the owner: counted per (account, client
address) with an account-wide ceiling that does not apply to addresses the account signed in
from, for sign-in, recovery, password re-entry and 2FA management."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest

from chatalot.app import create_app
from chatalot.clock import FakeClock
from chatalot.context import Ctx
from chatalot.security import totp
from chatalot.services import lockout
from tests.support.auth import PASSWORD, make_user, register

WRONG = "Wrong-Password-1"
LOGIN_LOCKED = "account temporarily locked, try again in 900 seconds"

Client = Callable[[str], httpx.AsyncClient]


@asynccontextmanager
async def from_addresses(ctx: Ctx) -> AsyncIterator[Client]:
    """``client(ip)``: an HTTP client whose requests come from ``ip`` (one app for all)."""
    app = create_app(ctx)
    clients: dict[str, httpx.AsyncClient] = {}

    def client(ip: str) -> httpx.AsyncClient:
        if ip not in clients:
            transport = httpx.ASGITransport(app=app, client=(ip, 40000))
            clients[ip] = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        return clients[ip]

    try:
        yield client
    finally:
        for c in clients.values():
            await c.aclose()


@pytest.fixture
async def client_at(ctx: Ctx) -> AsyncIterator[Client]:
    async with from_addresses(ctx) as client:
        yield client


def clock(ctx: Ctx) -> FakeClock:
    assert isinstance(ctx.clock, FakeClock)
    return ctx.clock


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> Any:
    return await client.post("/api/auth/login", json={"username": username, "password": password})


def answer(response: httpx.Response) -> tuple[int, Any, str | None]:
    return response.status_code, response.json(), response.headers.get("retry-after")


async def test_a_stranger_locks_only_their_own_address(ctx: Ctx, client_at: Client) -> None:
    """10 wrong passwords from one address lock the account for that address only (even the
    right password gets 429 there); the owner signs in from elsewhere."""
    await make_user(ctx, "victim")
    stranger = client_at("203.0.113.66")
    for _ in range(10):
        assert (await login(stranger, "victim", WRONG)).status_code == 401
    locked = await login(stranger, "victim")
    assert answer(locked) == (
        429,
        {"error": {"code": "rate_limited", "message": LOGIN_LOCKED}},
        "900",
    )
    assert (await login(client_at("198.51.100.7"), "victim")).status_code == 200
    clock(ctx).advance(15 * 60 + 1)
    assert (await login(stranger, "victim")).status_code == 200


async def fail_from_many(client_at: Client, username: str, failures: int, subnet: int) -> None:
    """``failures`` wrong passwords from 10.{subnet}.0.x, at most 9 per address (so no
    address gets locked)."""
    for n in range(failures):
        response = await login(client_at(f"10.{subnet}.0.{n // 9 + 1}"), username, WRONG)
        assert response.status_code == 401, response.text


async def test_distributed_failures_hit_the_account_ceiling_but_not_known_addresses(
    ctx: Ctx, client_at: Client
) -> None:
    """100 failures from many addresses lock the account for addresses it never used; an
    address it signed in from keeps working; a success does not reset the ceiling."""
    await make_user(ctx, "target")
    home = client_at("198.51.100.20")
    assert (await login(home, "target")).status_code == 200  # a session from home
    clock(ctx).advance(60)
    await fail_from_many(client_at, "target", 95, subnet=1)
    laptop = client_at("198.51.100.77")
    assert (await login(laptop, "target")).status_code == 200  # the owner, from a new place
    await fail_from_many(client_at, "target", 5, subnet=2)
    elsewhere = await login(client_at("203.0.113.200"), "target")
    assert answer(elsewhere) == (
        429,
        {"error": {"code": "rate_limited", "message": LOGIN_LOCKED}},
        "900",
    )
    assert (await login(home, "target")).status_code == 200
    assert (await login(laptop, "target")).status_code == 200  # it signed in after all
    clock(ctx).advance(15 * 60 + 1)
    assert (await login(client_at("203.0.113.200"), "target")).status_code == 200


async def test_unknown_usernames_are_locked_exactly_like_known_ones(
    ctx: Ctx, client_at: Client
) -> None:
    """The same failures give the same answers (status, body, Retry-After) for an account that
    exists and a name that does not: the lockout reveals nothing."""
    await make_user(ctx, "realname")
    transcripts = []
    for name in ("realname", "ghostname"):
        seen = []
        for _ in range(10):
            seen.append(answer(await login(client_at("203.0.113.5"), name, WRONG)))
        seen.append(answer(await login(client_at("203.0.113.5"), name, WRONG)))
        for n in range(90):
            seen.append(answer(await login(client_at(f"192.0.2.{n // 9 + 1}"), name, WRONG)))
        seen.append(answer(await login(client_at("203.0.113.99"), name, WRONG)))
        transcripts.append(seen)
    assert transcripts[0] == transcripts[1]
    assert transcripts[0][10][0] == 429  # the pair lock
    assert transcripts[0][-1][0] == 429  # the account-wide ceiling


async def test_ipv6_addresses_count_by_their_64(ctx: Ctx, client_at: Client) -> None:
    """Walking through addresses of one IPv6 /64 counts as one address; another /64 is
    another address."""
    await make_user(ctx, "sixer")
    for n in range(1, 11):
        assert (await login(client_at(f"2001:db8:1:2::{n:x}"), "sixer", WRONG)).status_code == 401
    assert (await login(client_at("2001:db8:1:2::beef"), "sixer")).status_code == 429
    assert (await login(client_at("2001:db8:1:3::1"), "sixer")).status_code == 200


async def test_recovery_lockout_is_per_address(ctx: Ctx, client_at: Client) -> None:
    """10 wrong recovery codes lock recovery of that account from that address only."""
    data = await register(client_at("198.51.100.1"), "forgetter")
    body = {"username": "forgetter", "recovery_code": "AAAA-BBBB-CCCC-DDDD"}
    body["new_password"] = "N3w-Password!"
    stranger = client_at("203.0.113.66")
    for _ in range(10):
        assert (await stranger.post("/api/auth/recover", json=body)).status_code == 400
    right = {**body, "recovery_code": data["recovery_code"]}
    assert (await stranger.post("/api/auth/recover", json=right)).status_code == 429
    owner = await client_at("198.51.100.2").post("/api/auth/recover", json=right)
    assert owner.status_code == 200, owner.text


async def test_password_reentry_lockout_is_per_address(ctx: Ctx, client_at: Client) -> None:
    """10 wrong current passwords lock password changes from that address only: a thief with
    a copied token cannot lock the owner out of changing the password."""
    user = await make_user(ctx, "changer")

    async def change(ip: str, current: str) -> httpx.Response:
        return await client_at(ip).put(
            "/api/account/password",
            json={"current_password": current, "new_password": "Brand-New-Pass-2"},
            headers=user.headers,
        )

    for _ in range(10):
        response = await change("203.0.113.66", WRONG)
        assert response.json()["error"]["message"] == "current password is incorrect"
    locked = await change("203.0.113.66", PASSWORD)
    assert locked.status_code == 429
    assert locked.json()["error"]["message"] == "too many attempts — try again in 900 seconds"
    assert (await change("198.51.100.3", PASSWORD)).status_code == 200


async def test_missing_address_counts_as_one_unknown_address(ctx: Ctx) -> None:
    """Requests without a client address (None) share one counter, "unknown", separate from
    real addresses."""
    now = ctx.clock.now()
    async with ctx.db.transaction("test_lockout") as tx:
        for _ in range(10):
            await lockout.record_failure(tx.conn, "login", "nobody", None, now)
        with pytest.raises(Exception, match="account temporarily locked"):
            await lockout.ensure_not_locked(
                tx.conn, "login", "NOBODY", None, now, "account temporarily locked {N}"
            )
        await lockout.ensure_not_locked(
            tx.conn, "login", "nobody", "203.0.113.1", now, "account temporarily locked {N}"
        )


@pytest.mark.parametrize(
    ("ip", "key"),
    [
        (None, "unknown"),
        ("", "unknown"),
        ("not an address", "unknown"),
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
    ],
)
def test_address_key(ip: str | None, key: str) -> None:
    """IPv4 addresses count one by one, IPv6 by /64, IPv4-mapped IPv6 as IPv4, else unknown."""
    assert lockout.address_key(ip) == key


async def test_totp_management_lockout_is_per_address(ctx: Ctx, client_at: Client) -> None:
    """10 wrong 2FA codes lock 2FA management from that address only; the owner, elsewhere,
    turns 2FA on with the right code."""
    user = await make_user(ctx, "twofa")
    setup = await client_at("198.51.100.4").post("/api/totp/setup", headers=user.headers, json={})
    secret = base64.b32decode(setup.json()["secret"])
    now = ctx.clock.now()
    valid = {totp.code_for(secret, now + timedelta(seconds=30 * d)) for d in (-1, 0, 1)}
    wrong = next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)
    thief = client_at("203.0.113.66")
    for _ in range(10):
        response = await thief.post("/api/totp/verify", headers=user.headers, json={"code": wrong})
        assert response.json()["error"]["message"] == "invalid TOTP code"
    right = {"code": totp.code_for(secret, now)}
    locked = await thief.post("/api/totp/verify", headers=user.headers, json=right)
    assert locked.status_code == 429
    owner = await client_at("198.51.100.4").post(
        "/api/totp/verify", headers=user.headers, json=right
    )
    assert owner.status_code == 200, owner.text
