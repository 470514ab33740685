"""Message search on 5,000,000 plaintext messages over 2,000 channels (issue 9).

    .venv/bin/python -m bench.search [--messages 5000000] [--requests 200] [--database-url URL]

Set-up: an embedded PostgreSQL (durable; or a fresh database on ``--database-url``), this client
and PostgreSQL on CPU 1, ONE ``chatalot serve`` process on CPU 0 (CHATALOT_ENV=dev, rate limits
off). Steps, each timed:

1. migrations (all of them, on an empty database); 2,000 text channels of 10 members (5,000
   users, bench/_seed.py), and the searcher, a member of ``--member-channels`` of them;
2. seeding: ``--messages`` messages with COPY (the two search indexes dropped first, as a bulk
   load would), spread evenly over the last year and at random over the channels; texts from
   bench/_search_corpus.py (Zipf over ~5,000 words), 2% of them file messages; the search
   columns filled as the server fills them (services/search_text.py; the trigger makes the
   tsvector);
3. the index build: the two search indexes of migrations 046 and 047, CREATE INDEX
   CONCURRENTLY, with their sizes;
4. the backfill: the newest ``--backfill`` messages are reset to "not classified" (as an upgrade
   finds them), the server is started, and its index_messages job classifies them; rows/s;
5. searches: ``--requests`` requests per kind, in sequence over one keep-alive connection after
   a warm-up, each kind globally (``/api/messages/search``) and in one channel (a random one of
   the searcher's per request): common words (ranks 1-40), medium words (ranks 100-1,000), rare
   words (ranks 2,000-5,000), phrases (two adjacent words of a random message, quoted),
   prefixes (the first 3-5 letters of a word of rank 60-3,000) and partial words (4 letters from
   inside such a word). p50/p95/p99/max in ms; target p95 < 200 ms;
6. the insert-rate cost of indexing: COPY of ``--insert-rows`` messages with the search columns
   filled and without (as the server stores an encrypted message: not indexable), then
   single-row INSERT transactions as the server does per message (durable commits), each way;
7. ``EXPLAIN (ANALYZE, BUFFERS)`` of the global search of one query of each kind (the
   repository's statement, custom plan as the server runs it).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench._search_corpus import Vocabulary, message_texts
from bench._seed import ChatChannel, det_id, seed_chat_channels
from bench._server import ROOT, bench_database
from bench._ws_clients import BenchKeys, load_average, machine, percentile, start_server
from bench.edge import stop
from bench.history import LONG_ARRAY

LOAD_CPU = 1
TARGET_P95_MS = 200.0
LANGUAGE = "simple"
COPY_CHUNK = 50_000
COLUMNS = [
    "id",
    "channel_id",
    "sender_id",
    "ciphertext",
    "nonce",
    "message_type",
    "created_at",
    "search_text",
    "search_config",
]
SEARCHER = "searcher"
GIN_INDEX = (
    "CREATE INDEX CONCURRENTLY idx_messages_search ON messages"
    " USING gin (search_tsv, search_text gin_trgm_ops) WHERE search_text IS NOT NULL"
)
BTREE_INDEX = (
    "CREATE INDEX CONCURRENTLY idx_messages_search_recent ON messages"
    " (search_config, created_at DESC) WHERE search_config IS NULL OR search_config <> ''"
)


@dataclass
class Series:
    label: str
    samples: list[float] = field(default_factory=list)
    results: list[int] = field(default_factory=list)

    def row(self) -> str:
        ordered = sorted(self.samples)
        p95 = percentile(ordered, 0.95)
        verdict = "met" if p95 < TARGET_P95_MS else "NOT met"
        return (
            f"| {self.label} | {len(ordered)} | {statistics.median(ordered):.1f} | {p95:.1f} |"
            f" {percentile(ordered, 0.99):.1f} | {ordered[-1]:.1f} |"
            f" {statistics.mean(self.results):.1f} | {verdict} |"
        )


@dataclass
class World:
    channels: list[ChatChannel]
    searcher_id: uuid.UUID
    member_of: list[uuid.UUID]
    vocabulary: Vocabulary


# -- seeding ---------------------------------------------------------------------------------------


def v7(at: datetime, rng: random.Random) -> uuid.UUID:
    """A UUIDv7 for ``at`` (milliseconds first, as the server makes ids)."""
    ms = int(at.timestamp() * 1000)
    rand = rng.getrandbits(74)
    value = (ms << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & (2**62 - 1))
    return uuid.UUID(int=value)


def message_rows(
    world: World, count: int, *, newest: datetime, seed: int, indexed: bool = True
) -> Iterator[tuple[Any, ...]]:
    """``count`` message rows for COPY, oldest first, one year up to ``newest``."""
    from chatalot.services.search_text import searchable_text

    rng = random.Random(seed)
    span = 365 * 86400
    start = newest - timedelta(seconds=span)
    nonce = bytes(12)
    for i, text in enumerate(message_texts(world.vocabulary, count, seed)):
        at = start + timedelta(seconds=span * (i + 1) / count)
        channel = world.channels[rng.randrange(len(world.channels))]
        sender = channel.members[rng.randrange(len(channel.members))][0]
        kind = "text"
        if rng.random() < 0.02:
            kind = "file"
            text = "-".join(text.lower().split()[:3]).strip(".?!🙂🎉 ") + ".pdf"
        body = text.encode()
        search_text = searchable_text(body) if indexed else None
        config = LANGUAGE if search_text is not None else ""
        yield (v7(at, rng), channel.id, sender, body, nonce, kind, at, search_text, config)


async def copy_rows(conn: Any, rows: Iterator[tuple[Any, ...]]) -> int:
    total = 0
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == COPY_CHUNK:
            await conn.copy_records_to_table("messages", records=chunk, columns=COLUMNS)
            total += len(chunk)
            chunk = []
    if chunk:
        await conn.copy_records_to_table("messages", records=chunk, columns=COLUMNS)
        total += len(chunk)
    return total


async def relation_sizes(conn: Any) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT relname, pg_relation_size(oid) AS size FROM pg_class WHERE relname = ANY($1)",
        ["messages", "idx_messages_search", "idx_messages_search_recent"],
    )
    return {r["relname"]: r["size"] for r in rows}


def mib(size: int) -> str:
    return f"{size / 1024 / 1024:,.0f} MiB"


async def prepare(dsn: str, args: argparse.Namespace) -> World:
    from chatalot.db.migrate import discover, run_migrations

    conn = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        await run_migrations(conn, discover(ROOT / "migrations"))
        channels = await seed_chat_channels(
            conn, channels=args.channels, members=10, prefix="srch", users=args.channels * 5 // 2
        )
        searcher = det_id("search-searcher")
        await conn.execute(
            "INSERT INTO users (id, username, display_name, email, password_hash)"
            " VALUES ($1, $2, 'Searcher', 'searcher@bench.invalid', '!bench-no-login')",
            searcher,
            SEARCHER,
        )
        rng = random.Random(5)
        member_of = [c.id for c in rng.sample(channels, min(args.member_channels, len(channels)))]
        await conn.executemany(
            "INSERT INTO channel_members (channel_id, user_id, role) VALUES ($1, $2, 'member')",
            [(c, searcher) for c in member_of],
        )
        print(f"migrated, {len(channels):,} channels: {time.perf_counter() - started:.1f} s")
        world = World(channels, searcher, member_of, Vocabulary.build(args.words))

        await conn.execute("DROP INDEX idx_messages_search")
        await conn.execute("DROP INDEX idx_messages_search_recent")
        started = time.perf_counter()
        newest = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
        copied = await copy_rows(conn, message_rows(world, args.messages, newest=newest, seed=11))
        took = time.perf_counter() - started
        print(
            f"seeded {copied:,} messages with COPY (search columns filled, tsvector by the"
            f" trigger, search indexes dropped): {took:.0f} s, {copied / took:,.0f} rows/s"
        )
        for label, statement in (("GIN (046)", GIN_INDEX), ("btree (047)", BTREE_INDEX)):
            started = time.perf_counter()
            await conn.execute(statement)
            print(f"built {label} concurrently: {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        await conn.execute("VACUUM ANALYZE messages")
        await conn.execute("ANALYZE")  # the searcher's memberships too
        print(f"VACUUM ANALYZE: {time.perf_counter() - started:.1f} s")
        sizes = await relation_sizes(conn)
        print(
            f"sizes: table messages {mib(sizes['messages'])}, idx_messages_search (GIN)"
            f" {mib(sizes['idx_messages_search'])}, idx_messages_search_recent (btree)"
            f" {mib(sizes['idx_messages_search_recent'])}"
        )
        if args.backfill:
            started = time.perf_counter()
            await conn.execute(
                """
                UPDATE messages SET search_text = NULL, search_config = NULL
                 WHERE id IN (SELECT id FROM messages ORDER BY created_at DESC LIMIT $1)
                """,
                args.backfill,
            )
            await conn.execute("VACUUM ANALYZE messages")
            print(
                f"reset the newest {args.backfill:,} messages to 'not classified':"
                f" {time.perf_counter() - started:.1f} s"
            )
        return world
    finally:
        await conn.close()


async def wait_for_backfill(dsn: str, expected: int) -> None:
    """Polls until the server's index_messages job has classified every message."""
    conn = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        left = expected
        while left:
            await asyncio.sleep(1)
            left = await conn.fetchval("SELECT count(*) FROM messages WHERE search_config IS NULL")
        took = time.perf_counter() - started
        print(
            f"backfill by the server's index_messages job: {expected:,} messages in {took:.0f} s"
            f" (including its first-run delay of 1 s): {expected / took:,.0f} rows/s"
        )
        await conn.execute("VACUUM ANALYZE messages")
    finally:
        await conn.close()


