"""Message history on a channel of 1,000,000 messages (issue 8).

    .venv/bin/python -m bench.history [--messages 1000000] [--requests 2000] [--database-url URL]

Set-up: an embedded PostgreSQL (or a fresh database on ``--database-url``) and ONE
``chatalot serve`` process pinned to CPU 0 (CHATALOT_ENV=dev, rate limits off); this client
and PostgreSQL on CPU 1. SQL seeding (bench/_seed.py): one 20-member text channel holding
``--messages`` messages, one every 30 s (a year of history for a million), plus
``--other-channels`` channels of ``--other-messages`` messages each, so that the table is not
the channel alone; inserted with one INSERT ... SELECT generate_series per channel, never
through the API; then VACUUM ANALYZE. A member's access token is minted with the server's
key.

Measured, each request in sequence over one keep-alive HTTP connection after a warm-up:

- ``newest``: ``GET /api/channels/{id}/messages`` (the default page: 50, newest first);
- ``random before``: ``?before=<id>`` for ids drawn at random from the whole channel (cold
  pages: most of them are not in PostgreSQL's cache);
- ``scrolling``: from the newest page on, each request ``before`` the oldest message of the
  previous page (a user scrolling up).

Each answer must be 200 with 50 messages. Reported: p50/p95/p99/max in ms; target p95 < 10 ms.
Then ``EXPLAIN (ANALYZE, BUFFERS)`` of the statements the server runs for one page (the
repository functions of repositories/messages.py and channels.py called on a connection that
explains instead of fetching), once as a custom plan and once as the generic plan a prepared
statement may switch to after five executions.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench._seed import ChatChannel, bulk_messages, seed_chat_channels
from bench._server import bench_database
from bench._ws_clients import (
    BenchKeys,
    load_average,
    machine,
    percentile,
    start_server,
)
from bench.edge import stop

LOAD_CPU = 1
TARGET_P95_MS = 10.0
PAGE = 50
LONG_ARRAY = re.compile(r"'\{([^,}]+),[^}]{100,}\}'")  # a page's 50 ids: the first one only


@dataclass
class Series:
    label: str
    samples: list[float]

    def row(self) -> str:
        ordered = sorted(self.samples)
        p95 = percentile(ordered, 0.95)
        verdict = "met" if p95 < TARGET_P95_MS else "NOT met"
        return (
            f"{self.label:16} {len(ordered):6d} {statistics.median(ordered):7.2f} {p95:7.2f}"
            f" {percentile(ordered, 0.99):7.2f} {ordered[-1]:7.2f}  {verdict}"
        )


# -- seeding ---------------------------------------------------------------------------------


async def seed(dsn: str, args: argparse.Namespace) -> tuple[ChatChannel, float]:
    conn = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        channels = await seed_chat_channels(
            conn, channels=1 + args.other_channels, members=20, prefix="hist"
        )
        newest = datetime.now(UTC).replace(microsecond=0)
        target = channels[0]
        senders = [m[0] for m in target.members]
        await bulk_messages(conn, target.id, senders, args.messages, newest=newest)
        for other in channels[1:]:
            await bulk_messages(
                conn, other.id, [m[0] for m in other.members], args.other_messages, newest=newest
            )
        await conn.execute("VACUUM ANALYZE messages")
        return target, time.perf_counter() - started
    finally:
        await conn.close()


async def sample_ids(dsn: str, channel_id: uuid.UUID, count: int) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT id FROM messages WHERE channel_id = $1 ORDER BY random() LIMIT $2",
            channel_id,
            count,
        )
        return [str(r["id"]) for r in rows]
    finally:
        await conn.close()


# -- timing ------------------------------------------------------------------------------------


def timed(http: httpx.Client, path: str, params: dict[str, str]) -> tuple[float, list[Any]]:
    started = time.perf_counter()
    response = http.get(path, params=params)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"GET {path} {params}: {response.status_code} {response.text[:300]}")
    body = response.json()
    return elapsed, body


def measure(
    url: str, token: str, channel_id: uuid.UUID, ids: list[str], args: argparse.Namespace
) -> list[Series]:
    path = f"/api/channels/{channel_id}/messages"
    headers = {"Authorization": f"Bearer {token}"}
    short = 0

    def check(body: list[Any]) -> None:
        nonlocal short
        if len(body) != PAGE:
            short += 1

    with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
        for _ in range(args.warmup):
            timed(http, path, {})
        newest = Series("newest", [])
        for _ in range(args.requests):
            elapsed, body = timed(http, path, {})
            check(body)
            newest.samples.append(elapsed)
        random_before = Series("random before", [])
        for message_id in ids:
            elapsed, body = timed(http, path, {"before": message_id})
            check(body)
            random_before.samples.append(elapsed)
        scrolling = Series("scrolling", [])
        _, body = timed(http, path, {})
        for _ in range(args.scroll):
            elapsed, body = timed(http, path, {"before": body[-1]["id"]})
            check(body)
            scrolling.samples.append(elapsed)
    if short:
        print(f"note: {short} pages had fewer than {PAGE} messages")
    return [newest, random_before, scrolling]


# -- EXPLAIN ---------------------------------------------------------------------------------


class ExplainingConn:
    """Stands in for an asyncpg connection: every statement a repository function runs is
    explained (ANALYZE, BUFFERS) on the real connection instead, and answers nothing."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.plans: list[tuple[str, str]] = []

    async def _explain(self, sql: str, args: tuple[Any, ...]) -> None:
        rows = await self.conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *args)
        plan = "\n".join(r[0] for r in rows)
        self.plans.append((sql, LONG_ARRAY.sub(lambda m: f"'{{{m.group(1)}, ...}}'", plan)))

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        await self._explain(sql, args)
        return []

    async def fetchrow(self, sql: str, *args: Any) -> None:
        await self._explain(sql, args)

    async def fetchval(self, sql: str, *args: Any) -> None:
        await self._explain(sql, args)


