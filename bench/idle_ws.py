"""Memory of idle WebSocket connections on ONE server process (issue 8).

    .venv/bin/python -m bench.idle_ws [--connections 10000] [--subscribe 10] [--idle 30] [--deflate]

Set-up: an embedded PostgreSQL (or a fresh database on ``--database-url``) and one
``chatalot serve`` process pinned to CPU 0 (CHATALOT_ENV=dev, HTTP rate limits off); this
client and PostgreSQL on CPU 1. ``--connections`` users are seeded with SQL, in channels of 100
members such that every user is in ``--subscribe`` channels; each user gets a minted access
token and ONE connection (raw asyncio client, bench/_ws_clients.py), from source addresses
127.0.0.2 ... (``--source-addresses`` of them, so no address runs out of ports), at most
``--concurrency`` handshakes at a time (a handshake the server drops is retried, at most
3 times, and counted). ``--deflate`` offers permessage-deflate, as browsers do.

The server's resident memory (VmRSS) is read:

1. ``baseline``: after start-up and one warm-up connection (authenticate, subscribe, close);
2. ``authenticated``: every connection authenticated;
3. ``subscribed``: every connection also subscribed to its channels (a ``ping`` round trip
   confirms each subscribe was handled);
4. ``idle``: after ``--idle`` seconds of nothing but heartbeats (the server's ``pong`` every
   15 s, uvicorn's WebSocket ping every 20 s); the server's CPU use over that time;
5. ``closed``: every connection closed, a few seconds later.

Per connection = (phase - baseline) / connections, in KiB. Target: < 20 KB per connection.
``--tracemalloc`` then shows which source lines allocated that memory (Python allocations;
the RSS figures of such a run include tracemalloc's own bookkeeping).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from bench._seed import ChatChannel, seed_chat_channels
from bench._server import bench_database
from bench._ws_clients import (
    BenchKeys,
    HandshakeFailed,
    WsClient,
    connect,
    connect_all,
    cpu_seconds,
    load_average,
    machine,
    rss_kib,
    start_server,
)
from bench.edge import Target, stop

LOAD_CPU = 1
MEMBERS = 100
TARGET_KIB = 20_000 / 1024  # 20 KB
SETTLE = 3.0
RETRIES = 3  # a handshake the server dropped (it does when its database pool is exhausted)


class IdleClient(WsClient):
    frames = 0

    def on_text(self, payload: bytes, now: int) -> None:
        IdleClient.frames += 1
        super().on_text(payload, now)


async def seed(dsn: str, connections: int, subscribe: int) -> tuple[list[ChatChannel], int]:
    channels = max(1, connections * subscribe // MEMBERS)
    members = min(MEMBERS, connections)
    conn = await asyncpg.connect(dsn)
    try:
        seeded = await seed_chat_channels(
            conn,
            channels=channels,
            members=members,
            prefix="idle",
            users=connections,
        )
    finally:
        await conn.close()
    return seeded, channels


def memberships(seeded: list[ChatChannel]) -> dict[str, tuple[object, list[str]]]:
    """username -> (user id, the channels to subscribe to)."""
    out: dict[str, tuple[object, list[str]]] = {}
    for channel in seeded:
        for user_id, username in channel.members:
            out.setdefault(username, (user_id, []))[1].append(str(channel.id))
    return out


def subscribe_frame(channel_ids: list[str]) -> bytes:
    ids = ",".join(f'"{c}"' for c in channel_ids)
    return f'{{"type":"subscribe","channel_ids":[{ids}]}}'.encode()


class Phases:
    def __init__(self, server: Target, connections: int, snapshots: Path | None) -> None:
        self.server = server
        self.connections = connections
        self.snapshots = snapshots
        self.rows: list[tuple[str, int, str]] = []
        self.baseline = 0

    def _snapshot(self) -> None:
        """Ask the server for a tracemalloc snapshot (SIGUSR1) and wait until it is written."""
        assert self.snapshots is not None
        path = self.snapshots / f"{len(self.rows)}.snap"
        self.server.proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 120
        size = -1
        while time.monotonic() < deadline:
            if path.exists() and path.stat().st_size == size:  # done growing
                return
            size = path.stat().st_size if path.exists() else -1
            time.sleep(0.5)
        raise SystemExit("the server wrote no tracemalloc snapshot")

    def allocations(self, phase: int, top: int = 25) -> None:
        """Where the memory of ``phase`` (index into the phases) over the baseline went, by
        source line, per connection (Python allocations only, as tracemalloc sees them)."""
        import tracemalloc

        assert self.snapshots is not None
        base = tracemalloc.Snapshot.load(str(self.snapshots / "0.snap"))
        later = tracemalloc.Snapshot.load(str(self.snapshots / f"{phase}.snap"))
        stats = later.compare_to(base, "lineno")
        growth = sum(s.size_diff for s in stats)
        label = self.rows[phase][0]
        print(
            f"\nPython allocations, {label} over baseline (tracemalloc): "
            f"{growth / 1024 / 1024:.1f} MiB, {growth / self.connections / 1024:.2f} KiB per"
            " connection; the largest by source line:"
        )
        for stat in stats[:top]:
            frame = stat.traceback[0]
            name = frame.filename.split("site-packages/")[-1].split("/src/")[-1]
            print(
                f"  {stat.size_diff / self.connections:8.0f} B/conn {stat.count_diff:+9d} blocks"
                f"  {name}:{frame.lineno}"
            )

    def record(self, label: str, note: str = "") -> None:
        if self.snapshots is not None:
            self._snapshot()
        rss = rss_kib(self.server.proc.pid)
        if not self.rows:
            self.baseline = rss
        self.rows.append((label, rss, note))
        print(f"  {label:14} server RSS {rss / 1024:8.1f} MiB  {note}", flush=True)

    def report(self) -> None:
        print(f"\n{'phase':14} {'RSS MiB':>9} {'+ MiB':>8} {'KiB/conn':>9}  target < 20 KB")
        for label, rss, note in self.rows:
            extra = rss - self.baseline
            per = extra / self.connections
            verdict = ""
            if label in ("authenticated", "subscribed", "idle"):
                verdict = "met" if per < TARGET_KIB else "NOT met"
            print(
                f"{label:14} {rss / 1024:9.1f} {extra / 1024:8.1f} {per:9.2f}  {verdict}"
                f"{'  ' + note if note else ''}"
            )


async def run(
    args: argparse.Namespace, server: Target, dsn: str, keys: BenchKeys, workdir: Path
) -> None:
    started = time.perf_counter()
    seeded, channels = await seed(dsn, args.connections, args.subscribe)
    users = memberships(seeded)
    print(
        f"seeded {args.connections} users in {channels} channels of {MEMBERS} in "
        f"{time.perf_counter() - started:.1f} s"
    )
    names = sorted(users)[: args.connections]
    tokens = [keys.token(users[n][0], n) for n in names]  # type: ignore[arg-type]
    port = server.port
    sources = [f"127.0.0.{2 + i}" for i in range(args.source_addresses)]

    def factory_for(token: str) -> IdleClient:
        return IdleClient("127.0.0.1", port, token, deflate=args.deflate)

    snapshots = workdir / "snapshots" if args.tracemalloc else None
    phases = Phases(server, args.connections, snapshots)
    # warm-up: the code paths of a session are loaded before the baseline
    warm = await connect(lambda: factory_for(tokens[0]), "127.0.0.1", port)
    warm.send_text(subscribe_frame(users[names[0]][1]))
    await warm.sync()
    warm.close()
    await asyncio.sleep(SETTLE)
    phases.record("baseline", f"load average {load_average()}")

    retries = 0

    async def opener(i: int) -> WsClient:
        nonlocal retries
        token = tokens[i]
        for attempt in range(RETRIES + 1):
            try:
                return await connect(
                    lambda: factory_for(token),
                    "127.0.0.1",
                    port,
                    local_addr=(sources[i % len(sources)], 0),
                )
            except (HandshakeFailed, OSError):
                if attempt == RETRIES:
                    raise
                retries += 1
                await asyncio.sleep(1)
        raise AssertionError("unreachable")

    def progress(done: int) -> None:
        if done % 2000 == 0:
            print(f"    {done} connected", flush=True)

    started = time.perf_counter()
    clients = await connect_all(
        args.connections, opener, concurrency=args.concurrency, progress=progress
    )
    took = time.perf_counter() - started
    deflate = sum(1 for c in clients if c.deflate)
    await asyncio.sleep(SETTLE)
    phases.record(
        "authenticated",
        f"{len(clients)} connections in {took:.1f} s ({len(clients) / took:.0f}/s),"
        f" {retries} handshakes retried, permessage-deflate on {deflate}",
    )

    async def subscriber(i: int) -> None:
        client = clients[i]
        client.send_text(subscribe_frame(users[names[i]][1]))
        await client.sync(timeout=120)

    started = time.perf_counter()
    await connect_all(args.connections, subscriber, concurrency=args.concurrency)
    await asyncio.sleep(SETTLE)
    phases.record(
        "subscribed",
        f"{args.subscribe} channels each, in {time.perf_counter() - started:.1f} s",
    )

    IdleClient.frames = 0
    cpu0 = cpu_seconds(server.proc.pid)
    started = time.perf_counter()
    await asyncio.sleep(args.idle)
    elapsed = time.perf_counter() - started
    cpu = (cpu_seconds(server.proc.pid) - cpu0) / elapsed
    closed = sum(1 for c in clients if c.closed.done())
    errors = sum(sum(c.errors.values()) for c in clients)
    phases.record(
        "idle",
        f"{args.idle:.0f} s: server CPU {100 * cpu:.1f}%, {IdleClient.frames} frames received,"
        f" {closed} closed, {errors} errors; load average {load_average()}",
    )
    for client in clients:
        client.close()
    await asyncio.sleep(SETTLE + 2)
    phases.record("closed")
    phases.report()
    if snapshots is not None:
        phases.allocations(1)
        phases.allocations(2)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--subscribe", type=int, default=10, help="channels per connection")
    parser.add_argument("--idle", type=float, default=30, help="idle seconds measured")
    parser.add_argument("--deflate", action="store_true", help="offer permessage-deflate")
    parser.add_argument("--concurrency", type=int, default=20, help="handshakes at a time")
    parser.add_argument("--source-addresses", type=int, default=4)
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="run the server under tracemalloc and show where each connection's memory goes "
        "(RSS figures then include tracemalloc's own overhead)",
    )
    parser.add_argument("--database-url", help="an existing PostgreSQL (default: embedded)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()

    if len(os.sched_getaffinity(0)) >= 2:
        os.sched_setaffinity(0, {LOAD_CPU})  # PostgreSQL started below inherits it
    workdir = Path(tempfile.mkdtemp(prefix="chatalot-idle-"))
    workdir.chmod(0o755)
    print(
        f"date {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}, load average "
        f"{load_average()}; server on CPU 0, clients and PostgreSQL on CPU {LOAD_CPU}; "
        f"{args.connections} connections, permessage-deflate "
        f"{'offered' if args.deflate else 'not offered'}"
    )
    try:
        keys = BenchKeys(workdir / "keys")
        with bench_database(args.database_url, workdir) as dsn:
            snapshots = workdir / "snapshots" if args.tracemalloc else None
            server = start_server("server", dsn, workdir, keys, cpu=0, snapshots=snapshots)
            try:
                try:
                    import uvloop

                    uvloop.run(run(args, server, dsn, keys, workdir))
                except ImportError:  # pragma: no cover
                    asyncio.run(run(args, server, dsn, keys, workdir))
            finally:
                stop(server)
    finally:
        if args.keep:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