# -- queries ---------------------------------------------------------------------------------------


async def sample_phrases(dsn: str, count: int, rng: random.Random) -> list[str]:
    """Two adjacent words of random messages (at least 3 letters each), quoted."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT search_text FROM messages TABLESAMPLE SYSTEM (1)"
            " WHERE message_type = 'text' AND search_text IS NOT NULL LIMIT 20000"
        )
    finally:
        await conn.close()
    phrases: list[str] = []
    texts = [r["search_text"].strip(".?!🙂🎉 ").split() for r in rows]
    rng.shuffle(texts)
    for words in texts:
        pairs = [(a, b) for a, b in itertools.pairwise(words) if len(a) > 2 and len(b) > 2]
        if pairs:
            a, b = rng.choice(pairs)
            phrases.append(f'"{a} {b}"')
        if len(phrases) == count:
            break
    return phrases


def query_kinds(
    world: World, count: int, phrases: list[str], rng: random.Random
) -> dict[str, list[str]]:
    words = world.vocabulary.words

    def ranked(low: int, high: int) -> list[str]:
        """Words of these ranks (1-based), at least 2 letters (the shortest query)."""
        pool = [w for w in words[low - 1 : high] if len(w) >= 2]
        return [rng.choice(pool) for _ in range(count)]

    made_up = [w for w in words[60:3000] if len(w) >= 6]
    prefixes = []
    partials = []
    for _ in range(count):
        word = rng.choice(made_up)
        prefixes.append(word[: rng.randrange(3, 6)])
        start = rng.randrange(1, len(word) - 4)
        partials.append(word[start : start + 4])
    return {
        "common words": ranked(1, 40),
        "medium words": ranked(100, 1000),
        "rare words": ranked(2000, 5000),
        "phrases": phrases,
        "prefixes": prefixes,
        "partial words": partials,
    }


def measure(
    url: str, token: str, world: World, kinds: dict[str, list[str]], args: argparse.Namespace
) -> list[Series]:
    rng = random.Random(17)
    out: list[Series] = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=120) as http:
        warm = [q for queries in kinds.values() for q in queries[: args.warmup]]
        for q in warm:
            http.get("/api/messages/search", params={"q": q})
        for scope in ("global", "channel"):
            for kind, queries in kinds.items():
                series = Series(f"{kind}, {scope}")
                for q in queries:
                    path = "/api/messages/search"
                    if scope == "channel":
                        path = f"/api/channels/{rng.choice(world.member_of)}/messages/search"
                    started = time.perf_counter()
                    response = http.get(path, params={"q": q})
                    series.samples.append((time.perf_counter() - started) * 1000)
                    if response.status_code != 200:
                        raise SystemExit(f"{path} q={q!r}: {response.status_code} {response.text}")
                    series.results.append(len(response.json()))
                out.append(series)
                print(series.row(), flush=True)
    return out


class ExplainingConn:
    """Stands in for an asyncpg connection: every statement is explained (ANALYZE, BUFFERS)
    and then run for real, so that a search's second statement (when it needs one) is seen."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.plans: list[str] = []

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        rows = await self.conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *args)
        self.plans.append(LONG_ARRAY.sub(lambda m: f"'{{{m.group(1)}, ...}}'", _plan(rows)))
        return list(await self.conn.fetch(sql, *args))

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self.conn.fetchval(sql, *args)


