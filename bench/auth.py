"""Authentication costs.

    .venv/bin/python bench/auth.py

1. Per-request authentication overhead: verifying an access token (EdDSA signature, claims)
   plus the suspension check, in-process, no HTTP. Target: < 0.1 ms.
2. Login storm against a real server (embedded PostgreSQL, production Argon2id: 64 MiB, t=3,
   p=4): N concurrent clients log in for a fixed time while one client measures GET /api/health
   (an unrelated request). Reports login throughput and latency, and the unrelated request's
   p50/p99 idle and during the storm. Target: unrelated p99 < 100 ms during the storm.
   Server pinned to CPU 0, load generator to CPU 1 (taskset), so Argon2 competes only with the
   server's own event loop. Each request carries a distinct X-Forwarded-For (loopback is a
   trusted proxy) so the per-IP rate limits do not cap the storm.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from datetime import UTC, datetime
from itertools import count

import httpx

from bench._server import running_server
from chatalot.clock import SystemClock
from chatalot.security.tokens import JwtKeys, TokenService
from chatalot.services.suspensions import SuspensionRegistry


def auth_overhead(iterations: int = 20000) -> tuple[float, float]:
    """(steady state: a token seen before, first sight of a token) in ms per request."""
    registry = SuspensionRegistry()
    for _ in range(1000):
        registry.mark(uuid.uuid4(), True)
    service = TokenService(JwtKeys.generate(), SystemClock(), cache_size=iterations + 1)
    tokens = [
        service.issue_access_token(
            user_id=uuid.uuid4(), username="bench", is_admin=False, is_owner=False
        )
        for _ in range(iterations)
    ]

    def run() -> float:
        started = time.perf_counter()
        for token in tokens:
            claims = service.verify_access_token(token)
            if registry.is_suspended(claims.user_id):
                raise AssertionError
        return (time.perf_counter() - started) / iterations * 1000

    first = run()  # every token new: full EdDSA verification
    steady = run()  # every token seen before (a client reuses its token for 15 minutes)
    return steady, first


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


async def storm(url: str, clients: int, seconds: float) -> None:
    ips = count(1)

    def headers() -> dict[str, str]:
        n = next(ips)
        return {"X-Forwarded-For": f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"}

    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        from tests.support.auth import key_payload

        body = {
            "username": "benchuser",
            "email": "bench@example.com",
            "password": "Bench-Pass-1",
            "display_name": "Bench",
            **key_payload(),
        }
        r = await http.post("/api/auth/register", json=body, headers=headers())
        r.raise_for_status()

        async def probe(duration: float) -> list[float]:
            samples = []
            end = time.perf_counter() + duration
            while time.perf_counter() < end:
                t = time.perf_counter()
                (await http.get("/api/health", headers=headers())).raise_for_status()
                samples.append((time.perf_counter() - t) * 1000)
                await asyncio.sleep(0.01)
            return samples

        idle = await probe(3)
        logins: list[float] = []
        stop = time.perf_counter() + seconds

        async def login_loop() -> None:
            while time.perf_counter() < stop:
                t = time.perf_counter()
                resp = await http.post(
                    "/api/auth/login",
                    json={"username": "benchuser", "password": "Bench-Pass-1"},
                    headers=headers(),
                )
                resp.raise_for_status()
                logins.append((time.perf_counter() - t) * 1000)

        busy, *_ = await asyncio.gather(probe(seconds), *(login_loop() for _ in range(clients)))
    print(f"login storm: {clients} concurrent clients, {seconds:.0f} s")
    print(
        f"  logins: {len(logins) / seconds:.1f}/s, latency p50 {statistics.median(logins):.0f} ms,"
        f" p99 {percentile(logins, 0.99):.0f} ms (n={len(logins)})"
    )
    for name, values in (("idle", idle), ("storm", busy)):
        print(
            f"  GET /api/health {name:6} p50 {statistics.median(values):.1f} ms,"
            f" p99 {percentile(values, 0.99):.1f} ms (n={len(values)})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()
    print(f"date {datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} CPUs")
    steady, first = auth_overhead()
    print(
        f"auth overhead (verify JWT + suspension check): {steady * 1000:.1f} µs per request"
        f" (a token's first request: {first * 1000:.1f} µs)"
    )
    with running_server(cpu=None) as url:
        asyncio.run(storm(url, args.clients, args.seconds))


if __name__ == "__main__":
    main()
