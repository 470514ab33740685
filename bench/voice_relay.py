"""Voice signalling: how long an ``rtc_ice_candidate`` takes from one participant of a call to
another, within one server process and across two processes through Redis (issue 9).

    .venv/bin/python -m bench.voice_relay [--calls 24] [--rate 4] [--seconds 20]
                                          [--mode both|single|redis] [--redis-url URL]

Set-up, per mode, on a fresh database (an embedded PostgreSQL, durable as ``chatalot serve``
runs it, or ``--database-url``): ``--calls`` voice channels with calls of 2, 3, 4, 5 and 6
participants in turn (bench/_seed.py; every participant is a plain member of its channel),
each participant ONE WebSocket connection (bench/_ws_clients.py, token minted with the
server's key) that authenticates, subscribes to its channel and sends ``join_voice``; the
measurement starts when every participant has seen its whole call in ``voice_state_update``.

- ``single``: one ``chatalot serve`` (no Redis: the in-process broker);
- ``redis``: two ``chatalot serve`` processes on the same database and one Redis (a throwaway
  redis-server started here, or ``--redis-url``, e.g. the system one), the participants of
  every call alternating between them, so that each call has pairs on the same process and
  pairs across the two; both latencies are reported apart.

Server processes on CPU 0, this generator, PostgreSQL and Redis on CPU 1 (2 CPUs).

Load: open loop. Every participant sends ``--rate`` candidates per second (under the server's
10 frames/s per session), to the other participants of its call in turn, as a browser trickles
them while the connections of a call are set up. Candidate k is due at start + k / (rate x
participants), whatever the server answers. Each candidate is what Chromium sends (a JSON
``RTCIceCandidateInit`` of ~200 bytes) with its sequence number and its send time (µs,
CLOCK_MONOTONIC) in it; the target decodes both on arrival. The first ``--warmup`` seconds
are sent but not measured; after the last send the generator waits for stragglers (at most
``--drain`` seconds).

Reported per mode: candidates sent/s; delivered; lost (sent and measured, never delivered);
refusals by error code; latency p50/p95/p99/max (same process, and across processes); server
CPU; the generator's lag behind its schedule (when large, the generator was the limit).

Target (issue 9): p99 relay latency between two processes through Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import tempfile
import time
import uuid
from array import array
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
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
    run_queue_wait,
    start_redis,
    start_server,
    stop_process,
)
from bench.edge import Target, stop

LOAD_CPU = 1
SERVER_CPU = 0
T0 = time.monotonic_ns()
CALL_SIZES = (2, 3, 4, 5, 6)
MAX_RATE = 8.0  # candidates/s per session (the server allows 10 frames/s after a burst of 30)
CANDIDATE = b'{"type":"rtc_ice_candidate"'
VOICE_STATE = b'{"type":"voice_state_update"'
ERROR = b'{"type":"error"'
MARK = re.compile(rb"candidate:(\d+) .*? ufrag b(\d+)")


@dataclass
class Run:
    """Book-keeping of one mode's run; candidate ``seq`` is the run's seq-th."""

    total: int
    first_measured: int
    cross: bytearray  # per candidate: 1 when sender and target are on different processes
    sent_ns: array[int] = field(init=False)
    delivered: bytearray = field(init=False)
    lat_same: array[int] = field(default_factory=lambda: array("q"))  # µs
    lat_cross: array[int] = field(default_factory=lambda: array("q"))
    lag: array[int] = field(default_factory=lambda: array("q"))  # generator lag, µs
    worst: dict[int, int] = field(default_factory=dict)  # second of the run -> max latency µs
    errors: Counter[str] = field(default_factory=Counter)
    window: tuple[int, int] = (0, 0)

    def __post_init__(self) -> None:
        self.sent_ns = array("q", bytes(8 * self.total))
        self.delivered = bytearray(self.total)

    def delivery(self, seq: int, sent_us: int, now: int) -> None:
        if not 0 <= seq < self.total or self.delivered[seq]:
            return
        self.delivered[seq] = 1
        if seq >= self.first_measured:
            latency = (now - T0) // 1000 - sent_us
            (self.lat_cross if self.cross[seq] else self.lat_same).append(latency)
            second = sent_us // 1_000_000
            if latency > self.worst.get(second, -1):
                self.worst[second] = latency


class Participant(WsClient):
    """One participant: sends candidates to its call's other participants in turn, records
    the candidates it receives into the current ``Run`` (shared by every connection)."""

    run: ClassVar[Run | None] = None

    def __init__(self, *args: Any, server: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.server = server
        self.user_id = ""
        self.peers: list[tuple[str, int]] = []  # (user id, server) of the others in the call
        self.next_peer = 0
        self.call_size = 0
        self.seen_full_call = asyncio.get_running_loop().create_future()
        self.session_id = str(uuid.uuid4())

    def pick_target(self) -> tuple[str, int]:
        target = self.peers[self.next_peer % len(self.peers)]
        self.next_peer += 1
        return target

    def send_candidate(self, seq: int, target: str, now: int) -> None:
        sent_us = (now - T0) // 1000
        init = {
            "candidate": f"candidate:{seq} 1 udp 2122260223 192.0.2.{seq % 250 + 1} "
            f"{50000 + seq % 10000} typ host generation 0 ufrag b{sent_us} network-id 1",
            "sdpMid": "0",
            "sdpMLineIndex": 0,
            "usernameFragment": f"b{sent_us}",
        }
        frame = {
            "type": "rtc_ice_candidate",
            "target_user_id": target,
            "session_id": self.session_id,
            "candidate": json.dumps(init),
        }
        self.send_text(json.dumps(frame).encode())

    def on_text(self, payload: bytes, now: int) -> None:
        if payload.startswith(CANDIDATE):
            match = MARK.search(payload)
            run = Participant.run
            if match is not None and run is not None:
                run.delivery(int(match.group(1)), int(match.group(2)), now)
        elif payload.startswith(VOICE_STATE):
            count = len(json.loads(payload)["participants"])
            if count >= self.call_size and not self.seen_full_call.done():
                self.seen_full_call.set_result(None)
        elif payload.startswith(ERROR):
            code = json.loads(payload)["code"]
            if Participant.run is not None:
                Participant.run.errors[code] += 1
            else:
                self.errors[code] += 1


# -- set-up ------------------------------------------------------------------------------------


@dataclass
class Setup:
    servers: list[Target]
    dsn: str
    keys: BenchKeys


@contextmanager
def environment(args: argparse.Namespace, workdir: Path, mode: str) -> Iterator[Setup]:
    with ExitStack() as stack:
        keys = BenchKeys(workdir / f"keys-{mode}")
        (workdir / mode).mkdir(parents=True, exist_ok=True)
        dsn = stack.enter_context(bench_database(args.database_url, workdir / mode))
        extra: dict[str, str] = {}
        processes = 1
        if mode == "redis":
            processes = 2
            if args.redis_url:
                extra["REDIS_URL"] = args.redis_url
            else:
                redis_proc, redis_url = start_redis(workdir, LOAD_CPU)
                stack.callback(stop_process, redis_proc)
                extra["REDIS_URL"] = redis_url
        servers = []
        for n in range(processes):
            target = start_server(
                f"{mode}-server{n}", dsn, workdir, keys, cpu=SERVER_CPU, extra_env=extra
            )
            stack.callback(stop, target)
            servers.append(target)
        yield Setup(servers, dsn, keys)


async def seed(dsn: str, calls: int) -> list[ChatChannel]:
    """``calls`` channels of 6 members, made voice channels; call k uses the first
    ``CALL_SIZES[k % 5]`` members of channel k."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        seeded = await seed_chat_channels(
            conn, channels=calls, members=max(CALL_SIZES), prefix=f"vr{uuid.uuid4().hex[:4]}"
        )
        await conn.execute(
            "UPDATE channels SET channel_type = 'voice' WHERE id = ANY($1::uuid[])",
            [c.id for c in seeded],
        )
        return seeded
    finally:
        await conn.close()