async def explain(dsn: str, channel: ChatChannel, before: str) -> None:
    from chatalot.db.codecs import register_codecs
    from chatalot.ids import ChannelId, UserId
    from chatalot.repositories import channels as channels_repo
    from chatalot.repositories import messages as messages_repo

    conn = await asyncpg.connect(dsn)
    try:
        await register_codecs(conn)
        channel_id = ChannelId(channel.id)
        now = datetime.now(UTC)
        page = await messages_repo.list_channel_messages(
            conn, channel_id, before=uuid.UUID(before), limit=PAGE, now=now
        )
        ids = [r.id for r in page]
        calls: list[tuple[str, Callable[[Any], Any]]] = [
            (
                "membership (channels.select_channel_role)",
                lambda c: channels_repo.select_channel_role(
                    c, channel_id, UserId(channel.members[1][0])
                ),
            ),
            (
                "newest page (messages.list_channel_messages, before=None)",
                lambda c: messages_repo.list_channel_messages(
                    c, channel_id, before=None, limit=PAGE, now=now
                ),
            ),
            (
                "page before a message (messages.list_channel_messages, before=id)",
                lambda c: messages_repo.list_channel_messages(
                    c, channel_id, before=uuid.UUID(before), limit=PAGE, now=now
                ),
            ),
            (
                "reactions of the page (messages.list_reactions)",
                lambda c: messages_repo.list_reactions(c, ids),
            ),
            (
                "thread counts of the page (messages.thread_stats)",
                lambda c: messages_repo.thread_stats(c, ids),
            ),
        ]
        for mode in ("force_custom_plan", "force_generic_plan"):
            await conn.execute(f"SET plan_cache_mode = {mode}")
            print(f"\n===== EXPLAIN (ANALYZE, BUFFERS), plan_cache_mode = {mode} =====")
            for title, call in calls:
                spy = ExplainingConn(conn)
                await call(spy)
                for sql, plan in spy.plans:
                    print(f"\n--- {title}")
                    if mode == "force_custom_plan":
                        print(" ".join(sql.split()))
                    print(plan)
    finally:
        await conn.close()


# -- running it --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=1_000_000, help="in the measured channel")
    parser.add_argument("--other-channels", type=int, default=9)
    parser.add_argument("--other-messages", type=int, default=100_000, help="per other channel")
    parser.add_argument("--requests", type=int, default=2000, help="per series (scroll: --scroll)")
    parser.add_argument("--scroll", type=int, default=1000, help="pages scrolled up")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--database-url", help="an existing PostgreSQL (default: embedded)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()

    if len(os.sched_getaffinity(0)) >= 2:
        os.sched_setaffinity(0, {LOAD_CPU})  # PostgreSQL started below inherits it
    workdir = Path(tempfile.mkdtemp(prefix="chatalot-history-"))
    workdir.chmod(0o755)
    print(
        f"date {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}, load average "
        f"{load_average()}; server on CPU 0, client and PostgreSQL on CPU {LOAD_CPU}"
    )
    try:
        keys = BenchKeys(workdir / "keys")
        with bench_database(args.database_url, workdir) as dsn:
            server = start_server("server", dsn, workdir, keys, cpu=0)
            try:
                channel, took = asyncio.run(seed(dsn, args))
                total = args.messages + args.other_channels * args.other_messages
                print(
                    f"seeded {args.messages:,} messages in the channel and "
                    f"{args.other_channels * args.other_messages:,} in {args.other_channels} "
                    f"others ({total:,} rows) in {took:.1f} s"
                )
                ids = asyncio.run(sample_ids(dsn, channel.id, args.requests))
                user_id, username = channel.members[1]
                token = keys.token(user_id, username)
                print(f"measuring, load average {load_average()}")
                series = measure(server.url, token, channel.id, ids, args)
                print(f"load average after: {load_average()}\n")
                print(f"{'series':16} {'n':>6} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}  ms")
                for s in series:
                    print(s.row())
                print(f"(target: p95 < {TARGET_P95_MS:.0f} ms)")
                asyncio.run(explain(dsn, channel, ids[len(ids) // 2]))
            finally:
                stop(server)
    finally:
        if args.keep:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
