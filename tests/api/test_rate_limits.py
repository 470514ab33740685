"""Token buckets per client IP: 50/20 s⁻¹ for everything, 10/5 s⁻¹ more on the auth routes;
client addresses come from forwarding headers only behind TRUSTED_PROXIES."""

from __future__ import annotations

import ipaddress
import os
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from chatalot.api.client_ip import ClientIpResolver
from chatalot.app import create_app
from chatalot.context import Ctx
from chatalot.ratelimit import AUTH_RULE, GLOBAL_RULE, LocalRateLimiter, RedisRateLimiter


class Ticker:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticker() -> Ticker:
    return Ticker()


@pytest.fixture
async def limited(ctx: Ctx, ticker: Ticker) -> AsyncIterator[httpx.AsyncClient]:
    ctx.limiter = LocalRateLimiter(monotonic=ticker)
    transport = httpx.ASGITransport(app=create_app(ctx), client=("203.0.113.7", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


async def test_global_bucket(limited: httpx.AsyncClient, ticker: Ticker) -> None:
    """50 requests pass at once, the 51st gets 429 with Retry-After; tokens refill at 20/s."""
    for _ in range(50):
        assert (await limited.get("/api/health")).status_code == 200
    blocked = await limited.get("/api/health")
    assert blocked.status_code == 429
    assert blocked.json() == {
        "error": {"code": "rate_limited", "message": "too many requests, please slow down"}
    }
    assert blocked.headers["retry-after"] == "1"
    assert blocked.headers["x-content-type-options"] == "nosniff"  # still has security headers
    ticker.now += 0.5  # 10 tokens back
    for _ in range(10):
        assert (await limited.get("/")).status_code == 200
    assert (await limited.get("/")).status_code == 429


async def test_auth_bucket(limited: httpx.AsyncClient, ticker: Ticker) -> None:
    """Auth routes (config included) allow 10 at once, then 429 'too many authentication attempts'."""
    for _ in range(10):
        assert (await limited.get("/api/auth/config")).status_code == 200
    blocked = await limited.post("/api/auth/login", json={"username": "x", "password": "y"})
    assert blocked.status_code == 429
    assert blocked.json()["error"]["message"] == "too many authentication attempts"
    assert (await limited.get("/api/health")).status_code == 200  # other routes unaffected
    ticker.now += 0.2  # one auth token back (5/s)
    assert (await limited.get("/api/auth/config")).status_code == 200


async def test_preflight_is_free(limited: httpx.AsyncClient) -> None:
    """CORS preflights consume no tokens."""
    for _ in range(60):
        await limited.options(
            "/api/auth/login",
            headers={"Origin": "tauri://localhost", "Access-Control-Request-Method": "POST"},
        )
    assert (await limited.get("/api/health")).status_code == 200


async def test_cors_allows_configured_origins(limited: httpx.AsyncClient) -> None:
    """The desktop client's origin may call the API; a random origin gets no CORS grant."""
    ok = await limited.options(
        "/api/auth/login",
        headers={
            "Origin": "tauri://localhost",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, authorization",
        },
    )
    assert ok.headers.get("access-control-allow-origin") == "tauri://localhost"
    evil = await limited.get("/api/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in evil.headers


def resolver(*trusted: str) -> ClientIpResolver:
    return ClientIpResolver([ipaddress.ip_network(t) for t in trusted])


@pytest.mark.parametrize(
    ("peer", "headers", "expected"),
    [
        ("198.51.100.9", {"x-forwarded-for": "1.2.3.4"}, "198.51.100.9"),  # untrusted peer: ignored
        ("127.0.0.1", {"x-forwarded-for": "1.2.3.4"}, "1.2.3.4"),
        ("127.0.0.1", {"x-forwarded-for": "6.6.6.6, 1.2.3.4"}, "1.2.3.4"),  # rightmost untrusted
        ("127.0.0.1", {"x-forwarded-for": "1.2.3.4, 10.0.0.5"}, "1.2.3.4"),  # skip trusted hop
        ("127.0.0.1", {"cf-connecting-ip": "9.9.9.9", "x-forwarded-for": "1.2.3.4"}, "9.9.9.9"),
        ("127.0.0.1", {"x-real-ip": "2001:db8::1"}, "2001:db8::1"),
        ("127.0.0.1", {"x-forwarded-for": "not-an-ip"}, "127.0.0.1"),
        ("127.0.0.1", {"cf-connecting-ip": "garbage"}, "127.0.0.1"),
        ("::ffff:127.0.0.1", {"x-forwarded-for": "5.5.5.5"}, "5.5.5.5"),  # v4-mapped loopback
        ("127.0.0.1", {}, "127.0.0.1"),
    ],
)
def test_client_ip(peer: str, headers: dict[str, str], expected: str) -> None:
    """Forwarding headers count only from trusted peers; spoofed left entries are skipped."""
    assert resolver("127.0.0.1/32", "::1/128", "10.0.0.0/8").resolve(peer, headers) == expected


async def test_spoofed_header_cannot_dodge_the_limit(ctx: Ctx, ticker: Ticker) -> None:
    """An untrusted client rotating X-Forwarded-For still shares one bucket."""
    ctx.limiter = LocalRateLimiter(monotonic=ticker)
    transport = httpx.ASGITransport(app=create_app(ctx), client=("203.0.113.8", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        statuses = [
            (await c.get("/api/health", headers={"X-Forwarded-For": f"10.1.{i}.1"})).status_code
            for i in range(51)
        ]
    assert statuses.count(429) == 1


async def test_local_limiter_sweeps_idle_buckets(ticker: Ticker) -> None:
    """Buckets idle for 10 minutes are dropped (memory stays bounded)."""
    limiter = LocalRateLimiter(monotonic=ticker)
    for i in range(100):
        await limiter.take(GLOBAL_RULE, f"10.0.0.{i}")
        await limiter.take(AUTH_RULE, f"10.0.0.{i}")
    assert limiter.bucket_count() == 200
    ticker.now += 601
    await limiter.take(GLOBAL_RULE, "fresh")
    assert limiter.bucket_count() == 1


REDIS_URL = os.environ.get("CHATALOT_TEST_REDIS_URL")


@pytest.mark.redis
@pytest.mark.skipif(not REDIS_URL, reason="set CHATALOT_TEST_REDIS_URL to test the Redis limiter")
async def test_redis_limiter_is_shared_between_processes() -> None:
    """Two limiters (two server processes) on one Redis draw from the same bucket."""
    assert REDIS_URL is not None
    prefix = f"chatalot:test:{uuid.uuid4().hex}"
    a, b = RedisRateLimiter(REDIS_URL, prefix=prefix), RedisRateLimiter(REDIS_URL, prefix=prefix)
    try:
        results = []
        for i in range(12):
            limiter = a if i % 2 == 0 else b
            results.append((await limiter.take(AUTH_RULE, "198.51.100.1")).allowed)
        assert results.count(True) == 10
        denied = await a.take(AUTH_RULE, "198.51.100.1")
        assert not denied.allowed and denied.retry_after >= 1
        assert (await b.take(AUTH_RULE, "198.51.100.2")).allowed  # other keys unaffected
    finally:
        await a.close()
        await b.close()
