"""Realtime load: ``send_message`` at a fixed rate into channels of M members, and the latency
of every delivery (issue 8).

    .venv/bin/python -m bench.ws_load [--members 100] [--rate 1000] [--seconds 20]
    .venv/bin/python -m bench.ws_load --knee --members 10      # the highest rate with p99 < 1 s
    .venv/bin/python -m bench.ws_load --redis                  # two processes on one Redis

Set-up (unless ``--url``): an embedded PostgreSQL (durable, as ``chatalot serve`` runs it; or a
fresh database on ``--database-url``), one ``chatalot serve`` process pinned to CPU 0
(CHATALOT_ENV=dev, HTTP rate limits off; the WebSocket's own per-session limits stay on), this
load generator and PostgreSQL on CPU 1. ``--channels`` text channels of ``--members`` members
are seeded with SQL (bench/_seed.py), every member gets an access token minted with the
server's key (no login) and ONE WebSocket connection (a raw asyncio client,
bench/_ws_clients.py) that authenticates and subscribes to its channel.

Load: open loop. Message k is due at start + k / rate whatever the server answers, and is sent
by sender k mod S (every member sends, in turn, channels interleaved), so each session sends
rate / S messages per second, under the server's 10/s per-session limit. The ciphertext (opaque
bytes, ``--size`` of them) starts with the message's sequence number and its send time (µs,
CLOCK_MONOTONIC); every recipient decodes both on arrival, so send-to-deliver latency is
measured at EVERY delivery (the sending session gets ``message_sent``, not its own
``new_message``: M - 1 deliveries per message). The first ``--warmup`` seconds are sent but
not measured; after the last send the generator waits for the stragglers (at most
``--drain`` seconds).

Reported per run: sent/s; committed (``message_sent``) acks/s and deliveries/s received within
the measured window; delivery latency p50/p95/p99/max; ack latency; lost deliveries (expected
M - 1 per acknowledged message, minus received); refusals by error code; closed connections;
CPU use of the server, of PostgreSQL and of the generator over the window; the generator's own
lag behind its schedule (when it is large, the generator, not the server, was the limit).
At the end ``count(*)`` of ``messages`` is compared with the acknowledgements received.

``--knee``: the same connections step through ``--knee-rates`` (``--knee-seconds`` each) and
stop at the first step that fails (p99 >= 1 s, lost deliveries, closed connections or
refusals); the knee is the highest rate that held. ``--profile PREFIX`` records the server
with py-spy during the measured window (of the last step) into PREFIX.txt (collapsed stacks;
summarise with ``python -m bench.stacks PREFIX.txt``); without pausing it, unless
``--profile-native`` (C frames too, but each sample stops the server: latencies suffer).
``--redis``: a redis-server (CPU 1) and two server processes (both on CPU 0 unless
``--server-cpu none``), members of every channel alternating between them: same-process and
cross-process latencies are reported apart.

Targets (issue 8): >= 1,000 committed msgs/s into 100-member channels with p99 < 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from array import array
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from bench._seed import ChatChannel, seed_chat_channels
from bench._server import bench_database
from bench._ws_clients import (
    BenchKeys,
    WsClient,
    connect,
    connect_all,
    cpu_seconds,
    load_average,
    machine,
    percentile,
    read_gc_log,
    run_queue_wait,
    start_redis,
    start_server,
    stop_process,
)
from bench.edge import Target, stop

LOAD_CPU = 1
T0 = time.monotonic_ns()  # send times in the ciphertext are µs since this
NEW_MESSAGE = b'{"type":"new_message"'
MESSAGE_SENT = b'{"type":"message_sent"'
ERROR = b'{"type":"error"'
CIPHERTEXT = b'"ciphertext":['
MAX_PER_SENDER = 8.0  # msgs/s per session (the server allows 10/s after a burst of 30)
KNEE_P99_MS = 1000.0
DEFAULT_KNEE_RATES = "100,250,500,750,1000,1250,1500,2000,2500,3000,4000"


# -- one measured run ------------------------------------------------------------------------


@dataclass
class Step:
    """Book-keeping of one run at one rate; message ``base + i`` is the run's i-th."""

    rate: float
    base: int
    total: int
    first_measured: int
    recipients: int  # deliveries expected per acknowledged message (members - 1)
    sender_server: bytes  # per message: which server process its sender is on
    sent_ns: array[int] = field(init=False)
    delivered: array[int] = field(init=False)
    acked: bytearray = field(init=False)
    lat_same: array[int] = field(default_factory=lambda: array("q"))  # µs
    lat_cross: array[int] = field(default_factory=lambda: array("q"))
    ack_lat: array[int] = field(default_factory=lambda: array("q"))
    lag: array[int] = field(default_factory=lambda: array("q"))  # generator lag, µs
    errors: Counter[str] = field(default_factory=Counter)
    window: tuple[int, int] = (0, 0)
    win_acks: int = 0
    win_deliveries: int = 0
    acks: int = 0
    refused: int = 0
    deliveries: int = 0
    stray: int = 0
    sent: int = 0

    def __post_init__(self) -> None:
        self.sent_ns = array("q", bytes(8 * self.total))
        self.delivered = array("I", bytes(4 * self.total))
        self.acked = bytearray(self.total)

    def delivery(self, seq: int, sent_us: int, now: int, server: int) -> None:
        i = seq - self.base
        if not 0 <= i < self.total:
            self.stray += 1
            return
        self.delivered[i] += 1
        self.deliveries += 1
        if self.window[0] <= now < self.window[1]:
            self.win_deliveries += 1
        if i >= self.first_measured:
            latency = (now - T0) // 1000 - sent_us
            if server == self.sender_server[i]:
                self.lat_same.append(latency)
            else:
                self.lat_cross.append(latency)

    def ack(self, seq: int, now: int) -> None:
        i = seq - self.base
        if not 0 <= i < self.total:
            return
        self.acked[i] = 1
        self.acks += 1
        if self.window[0] <= now < self.window[1]:
            self.win_acks += 1
        if i >= self.first_measured:
            self.ack_lat.append((now - self.sent_ns[i]) // 1000)

    def refuse(self, seq: int, code: str) -> None:
        if 0 <= seq - self.base < self.total:
            self.refused += 1
        self.errors[code] += 1

    def settled(self) -> bool:
        return (
            self.acks + self.refused >= self.sent and self.deliveries >= self.acks * self.recipients
        )


class LoadClient(WsClient):
    """A member: sends its share of the schedule, counts acks and deliveries into the current
    ``Step`` (class attribute, shared by every connection)."""

    step: ClassVar[Step | None] = None

    def __init__(self, *args: Any, server: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.server = server
        self.pending: deque[int] = deque()
        self.prefix = b""
        self.padding = b""

    def prepare(self, channel_id: uuid.UUID, size: int, rng: random.Random) -> None:
        nonce = ",".join(str(rng.randrange(256)) for _ in range(12))
        self.prefix = (
            b'{"type":"send_message","channel_id":"%s","nonce":[%s],"message_type":"text",'
            b'"ciphertext":[' % (str(channel_id).encode(), nonce.encode())
        )
        self.padding = "".join(f",{rng.randrange(256)}" for _ in range(size - 8)).encode()

    def send(self, seq: int, now: int) -> None:
        t = (now - T0) // 1000
        head = b"%d,%d,%d,%d,%d,%d,%d,%d" % (
            seq >> 24 & 255,
            seq >> 16 & 255,
            seq >> 8 & 255,
            seq & 255,
            t >> 24 & 255,
            t >> 16 & 255,
            t >> 8 & 255,
            t & 255,
        )
        self.pending.append(seq)
        self.send_text(self.prefix + head + self.padding + b"]}")

    def on_text(self, payload: bytes, now: int) -> None:
        step = LoadClient.step
        if payload.startswith(NEW_MESSAGE):
            i = payload.find(CIPHERTEXT, 100) + 14
            p = payload[i : i + 40].split(b",", 8)
            if step is not None:
                step.delivery(
                    int(p[0]) << 24 | int(p[1]) << 16 | int(p[2]) << 8 | int(p[3]),
                    int(p[4]) << 24 | int(p[5]) << 16 | int(p[6]) << 8 | int(p[7]),
                    now,
                    self.server,
                )
        elif payload.startswith(MESSAGE_SENT):
            if self.pending:
                seq = self.pending.popleft()
                if step is not None:
                    step.ack(seq, now)
        elif payload.startswith(ERROR):
            start = payload.find(b'"code":"') + 8
            code = payload[start : payload.find(b'"', start)].decode()
            if code != "out_of_sync" and self.pending:  # the answer to our oldest send
                seq = self.pending.popleft()
                if step is not None:
                    step.refuse(seq, code)
            else:
                self.errors[code] += 1


# -- processes whose CPU time we follow --------------------------------------------------------


def postgres_pids(pgdata: Path | None) -> list[int]:
    """The embedded postmaster and its children (backends, writer, WAL writer ...)."""
    if pgdata is None or not (pgdata / "postmaster.pid").exists():
        return []
    master = int((pgdata / "postmaster.pid").read_text().split()[0])
    pids = [master]
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        if ppid == master:
            pids.append(int(entry))
    return pids


def total_cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with suppress(OSError):
            total += cpu_seconds(pid)
    return total


@dataclass
class Usage:
    """CPU seconds over the measured window."""

    server: float = float("nan")
    server_wait: float = float("nan")  # runnable but waiting for a CPU (other load)
    postgres: float = float("nan")
    generator: float = float("nan")


# -- driving ---------------------------------------------------------------------------------


@dataclass
class Bench:
    senders: list[LoadClient]
    clients: list[LoadClient]
    members: int
    server_pids: list[int]
    pgdata: Path | None
    warmup: float
    drain: float
    py_spy: str | None = None
    profile_native: bool = False
    next_seq: int = 0


async def run_step(
    bench: Bench, rate: float, seconds: float, profile: Path | None = None
) -> tuple[Step, Usage]:
    total = int(rate * (bench.warmup + seconds))
    sender_count = len(bench.senders)
    sender_server = bytes(bench.senders[k % sender_count].server for k in range(total))
    step = Step(
        rate=rate,
        base=bench.next_seq,
        total=total,
        first_measured=int(rate * bench.warmup),
        recipients=bench.members - 1,
        sender_server=sender_server,
    )
    bench.next_seq += total
    LoadClient.step = step
    period = 1e9 / rate
    start = time.monotonic_ns()
    w0 = start + int(bench.warmup * 1e9)
    w1 = w0 + int(seconds * 1e9)
    step.window = (w0, w1)
    usage = Usage()
    sampler = asyncio.get_running_loop().create_task(
        sample_usage(bench, w0, w1, usage, seconds, profile)
    )
    k = 0
    senders = bench.senders
    while k < total:
        now = time.monotonic_ns()
        due = min(total, int((now - start) / period) + 1)
        while k < due:
            step.lag.append((now - start - int(k * period)) // 1000)
            senders[k % sender_count].send(step.base + k, now)
            step.sent_ns[k] = now
            k += 1
        step.sent = k
        if k < total:
            wait = start + k * period - time.monotonic_ns()
            await asyncio.sleep(max(0.0, wait / 1e9))
    deadline = time.monotonic() + bench.drain
    while not step.settled() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await sampler
    LoadClient.step = None
    return step, usage


async def sample_usage(
    bench: Bench, w0: int, w1: int, usage: Usage, seconds: float, profile: Path | None
) -> None:
    await asyncio.sleep(max(0.0, (w0 - time.monotonic_ns()) / 1e9))
    pg = postgres_pids(bench.pgdata)
    server0 = total_cpu(bench.server_pids) if bench.server_pids else None
    wait0 = sum(run_queue_wait(p) for p in bench.server_pids)
    pg0 = total_cpu(pg) if pg else None
    gen0 = time.process_time()
    spy = None
    if profile is not None and bench.py_spy and bench.server_pids:
        command = [bench.py_spy, "record", "--pid", str(bench.server_pids[0])]
        # --native pauses the server at every sample (it distorts latency); without it py-spy
        # reads the process without stopping it
        command += ["--native"] if bench.profile_native else ["--nonblocking"]
        command += ["--rate", "100", "--format", "raw", "--output", str(profile)]
        command += ["--duration", str(max(1, int(seconds)))]
        spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    await asyncio.sleep(max(0.0, (w1 - time.monotonic_ns()) / 1e9))
    elapsed = (time.monotonic_ns() - w0) / 1e9
    if server0 is not None:
        usage.server = (total_cpu(bench.server_pids) - server0) / elapsed
        usage.server_wait = (sum(run_queue_wait(p) for p in bench.server_pids) - wait0) / elapsed
    if pg0 is not None:
        usage.postgres = (total_cpu(pg) - pg0) / elapsed
    usage.generator = (time.process_time() - gen0) / elapsed
    if spy is not None:
        _, err = await asyncio.get_running_loop().run_in_executor(None, spy.communicate)
        if spy.returncode != 0:
            print(f"py-spy failed: {err.decode(errors='replace')[-500:]}", file=sys.stderr)


# -- results ---------------------------------------------------------------------------------


@dataclass
class Result:
    rate: float
    sent: int
    window_s: float
    acks_per_s: float
    deliveries_per_s: float
    lat: dict[str, tuple[float, float, float, float, int]]  # label -> p50, p95, p99, max, n
    ack_p50: float
    ack_p99: float
    expected: int
    lost: int
    refused: Counter[str]
    unanswered: int
    closed: int
    lag_p99: float
    lag_max: float
    usage: Usage

    @property
    def server_ms_per_message(self) -> float:
        """Server CPU per committed message (its deliveries included)."""
        return 1000 * self.usage.server / self.acks_per_s if self.acks_per_s else math.nan

    @property
    def p99(self) -> float:
        return max((v[2] for v in self.lat.values() if v[4]), default=float("inf"))

    def holds(self) -> bool:
        return (
            self.p99 < KNEE_P99_MS
            and self.lost == 0
            and self.closed == 0
            and not self.refused
            and self.unanswered == 0
        )


def quantiles(values: array[int]) -> tuple[float, float, float, float, int]:
    ordered = sorted(values)
    if not ordered:
        return (math.nan, math.nan, math.nan, math.nan, 0)
    return (
        percentile(ordered, 0.50) / 1000,
        percentile(ordered, 0.95) / 1000,
        percentile(ordered, 0.99) / 1000,
        ordered[-1] / 1000,
        len(ordered),
    )


def summarise(step: Step, usage: Usage, seconds: float, closed: int, redis: bool) -> Result:
    measured = range(step.first_measured, step.sent)
    expected = sum(step.recipients for i in measured if step.acked[i])
    lost = sum(max(0, step.recipients - step.delivered[i]) for i in measured if step.acked[i])
    unanswered = step.sent - step.acks - step.refused
    lat = {"all": quantiles(step.lat_same + step.lat_cross)}
    if redis:
        lat["same process"] = quantiles(step.lat_same)
        lat["cross process"] = quantiles(step.lat_cross)
    ack = sorted(step.ack_lat)
    lag = sorted(step.lag)
    return Result(
        rate=step.rate,
        sent=step.sent,
        window_s=seconds,
        acks_per_s=step.win_acks / seconds,
        deliveries_per_s=step.win_deliveries / seconds,
        lat=lat,
        ack_p50=percentile(ack, 0.5) / 1000,
        ack_p99=percentile(ack, 0.99) / 1000,
        expected=expected,
        lost=lost,
        refused=step.errors,
        unanswered=unanswered,
        closed=closed,
        lag_p99=percentile(lag, 0.99) / 1000,
        lag_max=(lag[-1] / 1000) if lag else math.nan,
        usage=usage,
    )


def pct(value: float) -> str:
    return "-" if math.isnan(value) else f"{100 * value:.0f}%"


def report(results: list[Result]) -> None:
    print()
    header = (
        f"{'rate':>6} {'acks/s':>7} {'deliv/s':>8} {'latency':13} {'p50':>7} {'p95':>7}"
        f" {'p99':>7} {'max':>7} {'ack p50/p99':>13} {'lost':>6} {'refused':>8} {'closed':>6}"
        f" {'server':>6} {'ms/msg':>6} {'waited':>6} {'pg':>5} {'gen':>5} {'gen lag p99/max':>15}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        first = True
        for label, (p50, p95, p99, top, n) in r.lat.items():
            if first:
                refused = sum(r.refused.values())
                lead = f"{r.rate:6.0f} {r.acks_per_s:7.0f} {r.deliveries_per_s:8.0f} {label:13}"
                tail = (
                    f" {r.ack_p50:6.1f}/{r.ack_p99:<6.1f} {r.lost:6d} {refused:8d}"
                    f" {r.closed:6d} {pct(r.usage.server):>6} {r.server_ms_per_message:6.2f}"
                    f" {pct(r.usage.server_wait):>6}"
                    f" {pct(r.usage.postgres):>5}"
                    f" {pct(r.usage.generator):>5} {r.lag_p99:7.1f}/{r.lag_max:<7.1f}"
                )
            else:
                lead = f"{'':6} {'':7} {'':8} {label:13}"
                tail = ""
            if n:
                figures = f" {p50:7.1f} {p95:7.1f} {p99:7.1f} {top:7.1f}"
            else:
                figures = f" {'-':>7} {'-':>7} {'-':>7} {'-':>7}"
            print(lead + figures + tail)
            first = False
        extra = []
        if r.refused:
            extra.append("refusals: " + ", ".join(f"{k} {v}" for k, v in r.refused.items()))
        if r.unanswered:
            extra.append(f"{r.unanswered} sends never answered")
        if extra:
            print(f"{'':6} {'; '.join(extra)}")
    print(
        "\nrate: offered msgs/s; acks/s and deliv/s: message_sent and new_message frames received"
        " within the measured window; latencies in ms (send -> delivery at every recipient;"
        " ack: send -> message_sent); lost: expected deliveries (members - 1 per acknowledged"
        " message) not received by the end; server/pg/gen: CPU over the window (100% = one core);"
        " ms/msg: server CPU per committed message; waited: time the server was runnable but"
        " another process had its CPU; gen lag:"
        " how late the generator sent, ms."
    )


# -- set-up ------------------------------------------------------------------------------------


@dataclass
class Setup:
    url: str
    servers: list[Target]
    dsn: str
    keys: BenchKeys
    pgdata: Path | None


@contextmanager
def environment(args: argparse.Namespace, workdir: Path) -> Iterator[Setup]:
    with ExitStack() as stack:
        if args.url:
            if not (args.database_url and args.jwt_key):
                raise SystemExit("--url needs --database-url (its database) and --jwt-key")
            keys = BenchKeys.from_private_pem(Path(args.jwt_key))
            yield Setup(args.url, [], args.database_url, keys, None)
            return
        keys = BenchKeys(workdir / "keys")
        dsn = stack.enter_context(
            bench_database(args.database_url, workdir, durable=not args.no_fsync)
        )
        pgdata = None if args.database_url else workdir / "pg" / "data"
        cpu = None if args.server_cpu == "none" else int(args.server_cpu)
        extra: dict[str, str] = {}
        if args.redis:
            redis_proc, redis_url = start_redis(workdir, LOAD_CPU)
            stack.callback(stop_process, redis_proc)
            extra["REDIS_URL"] = redis_url
        servers = []
        for n in range(2 if args.redis else 1):
            gc_log = workdir / f"server{n}-gc.log" if args.gc_log else None
            target = start_server(
                f"server{n}", dsn, workdir, keys, cpu=cpu, extra_env=extra, gc_log=gc_log
            )
            stack.callback(stop, target)
            servers.append(target)
        yield Setup(servers[0].url, servers, dsn, keys, pgdata)


async def seed(dsn: str, channels: int, members: int) -> list[ChatChannel]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        prefix = f"wl{uuid.uuid4().hex[:4]}"
        return await seed_chat_channels(conn, channels=channels, members=members, prefix=prefix)
    finally:
        await conn.close()


async def message_count(dsn: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM messages"))
    finally:
        await conn.close()


async def open_clients(
    setup: Setup, seeded: list[ChatChannel], args: argparse.Namespace
) -> list[LoadClient]:
    ports = [t.port for t in setup.servers] or [int(setup.url.rsplit(":", 1)[1])]
    rng = random.Random(7)
    # member i of every channel: interleaved so that consecutive senders are in different
    # channels; with two servers, members alternate between them
    people = [
        (ch, member, i % len(ports))
        for i in range(args.members)
        for ch in seeded
        for member in [ch.members[i]]
    ]

    async def opener(n: int) -> LoadClient:
        channel, (user_id, username), server = people[n]
        token = setup.keys.token(user_id, username)
        port = ports[server]

        def factory() -> LoadClient:
            return LoadClient("127.0.0.1", port, token, deflate=args.deflate, server=server)

        client = await connect(factory, "127.0.0.1", port)
        assert isinstance(client, LoadClient)
        client.prepare(channel.id, args.size, rng)
        client.send_text(b'{"type":"subscribe","channel_ids":["%s"]}' % str(channel.id).encode())
        await client.sync()
        return client

    started = time.perf_counter()
    clients = await connect_all(len(people), opener)
    print(
        f"{len(clients)} connections authenticated and subscribed in "
        f"{time.perf_counter() - started:.1f} s"
        + (f" (permessage-deflate: {clients[0].deflate})" if args.deflate else "")
    )
    return clients


async def main_async(args: argparse.Namespace, setup: Setup, workdir: Path) -> None:
    rates = [float(r) for r in args.knee_rates.split(",")] if args.knee else [args.rate]
    channels = args.channels or max(10, math.ceil(max(rates) / (5 * args.members)))
    senders_needed = max(rates) / MAX_PER_SENDER
    if channels * args.members < senders_needed:
        raise SystemExit(
            f"{channels * args.members} senders cannot send {max(rates):.0f} msgs/s within the "
            f"server's per-session limit: use --channels {math.ceil(senders_needed / args.members)}"
        )
    started = time.perf_counter()
    seeded = await seed(setup.dsn, channels, args.members)
    print(
        f"seeded {channels} channels x {args.members} members in "
        f"{time.perf_counter() - started:.1f} s"
    )
    clients = await open_clients(setup, seeded, args)
    before = await message_count(setup.dsn)
    bench = Bench(
        senders=clients,
        clients=clients,
        members=args.members,
        server_pids=[t.proc.pid for t in setup.servers]
        or ([args.server_pid] if args.server_pid else []),
        pgdata=setup.pgdata,
        warmup=args.warmup,
        drain=args.drain,
        py_spy=find_py_spy(args.py_spy) if args.profile else None,
        profile_native=args.profile_native,
    )
    seconds = args.knee_seconds if args.knee else args.seconds
    results: list[Result] = []
    acked = 0
    for n, rate in enumerate(rates):
        profile = None
        if args.profile and (not args.knee or n == len(rates) - 1):
            profile = Path(f"{args.profile}.txt").resolve()
        print(
            f"rate {rate:.0f} msgs/s ({rate / len(clients):.2f} per sender) for "
            f"{args.warmup:.0f} + {seconds:.0f} s, load average {load_average()}"
        )
        step, usage = await run_step(bench, rate, seconds, profile)
        acked += step.acks
        closed = sum(1 for c in clients if c.closed.done())
        result = summarise(step, usage, seconds, closed, bool(args.redis))
        results.append(result)
        if args.gc_log:
            gc_report(workdir, len(setup.servers), step.window)
        if profile is not None and profile.exists():
            print(f"profile of the server: {profile}")
            profile_summary(profile, usage.server / max(1, len(bench.server_pids)))
        if args.knee and not result.holds():
            break
        await asyncio.sleep(1)
    after = await message_count(setup.dsn)
    report(results)
    held = [r.rate for r in results if r.holds()]
    if args.knee:
        knee = f"{max(held):.0f} msgs/s" if held else "below the lowest rate tried"
        if held and len(held) == len(rates):
            knee += " (every rate tried held: the knee is higher)"
        print(f"\nknee (highest rate with p99 < {KNEE_P99_MS:.0f} ms and nothing lost): {knee}")
    stored = after - before
    verdict = "match" if stored == acked else "MISMATCH"
    print(
        f"\nmessages stored during the runs: {stored}; message_sent acks received: {acked}"
        f" ({verdict})"
    )
    for client in clients:
        client.close()
    await asyncio.sleep(0.2)


def gc_report(workdir: Path, servers: int, window: tuple[int, int]) -> None:
    """The servers' garbage collections of generation 1 and 2 (and longer ones of generation
    0) during the measured window."""
    start, end = window[0] / 1e9, window[1] / 1e9
    for n in range(servers):
        pauses = read_gc_log(workdir / f"server{n}-gc.log", start, end)
        parts = []
        for generation in (0, 1, 2):
            times = [p.ms for p in pauses if p.generation == generation]
            if times:
                label = "gen 0 > 2 ms" if generation == 0 else f"gen {generation}"
                parts.append(
                    f"{label}: {len(times)}, max {max(times):.1f} ms, total {sum(times):.0f} ms"
                )
        print(f"server{n} garbage collection in the window: {'; '.join(parts) or 'none logged'}")


IDLE_FRAMES = (  # a sample whose stack holds one of these is a thread waiting, not working
    "epoll_pwait",
    "epoll_wait",
    "PyThread_acquire_lock",
    "Condition.wait (threading.py",
    "_worker (concurrent/futures/thread.py",
)


WRAPPER_FRAMES = (  # on (nearly) every stack: left out of the inclusive list
    "<frozen runpy>",
    "chatalot/cli.py",
    "chatalot/__main__.py",
    "asyncio/runners.py",
    "(loop.c)",
    "(core.c)",
    "(object.h)",
    "(loop-watcher.c)",
    "(queue.h)",
    "(_asynciomodule.c)",
    "0x",
)


def profile_summary(path: Path, server_cpu: float, top: int = 25) -> None:
    """The profile's busiest functions as shares of the server's busy samples (samples of
    waiting threads and of the event loop's poll left out) and of one core."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = busy = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        if any(mark in stack for mark in IDLE_FRAMES):
            continue
        busy += n
        frames = [re.sub(r":\d+\)$", ")", f.strip()) for f in stack.split(";") if f.strip()]
        for name in set(frames):
            inclusive[name] += n
        if frames:
            own[frames[-1]] += n
    if not busy:
        print("profile: no busy samples")
        return
    core = "" if math.isnan(server_cpu) else f", {100 * server_cpu:.0f}% of a core"
    print(f"\nprofile: {total} samples, {busy} busy ({100 * busy / total:.0f}%{core})")
    for name in list(inclusive):
        if any(mark in name for mark in WRAPPER_FRAMES):
            del inclusive[name]
    for title, counter in (("inclusive", inclusive), ("self", own)):
        print(f"{title} (% of busy samples):")
        for name, n in counter.most_common(top):
            print(f"  {100 * n / busy:5.1f}%  {name}")


def find_py_spy(given: str | None) -> str:
    spy = given or shutil.which("py-spy") or "/tmp/pyspy-venv/bin/py-spy"  # noqa: S108
    if not Path(spy).exists():
        raise SystemExit("--profile needs py-spy (pip install py-spy, or --py-spy PATH)")
    return spy


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=100, help="members per channel")
    parser.add_argument(
        "--channels",
        type=int,
        help="channels (default: at least 10, enough that each sender stays under 5 msgs/s)",
    )
    parser.add_argument("--rate", type=float, default=1000, help="msgs/s offered, in total")
    parser.add_argument("--seconds", type=float, default=20, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=3, help="seconds sent but not measured")
    parser.add_argument("--drain", type=float, default=10, help="max seconds to wait at the end")
    parser.add_argument("--size", type=int, default=128, help="ciphertext bytes (16..65536)")
    parser.add_argument("--deflate", action="store_true", help="offer permessage-deflate")
    parser.add_argument("--knee", action="store_true", help="step the rate up (see above)")
    parser.add_argument("--knee-rates", default=DEFAULT_KNEE_RATES)
    parser.add_argument("--knee-seconds", type=float, default=10)
    parser.add_argument("--redis", action="store_true", help="two server processes on Redis")
    parser.add_argument("--server-cpu", default="0", help="CPU for the server(s), or none")
    parser.add_argument("--url", help="an existing server (also --database-url, --jwt-key)")
    parser.add_argument("--database-url", help="PostgreSQL to use (default: embedded)")
    parser.add_argument(
        "--no-fsync",
        action="store_true",
        help="embedded PostgreSQL without fsync/synchronous_commit (to tell disk stalls apart)",
    )
    parser.add_argument(
        "--gc-log", action="store_true", help="log the server's garbage collection pauses"
    )
    parser.add_argument("--jwt-key", help="with --url: the server's JWT private key (PEM)")
    parser.add_argument("--server-pid", type=int, help="with --url: its pid, for CPU figures")
    parser.add_argument("--profile", metavar="PREFIX", help="py-spy the server into PREFIX.txt")
    parser.add_argument(
        "--profile-native", action="store_true", help="py-spy --native (pauses the server)"
    )
    parser.add_argument("--py-spy", help="the py-spy binary (default: on PATH or /tmp venv)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    if not 16 <= args.size <= 65536:
        raise SystemExit("--size must be 16..65536")
    if len(os.sched_getaffinity(0)) >= 2:
        os.sched_setaffinity(0, {LOAD_CPU})  # PostgreSQL and Redis started below inherit it
    workdir = Path(tempfile.mkdtemp(prefix="chatalot-wsload-"))
    workdir.chmod(0o755)
    print(
        f"date {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}, load average "
        f"{load_average()}; server(s) on CPU {args.server_cpu}, generator and PostgreSQL on CPU "
        f"{LOAD_CPU}; {args.members} members per channel, ciphertext {args.size} bytes"
    )
    try:
        with environment(args, workdir) as setup:
            try:
                import uvloop

                uvloop.run(main_async(args, setup, workdir))
            except ImportError:  # pragma: no cover
                asyncio.run(main_async(args, setup, workdir))
    finally:
        if args.keep:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