def _plan(rows: list[Any]) -> str:
    return "\n".join(r[0] for r in rows)


async def explain(dsn: str, world: World, kinds: dict[str, list[str]]) -> None:
    from chatalot.db.codecs import register_codecs
    from chatalot.ids import ChannelId
    from chatalot.repositories import search as search_repo
    from chatalot.repositories.search import InChannels, SearchFilters
    from chatalot.services.search_text import fold

    conn = await asyncpg.connect(dsn)
    try:
        await register_codecs(conn)
        await conn.execute("SET plan_cache_mode = force_custom_plan")
        for kind, queries in kinds.items():
            spy = ExplainingConn(conn)
            await search_repo.list_matching_messages(
                spy,  # type: ignore[arg-type]  # stands in for the connection
                InChannels([ChannelId(c) for c in world.member_of]),
                query=fold(queries[0]),
                language=LANGUAGE,
                filters=SearchFilters(),
                now=datetime.now(UTC),
                limit=20,
            )
            for n, plan in enumerate(spy.plans, 1):
                print(f"\n--- {kind}, global: q={queries[0]!r}, statement {n} of {len(spy.plans)}")
                print(plan)
    finally:
        await conn.close()


# -- insert rate -----------------------------------------------------------------------------------


async def insert_rates(dsn: str, world: World, args: argparse.Namespace) -> None:
    from chatalot.db.codecs import register_codecs
    from chatalot.ids import ChannelId, UserId
    from chatalot.repositories import messages as messages_repo
    from chatalot.services.search_text import searchable_text

    conn = await asyncpg.connect(dsn)
    try:
        await register_codecs(conn)
        channel = world.channels[0]  # not one of the searcher's: the searches are done
        newest = datetime.now(UTC)
        copy: dict[bool, list[float]] = {True: [], False: []}
        for round_ in range(2):
            for indexed in (True, False):
                rows = list(
                    message_rows(
                        World([channel], world.searcher_id, [], world.vocabulary),
                        args.insert_rows,
                        newest=newest,
                        seed=100 + 2 * round_ + int(indexed),
                        indexed=indexed,
                    )
                )
                started = time.perf_counter()
                await copy_rows(conn, iter(rows))
                copy[indexed].append(args.insert_rows / (time.perf_counter() - started))
        for indexed in (True, False):
            print(
                f"COPY {args.insert_rows:,} rows, search columns"
                f" {'filled' if indexed else 'empty (not indexable)'}:"
                f" {statistics.median(copy[indexed]):,.0f} rows/s (median of 2)"
            )
        texts = list(message_texts(world.vocabulary, args.insert_single, 23))
        for indexed in (True, False):
            started = time.perf_counter()
            for text in texts:
                body = text.encode()
                search_text = searchable_text(body) if indexed else None
                async with conn.transaction():
                    await messages_repo.insert_message(
                        conn,
                        message_id=uuid.uuid4(),
                        channel_id=ChannelId(channel.id),
                        sender_id=UserId(channel.members[0][0]),
                        ciphertext=body,
                        nonce=bytes(12),
                        message_type="text",
                        sender_key_id=None,
                        reply_to_id=None,
                        thread_id=None,
                        created_at=datetime.now(UTC),
                        expires_at=None,
                        search_text=search_text,
                        search_config=LANGUAGE if search_text is not None else "",
                    )
            rate = len(texts) / (time.perf_counter() - started)
            print(
                f"single-row INSERT transactions (the server's statement, durable commit), search"
                f" columns {'filled' if indexed else 'empty'}: {rate:,.0f} rows/s"
            )
    finally:
        await conn.close()


