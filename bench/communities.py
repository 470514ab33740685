"""App-open latency on a large instance, and SQL statements per request (no N+1).

    .venv/bin/python -m bench.communities [--quick] [--requests 200] [--database-url URL]

Seeds (bench/_seed.py) a large instance: 10,000 users, 100 communities (one of 5,000 members,
a long tail of small ones), 500 groups, 2,000 community channels, 2,050 DMs (``--quick``: a
tenth of it). Then:

1. Latency: ONE ``chatalot serve`` process (uvicorn, pinned to CPU 0; CHATALOT_ENV=dev and
   CHATALOT_RATE_LIMITS=off) on a fresh database (embedded PostgreSQL, or a new database on
   ``--database-url``, dropped afterwards). For a heavy user (40 communities including the big
   one, 50 DMs) and a light user (one small community), each call the client makes when the
   app opens (``{mine}``: the big community for the heavy user, the light user's own one) is
   sent ``--requests`` times in sequence over one keep-alive connection, after a warm-up;
   p50/p95 in ms, flagged when p95 > 20 ms. A call answering 404/405 is reported as missing
   (not written yet), any other non-200 as an error; neither stops the run.
2. SQL statements per request, counted in-process: the app built with
   ``chatalot.app.create_app`` on a pool whose connections have an asyncpg query logger,
   driven through ``httpx.ASGITransport``; ``sql`` counts every statement, ``tx`` of them are
   transaction control (BEGIN/COMMIT/SAVEPOINT...). The count must be the same for the heavy
   and the light user (it must not grow with the number of communities, groups or channels
   returned); a difference is flagged ``N+1?``.

The load generator (this process) and PostgreSQL run on CPU 1 when there are two CPUs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench._seed import BENCH_PASSWORD, Seeded, Shape, seed
from bench._server import ROOT, bench_database, free_port
from bench.edge import LOAD_CPU, base_env, start, stop, wait_healthy

TARGET_P95_MS = 20.0
CALLS = (
    "/api/auth/config",
    "/api/account/me",
    "/api/communities",
    "/api/channels",
    "/api/dms",
    "/api/users/blocked",
    "/api/account/preferences",
    "/api/channels/unread",
    "/api/communities/{mine}/groups",
    "/api/communities/{mine}/members",
)
TX_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "START")


@dataclass
class Timing:
    status: int
    items: int | None  # length of a JSON list answer (or of its first list value)
    p50: float = 0.0
    p95: float = 0.0


@dataclass
class SqlCount:
    status: int
    sql: int
    tx: int


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def count_items(response: httpx.Response) -> int | None:
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, list):
        return len(body)
    if isinstance(body, dict):
        for value in body.values():
            if isinstance(value, list):
                return len(value)
    return None


def state(status: int) -> str:
    if status == 200:
        return "ok"
    if status in (404, 405):
        return f"missing ({status})"
    return f"error ({status})"


# -- 1. latency against one server process ---------------------------------------------------


def login(url: str, username: str) -> str:
    response = httpx.post(
        f"{url}/api/auth/login",
        json={"username": username, "password": BENCH_PASSWORD},
        timeout=60,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def time_calls(url: str, token: str, paths: list[str], requests: int, warmup: int) -> list[Timing]:
    results = []
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as http:
        for path in paths:
            first = http.get(path)
            timing = Timing(first.status_code, count_items(first))
            if first.status_code != 200:
                results.append(timing)
                continue
            for _ in range(warmup):
                http.get(path)
            samples = []
            for _ in range(requests):
                started = time.perf_counter()
                response = http.get(path)
                samples.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    timing.status = response.status_code
                    break
            if samples:
                timing.p50 = statistics.median(samples)
                timing.p95 = percentile(samples, 0.95)
            results.append(timing)
    return results


# -- 2. SQL statements per request, in-process -----------------------------------------------


class StatementCounter:
    def __init__(self) -> None:
        self.sql = 0
        self.tx = 0

    def __call__(self, record: Any) -> None:
        self.sql += 1
        if record.query.lstrip().upper().startswith(TX_CONTROL):
            self.tx += 1


async def count_statements(
    dsn: str, seeded: Seeded, paths: dict[str, list[str]]
) -> dict[str, list[SqlCount]]:
    from chatalot import __version__
    from chatalot.app import create_app
    from chatalot.clock import SystemClock
    from chatalot.config import load_settings
    from chatalot.context import Ctx
    from chatalot.db.codecs import register_codecs
    from chatalot.db.database import Database
    from chatalot.db.pool import release_without_reset
    from chatalot.ratelimit import UnlimitedRateLimiter
    from chatalot.security.passwords import PasswordHasher
    from chatalot.security.tokens import JwtKeys, TokenService

    counter = StatementCounter()

    async def init(conn: Any) -> None:
        await register_codecs(conn)
        conn.add_query_logger(counter)

    pool = await asyncpg.create_pool(
        dsn, min_size=1, max_size=4, init=init, reset=release_without_reset
    )
    settings = load_settings(
        {
            "CHATALOT_ENV": "dev",
            "CHATALOT_MIGRATIONS_DIR": str(ROOT / "migrations"),
            "STATIC_FILES_PATH": "/nonexistent-static",
            "CHATALOT_RATE_LIMITS": "off",
        }
    )
    clock = SystemClock()
    passwords = PasswordHasher()
    ctx = Ctx(
        db=Database(pool, acquire_timeout=10),
        settings=settings,
        clock=clock,
        started_monotonic=clock.monotonic(),
        version=__version__,
        tokens=TokenService(JwtKeys.generate(), clock),
        passwords=passwords,
        limiter=UnlimitedRateLimiter(),
    )
    users = {"heavy": (seeded.heavy_id, seeded.heavy_username)}
    users["light"] = (seeded.light_id, seeded.light_username)
    results: dict[str, list[SqlCount]] = {}
    try:
        transport = httpx.ASGITransport(app=create_app(ctx))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for label, (user_id, name) in users.items():
                token = ctx.tokens.issue_access_token(
                    user_id=user_id, username=name, is_admin=False, is_owner=False
                )
                headers = {"Authorization": f"Bearer {token}"}
                counts = []
                for path in paths[label]:
                    await client.get(path, headers=headers)  # warm caches
                    before_sql, before_tx = counter.sql, counter.tx
                    response = await client.get(path, headers=headers)
                    counts.append(
                        SqlCount(
                            response.status_code,
                            counter.sql - before_sql,
                            counter.tx - before_tx,
                        )
                    )
                results[label] = counts
    finally:
        passwords.close()
        await pool.close()
    return results


# -- running it --------------------------------------------------------------------------------


@contextmanager
def server(dsn: str, workdir: Path) -> Iterator[str]:
    port = free_port()
    ours_dir = workdir / "ours"
    ours_dir.mkdir()
    env = base_env(
        DATABASE_URL=dsn,
        LISTEN_ADDR=f"127.0.0.1:{port}",
        CHATALOT_MIGRATIONS_DIR=str(ROOT / "migrations"),
        REGISTRATION_MODE="open",
        CHATALOT_ENV="dev",
        CHATALOT_RATE_LIMITS="off",
        CHATALOT_LOG_LEVEL="warning",
    )
    target = start("ours", [sys.executable, "-m", "chatalot", "serve"], env, port, {}, ours_dir)
    try:
        wait_healthy(target, "/api/health")
        yield target.url
    finally:
        stop(target)


async def seed_database(dsn: str, shape: Shape) -> Seeded:
    from chatalot.security.passwords import PasswordHasher

    hasher = PasswordHasher()
    try:
        password_hash = await hasher.hash(BENCH_PASSWORD)
    finally:
        hasher.close()
    conn = await asyncpg.connect(dsn)
    try:
        return await seed(conn, shape, password_hash)
    finally:
        await conn.close()


def report(
    paths: list[str],
    timings: dict[str, list[Timing]],
    counts: dict[str, list[SqlCount]],
    requests: int,
) -> None:
    header = (
        f"{'call':34} {'user':5} {'state':13} {'items':>5} {'p50 ms':>7} {'p95 ms':>7}"
        f" {'sql':>4} {'tx':>3}  flags"
    )
    print(f"\n{requests} sequential requests per call and user (after warm-up)")
    print(header)
    print("-" * len(header))
    for i, path in enumerate(paths):
        sql_by_user = {u: counts[u][i].sql for u in counts}
        n_plus_one = len(set(sql_by_user.values())) > 1
        for user in ("heavy", "light"):
            t = timings[user][i]
            c = counts[user][i]
            flags = []
            if t.status == 200 and t.p95 > TARGET_P95_MS:
                flags.append(f"p95 > {TARGET_P95_MS:.0f} ms")
            if n_plus_one and t.status == 200:
                flags.append("N+1? (sql differs between users)")
            timing = f"{t.p50:7.2f} {t.p95:7.2f}" if t.status == 200 else f"{'-':>7} {'-':>7}"
            items = "-" if t.items is None else str(t.items)
            print(
                f"{path:34} {user:5} {state(t.status):13} {items:>5} {timing}"
                f" {c.sql:>4} {c.tx:>3}  {', '.join(flags)}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a tenth of the instance (smoke run)")
    parser.add_argument("--requests", type=int, default=200, help="measured per call and user")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--database-url", help="an existing PostgreSQL (default: embedded)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()

    if len(os.sched_getaffinity(0)) >= 2:
        os.sched_setaffinity(0, {LOAD_CPU})  # PostgreSQL started below inherits it
    shape = Shape.quick() if args.quick else Shape()
    workdir = Path(tempfile.mkdtemp(prefix="chatalot-communities-"))
    workdir.chmod(0o755)
    print(
        f"date {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, Python "
        f"{sys.version.split()[0]}; server pinned to CPU 0, load generator and PostgreSQL on "
        f"CPU {LOAD_CPU}; rate limits off"
    )
    try:
        with bench_database(args.database_url, workdir, durable=False) as dsn, ExitStack() as stack:
            url = stack.enter_context(server(dsn, workdir))  # applies the migrations
            started = time.perf_counter()
            seeded = asyncio.run(seed_database(dsn, shape))
            print(f"seeded in {time.perf_counter() - started:.1f} s: {seeded.counts}")
            paths = {
                "heavy": [p.replace("{mine}", str(seeded.big_community)) for p in CALLS],
                "light": [p.replace("{mine}", str(seeded.light_community)) for p in CALLS],
            }
            timings = {
                "heavy": time_calls(
                    url,
                    login(url, seeded.heavy_username),
                    paths["heavy"],
                    args.requests,
                    args.warmup,
                ),
                "light": time_calls(
                    url,
                    login(url, seeded.light_username),
                    paths["light"],
                    args.requests,
                    args.warmup,
                ),
            }
            counts = asyncio.run(count_statements(dsn, seeded, paths))
            report(list(CALLS), timings, counts, args.requests)
    finally:
        if args.keep:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