async def join_calls(
    setup: Setup, seeded: list[ChatChannel]
) -> tuple[list[Participant], list[list[Participant]]]:
    """Every participant connected, subscribed to its channel and in its call."""
    ports = [t.port for t in setup.servers]
    people = []
    for k, channel in enumerate(seeded):
        size = CALL_SIZES[k % len(CALL_SIZES)]
        for i in range(size):
            people.append((k, channel, channel.members[i], i % len(ports), size))

    async def opener(n: int) -> Participant:
        _, channel, (user_id, username), server, size = people[n]
        token = setup.keys.token(user_id, username)

        def factory() -> Participant:
            return Participant("127.0.0.1", ports[server], token, server=server)

        client = await connect(factory, "127.0.0.1", ports[server])
        assert isinstance(client, Participant)
        client.user_id = str(user_id)
        client.call_size = size
        channel_id = str(channel.id).encode()
        client.send_text(b'{"type":"subscribe","channel_ids":["%s"]}' % channel_id)
        client.send_text(b'{"type":"join_voice","channel_id":"%s"}' % channel_id)
        return client

    started = time.perf_counter()
    clients = await connect_all(len(people), opener, concurrency=16)
    calls: list[list[Participant]] = [[] for _ in seeded]
    for (k, *_), client in zip(people, clients, strict=True):
        calls[k].append(client)
    for call in calls:
        for client in call:
            client.peers = [(o.user_id, o.server) for o in call if o is not client]
    await asyncio.wait_for(asyncio.gather(*(c.seen_full_call for c in clients)), 60)
    refused = sum((c.errors for c in clients), Counter())
    if refused:
        raise SystemExit(f"joining the calls was refused: {dict(refused)}")
    print(
        f"{len(clients)} participants in {len(calls)} calls (sizes {CALL_SIZES} in turn), "
        f"connected and joined in {time.perf_counter() - started:.1f} s"
    )
    return clients, calls