# -- running it ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=5_000_000)
    parser.add_argument("--channels", type=int, default=2_000)
    parser.add_argument("--member-channels", type=int, default=500, help="the searcher's")
    parser.add_argument("--words", type=int, default=5_000, help="made-up words in the corpus")
    parser.add_argument("--requests", type=int, default=200, help="per kind of query and scope")
    parser.add_argument("--warmup", type=int, default=10, help="per kind of query")
    parser.add_argument("--backfill", type=int, default=200_000)
    parser.add_argument("--insert-rows", type=int, default=100_000, help="per COPY")
    parser.add_argument("--insert-single", type=int, default=2_000, help="per kind")
    parser.add_argument("--database-url", help="an existing PostgreSQL (default: embedded)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    args.backfill = min(args.backfill, args.messages)

    if len(os.sched_getaffinity(0)) >= 2:
        os.sched_setaffinity(0, {LOAD_CPU})  # PostgreSQL started below inherits it
    workdir = Path(tempfile.mkdtemp(prefix="chatalot-search-"))
    workdir.chmod(0o755)
    print(
        f"date {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}, load average "
        f"{load_average()}; server on CPU 0, client and PostgreSQL on CPU {LOAD_CPU}"
    )
    try:
        keys = BenchKeys(workdir / "keys")
        with bench_database(args.database_url, workdir) as dsn:
            world = asyncio.run(prepare(dsn, args))
            server = start_server("server", dsn, workdir, keys, cpu=0)
            try:
                if args.backfill:
                    asyncio.run(wait_for_backfill(dsn, args.backfill))
                rng = random.Random(29)
                phrases = asyncio.run(sample_phrases(dsn, args.requests, rng))
                kinds = query_kinds(world, args.requests, phrases, rng)
                print(f"\nmeasuring, load average {load_average()}")
                print("| query | n | p50 ms | p95 ms | p99 ms | max ms | results | p95 < 200 ms |")
                print("|---|---|---|---|---|---|---|---|")
                token = keys.token(world.searcher_id, SEARCHER)
                measure(server.url, token, world, kinds, args)
                print(f"load average after: {load_average()}\n")
                asyncio.run(insert_rates(dsn, world, args))
                asyncio.run(explain(dsn, world, kinds))
            finally:
                stop(server)
    finally:
        if args.keep:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