# -- the measured run --------------------------------------------------------------------------


@dataclass
class Result:
    mode: str
    participants: int
    calls: int
    rate: float  # offered candidates/s in total
    sent: int
    lost: int
    errors: Counter[str]
    same: tuple[float, float, float, float, int]  # p50, p95, p99, max (ms), count
    cross: tuple[float, float, float, float, int]
    server_cpu: list[float]  # % of one CPU per server process
    server_wait: list[float]  # % of the time the servers' threads waited for a CPU
    lag_p99_ms: float
    worst_by_second: list[float]  # ms, the worst latency of each second sent


def quantiles(values: array[int]) -> tuple[float, float, float, float, int]:
    if not values:
        nan = float("nan")
        return nan, nan, nan, nan, 0
    ordered = sorted(values)
    return (
        percentile(ordered, 0.50) / 1000,
        percentile(ordered, 0.95) / 1000,
        percentile(ordered, 0.99) / 1000,
        ordered[-1] / 1000,
        len(ordered),
    )


async def run_load(
    mode: str,
    setup: Setup,
    clients: list[Participant],
    calls: int,
    args: argparse.Namespace,
) -> Result:
    rate = args.rate * len(clients)
    total = int(rate * (args.warmup + args.seconds))
    first_measured = int(rate * args.warmup)
    senders = [clients[k % len(clients)] for k in range(total)]
    targets = [s.pick_target() for s in senders]
    cross = bytearray(int(s.server != t[1]) for s, t in zip(senders, targets, strict=True))
    run = Run(total=total, first_measured=first_measured, cross=cross)
    Participant.run = run
    pids = [t.proc.pid for t in setup.servers]
    interval = 1e9 / rate
    start = time.monotonic_ns() + 50_000_000
    cpu_before: list[float] = []
    wait_before: list[float] = []
    measured_from = start + int(first_measured * interval)
    for seq in range(total):
        due = start + int(seq * interval)
        now = time.monotonic_ns()
        if due > now:
            await asyncio.sleep((due - now) / 1e9)
            now = time.monotonic_ns()
        if seq == first_measured:
            cpu_before = [cpu_seconds(pid) for pid in pids]
            wait_before = [run_queue_wait(pid) for pid in pids]
            measured_from = now
        if seq >= first_measured:
            run.lag.append((now - due) // 1000)
        senders[seq].send_candidate(seq, targets[seq][0], now)
    measured_until = time.monotonic_ns()
    cpu_after = [cpu_seconds(pid) for pid in pids]
    wait_after = [run_queue_wait(pid) for pid in pids]
    deadline = time.monotonic() + args.drain
    while time.monotonic() < deadline and sum(run.delivered[first_measured:]) < (
        total - first_measured
    ) - sum(run.errors.values()):
        await asyncio.sleep(0.05)
    Participant.run = None
    elapsed = (measured_until - measured_from) / 1e9
    return Result(
        mode=mode,
        participants=len(clients),
        calls=calls,
        rate=rate,
        sent=total - first_measured,
        lost=(total - first_measured) - sum(run.delivered[first_measured:]),
        errors=run.errors,
        same=quantiles(run.lat_same),
        cross=quantiles(run.lat_cross),
        server_cpu=[100 * (a - b) / elapsed for a, b in zip(cpu_after, cpu_before, strict=True)],
        server_wait=[100 * (a - b) / elapsed for a, b in zip(wait_after, wait_before, strict=True)],
        lag_p99_ms=percentile(sorted(run.lag), 0.99) / 1000,
        worst_by_second=[run.worst[k] / 1000 for k in sorted(run.worst)],
    )


def report(results: list[Result], args: argparse.Namespace) -> None:
    print(
        "\n| mode | calls / participants | candidates/s | delivered | lost | refused "
        "| path | p50 ms | p95 ms | p99 ms | max ms | server CPU | CPU wait | gen lag p99 ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        refused = ", ".join(f"{k} {v}" for k, v in r.errors.items()) or "0"
        cpu = " + ".join(f"{c:.0f}%" for c in r.server_cpu)
        wait = " + ".join(f"{w:.0f}%" for w in r.server_wait)
        for path, q in (("same process", r.same), ("across processes", r.cross)):
            if not q[4]:
                continue
            label = "one process" if r.mode == "single" else "two processes, Redis"
            print(
                f"| {label} | {r.calls} / {r.participants} | {r.rate:.0f} | {q[4]} | {r.lost} | "
                f"{refused} | {path} | {q[0]:.2f} | {q[1]:.2f} | {q[2]:.2f} | {q[3]:.1f} | "
                f"{cpu} | {wait} | {r.lag_p99_ms:.2f} |"
            )
    print(
        f"\n({args.seconds:.0f} s measured after {args.warmup:.0f} s of warm-up; latencies from "
        "the send of the frame to its arrival at the target's socket; server CPU in % of one "
        "CPU per process; CPU wait: time the servers' threads were runnable but waited for a "
        "CPU, in % of the window: other load on the machine)"
    )
    for r in results:
        worst = " ".join(f"{ms:.0f}" for ms in r.worst_by_second)
        print(f"{r.mode}: worst latency of each second sent, ms: {worst}")


async def run_mode(mode: str, setup: Setup, args: argparse.Namespace) -> Result:
    seeded = await seed(setup.dsn, args.calls)
    clients, calls = await join_calls(setup, seeded)
    print(f"{mode}: {args.rate:g} candidates/s per participant, load average {load_average()}")
    try:
        return await run_load(mode, setup, clients, len(calls), args)
    finally:
        for client in clients:
            client.close()
        await asyncio.sleep(0.2)


def run_async(coroutine: Any) -> Any:
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def run_all(args: argparse.Namespace, workdir: Path) -> None:
    """Each mode on its own database and servers (set up outside the event loop: the
    database helper runs its own)."""
    modes = ["single", "redis"] if args.mode == "both" else [args.mode]
    results = []
    for mode in modes:
        with environment(args, workdir, mode) as setup:
            results.append(run_async(run_mode(mode, setup, args)))
    report(results, args)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=24, help="calls (sizes 2-6 in turn)")
    parser.add_argument(
        "--rate", type=float, default=4, help="candidates/s sent by each participant"
    )
    parser.add_argument("--seconds", type=float, default=20, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=3, help="seconds sent but not measured")
    parser.add_argument("--drain", type=float, default=10, help="max seconds to wait at the end")
    parser.add_argument("--mode", choices=["both", "single", "redis"], default="both")
    parser.add_argument("--redis-url", help="an existing Redis (default: a throwaway one)")
    parser.add_argument("--database-url", help="PostgreSQL to use (default: embedded)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    if not 0 < args.rate <= MAX_RATE:
        raise SystemExit(f"--rate must be in (0, {MAX_RATE:g}] (the per-session frame limit)")
    if len(os.sched_getaffinity(0)) >= 2:
        os.sched_setaffinity(0, {LOAD_CPU})  # PostgreSQL and Redis started below inherit it
    workdir = Path(tempfile.mkdtemp(prefix="chatalot-voice-"))
    workdir.chmod(0o755)
    print(
        f"date {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}, load average "
        f"{load_average()}; server(s) on CPU {SERVER_CPU}, generator, PostgreSQL and Redis on "
        f"CPU {LOAD_CPU}"
    )
    try:
        run_all(args, workdir)
    finally:
        if args.keep:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
