"""The edge's cost: server CPU per request, our server against a raw ASGI app and bare Litestar.

    .venv/bin/python -m bench.edge [--requests 10000] [--rounds 3] [--database-url URL]

Three servers, each a uvicorn process (uvloop, httptools) pinned to CPU 0, run side by side on
one PostgreSQL (an embedded one started here, or ``--database-url``, where a fresh database is
created and dropped):

- raw: a raw ASGI app (bench/_edge_apps.py);
- bare: a default Litestar app without middleware (bench/_edge_apps.py);
- ours: ``chatalot serve`` as in production (request log at INFO into a file, security
  headers, rate limits, CORS, authentication; CHATALOT_ENV=dev only to allow the switch
  below), with one registered user.

Routes: a no-database JSON route (raw/bare ``GET /json``, ours ``GET /api/auth/config``) and
``GET /api/account/me`` (raw/bare ``GET /me``: the same repository query on a pool opened with
our ``open_pool``, so with our pool settings, and the same response shaping).

The load generator (this process, on CPU 1; PostgreSQL inherits CPU 1 too) keeps
``--connections`` HTTP/1.1 connections alive over loopback with raw asyncio sockets and sends
``--requests`` requests per figure after a warm-up; every answer must be 200, and each
figure has a time limit. Server CPU per request is the server process's utime+stime (all its
threads, from /proc/<pid>/stat) over those requests; the targets are interleaved round by
round, and each figure is the median (and the minimum) of ``--rounds`` rounds. Other load on
the machine inflates the figures: compare ratios from one run.

Rate limits (``--rate-limits``): ``off`` runs ours with CHATALOT_RATE_LIMITS=off; ``on``
keeps them and gives every request an X-Forwarded-For drawn from 1024 addresses (loopback is a
trusted proxy by default), so the figure includes the limiter and the forwarded-address
parsing; ``auto`` (default) is off where the revision has the setting.

``--profile PREFIX`` then samples ours with py-spy while it serves each route
(``bench/stacks.py`` summarises the result).

Targets (issue 6): ours/bare <= 1.5 for both routes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench._server import ROOT, bench_database, free_port, wait_until_ok

SERVER_CPU = 0
LOAD_CPU = 1
TICKS = os.sysconf("SC_CLK_TCK")
XFF_POOL = 1024  # a proxy with a thousand active clients (each well under its limit)
TIME_LIMIT = 300.0  # seconds: one measurement never runs longer


@dataclass
class Target:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    routes: dict[str, str]  # route label -> path
    log_path: Path
    results: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _pin(cpu: int) -> Callable[[], None]:
    def pin() -> None:
        os.sched_setaffinity(0, {cpu})

    return pin


def cpu_seconds(pid: int) -> float:
    """utime + stime of the whole process (every thread), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # fields 14 and 15 of proc(5)


def wait_healthy(target: Target, path: str, timeout: float = 60) -> None:
    if not wait_until_ok(f"{target.url}{path}", target.proc, timeout):
        raise SystemExit(f"{target.name} did not start:\n{target.log_path.read_text()}")


def start(
    name: str,
    command: list[str],
    env: dict[str, str],
    port: int,
    routes: dict[str, str],
    workdir: Path,
) -> Target:
    log_path = workdir / f"{name}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            command,
            cwd=workdir if name == "ours" else ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_pin(SERVER_CPU),  # every thread it starts inherits the CPU
        )
    return Target(name, proc, port, routes, log_path)


def stop(target: Target) -> None:
    if target.proc.poll() is None:
        target.proc.send_signal(signal.SIGTERM)
        try:
            target.proc.wait(60)
        except subprocess.TimeoutExpired:
            target.proc.kill()


def base_env(**extra: str) -> dict[str, str]:
    names = ("PATH", "HOME", "LANG", "TMPDIR", "PYTHONPATH")
    env = {k: os.environ[k] for k in names if k in os.environ}
    env.update(extra)
    return env


def rate_limits_switch() -> bool:
    """Whether this revision has the bench-only CHATALOT_RATE_LIMITS=off setting."""
    from chatalot.config import load_settings

    env = {"CHATALOT_ENV": "dev", "CHATALOT_RATE_LIMITS": "off"}
    try:
        return "CHATALOT_RATE_LIMITS" in load_settings(env).redacted()
    except Exception:
        return False


# -- load generator ------------------------------------------------------------------------


def request_bytes(path: str, headers: dict[str, str], n: int, rotate_xff: bool) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "User-Agent: chatalot-bench/1"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if rotate_xff:
        k = n % XFF_POOL
        lines.append(f"X-Forwarded-For: 198.18.{k >> 8}.{k & 255}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def hammer(
    port: int,
    path: str,
    headers: dict[str, str],
    total: int,
    connections: int,
    rotate_xff: bool,
    offset: int,
) -> None:
    """Send ``total`` GET requests over ``connections`` keep-alive connections; every answer
    must be 200 (anything else stops the run: a figure over errors would be meaningless)."""
    counter = iter(range(offset, offset + total))
    deadline = time.monotonic() + TIME_LIMIT

    async def one_connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for n in counter:
                if time.monotonic() > deadline:
                    raise SystemExit(f"measurement exceeded {TIME_LIMIT:.0f} s")
                writer.write(request_bytes(path, headers, n, rotate_xff))
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                body = await reader.readexactly(length) if length else b""
                if status != 200:
                    raise SystemExit(f"GET {path} answered {status}: {body[:300]!r}")
        finally:
            writer.close()

    await asyncio.gather(*(one_connection() for _ in range(connections)))


@dataclass
class Run:
    cpu_us: float
    rps: float


def measure(
    target: Target,
    path: str,
    headers: dict[str, str],
    args: argparse.Namespace,
    rotate_xff: bool,
    offset: int,
) -> Run:
    def go(n: int, skip: int) -> None:
        coro = hammer(target.port, path, headers, n, args.connections, rotate_xff, skip)
        runner_loop(coro)

    go(args.warmup, offset)
    before = cpu_seconds(target.proc.pid)
    started = time.perf_counter()
    go(args.requests, offset + args.warmup)
    elapsed = time.perf_counter() - started
    used = cpu_seconds(target.proc.pid) - before
    return Run(cpu_us=used / args.requests * 1e6, rps=args.requests / elapsed)


def runner_loop(coro: object) -> None:
    try:
        import uvloop

        uvloop.run(coro)  # type: ignore[arg-type]
    except ImportError:  # pragma: no cover
        asyncio.run(coro)  # type: ignore[arg-type]


# -- database and servers ------------------------------------------------------------------


def register(url: str) -> tuple[str, str]:
    """(user id, access token) of a new user on our server."""
    from tests.support.auth import register_body

    response = httpx.post(f"{url}/api/auth/register", json=register_body("edgebench"), timeout=30)
    response.raise_for_status()
    data = response.json()
    return str(data["user"]["id"]), str(data["access_token"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=10000, help="measured per figure")
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--database-url", help="an existing server (default: embedded)")
    parser.add_argument("--only", help="comma-separated targets (raw,bare,ours)")
    parser.add_argument(
        "--rate-limits",
        choices=("auto", "on", "off"),
        default="auto",
        help="ours with its rate limits on (requests spread over X-Forwarded-For addresses) or "
        "off (CHATALOT_RATE_LIMITS=off); auto: off where this revision has the setting",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument(
        "--ours-env",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        help="an extra setting for ours, e.g. CHATALOT_LOG_LEVEL=warning (repeatable)",
    )
    parser.add_argument(
        "--profile",
        metavar="PREFIX",
        help="after measuring, profile ours with py-spy (on PATH) while it serves each route; "
        "writes PREFIX-<route>.txt (collapsed stacks, for flamegraph tools or bench/stacks.py)",
    )
    args = parser.parse_args()

    if len(os.sched_getaffinity(0)) < 2:
        raise SystemExit("needs 2 CPUs: the server on one, the load generator on the other")
    os.sched_setaffinity(0, {LOAD_CPU})  # PostgreSQL started below inherits it
    switch = rate_limits_switch()
    if args.rate_limits == "off" and not switch:
        raise SystemExit("this revision has no CHATALOT_RATE_LIMITS setting")
    switch = switch and args.rate_limits != "on"
    rotate_xff = not switch
    workdir = Path(tempfile.mkdtemp(prefix="chatalot-edge-"))
    workdir.chmod(0o755)
    wanted = set((args.only or "raw,bare,ours").split(","))
    print(
        f"date {datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} CPUs, Python "
        f"{sys.version.split()[0]}; servers on CPU {SERVER_CPU}, load generator and PostgreSQL "
        f"on CPU {LOAD_CPU}; {args.connections} connections, {args.requests} requests per "
        f"figure after {args.warmup} warm-up, median of {args.rounds} rounds"
    )
    print(
        "rate limits: CHATALOT_RATE_LIMITS=off"
        if switch
        else f"rate limits: on (every request its own X-Forwarded-For out of {XFF_POOL})"
    )
    try:
        with (
            bench_database(args.database_url, workdir, durable=False) as dsn,
            ExitStack() as stack,
        ):
            extra = dict(item.split("=", 1) for item in args.ours_env)
            targets, token = start_all(dsn, workdir, wanted, switch, stack, extra)
            auth = {"Authorization": f"Bearer {token}"}
            offset = 0
            for _ in range(args.rounds):
                for target in targets.values():
                    if target.name not in wanted:
                        continue
                    for label, path in target.routes.items():
                        headers = auth if target.name == "ours" else {}
                        run = measure(target, path, headers, args, rotate_xff, offset)
                        offset += args.warmup + args.requests
                        target.results.setdefault(label, []).append((run.cpu_us, run.rps))
            report(targets, wanted)
            if args.profile:
                profile(targets["ours"], auth, args, rotate_xff, offset)
    finally:
        if args.keep:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def start_all(
    dsn: str,
    workdir: Path,
    wanted: set[str],
    switch: bool,
    stack: ExitStack,
    extra: dict[str, str] | None = None,
) -> tuple[dict[str, Target], str]:
    """Every target running and healthy, and the access token of a user registered on ours."""
    ours_port = free_port()
    ours_dir = workdir / "ours"
    ours_dir.mkdir()
    env = base_env(
        DATABASE_URL=dsn,
        LISTEN_ADDR=f"127.0.0.1:{ours_port}",
        CHATALOT_MIGRATIONS_DIR=str(ROOT / "migrations"),
        REGISTRATION_MODE="open",
        CHATALOT_ENV="dev",
    )
    if switch:
        env["CHATALOT_RATE_LIMITS"] = "off"
    env.update(extra or {})
    ours = start(
        "ours",
        [sys.executable, "-m", "chatalot", "serve"],
        env,
        ours_port,
        {"json": "/api/auth/config", "me": "/api/account/me"},
        ours_dir,
    )
    stack.callback(stop, ours)
    wait_healthy(ours, "/api/health")
    user_id, token = register(ours.url)
    targets: dict[str, Target] = {}
    for name, app in (("raw", "raw_app"), ("bare", "bare_app")):
        if name not in wanted:
            continue
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            f"bench._edge_apps:{app}",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
            "--lifespan",
            "on",
        ]
        app_env = base_env(DATABASE_URL=dsn, BENCH_USER_ID=user_id)
        app_env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), env.get("PYTHONPATH"))))
        target = start(name, command, app_env, port, {"json": "/json", "me": "/me"}, workdir)
        stack.callback(stop, target)
        wait_healthy(target, "/json")
        targets[name] = target
    targets["ours"] = ours
    return targets, token


def profile(
    target: Target, auth: dict[str, str], args: argparse.Namespace, rotate_xff: bool, offset: int
) -> None:
    """Sample ours with py-spy (100 Hz, native frames off) while it serves each route."""
    spy = shutil.which("py-spy")
    if spy is None:
        raise SystemExit("--profile needs py-spy on PATH (pip install py-spy)")
    for label, path in target.routes.items():
        out = Path(f"{args.profile}-{label}.txt").resolve()
        command = [spy, "record", "--pid", str(target.proc.pid), "--format", "raw"]
        command += ["--rate", "200", "--output", str(out), "--nonblocking"]
        sampler = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1)  # let it attach
        measure(target, path, auth, args, rotate_xff, offset)
        offset += args.warmup + args.requests
        sampler.send_signal(signal.SIGINT)
        sampler.wait(60)
        print(f"profile of ours {path}: {out}")


def report(targets: dict[str, Target], wanted: set[str]) -> None:
    print()
    print(f"{'target':6} {'route':26} {'CPU µs/req median (min-max)':32} {'req/s':>7}")
    medians: dict[tuple[str, str], float] = {}
    minimums: dict[tuple[str, str], float] = {}
    for target in targets.values():
        if target.name not in wanted:
            continue
        for label, runs in target.results.items():
            cpu = [r[0] for r in runs]
            rps = statistics.median(r[1] for r in runs)
            med = statistics.median(cpu)
            medians[(target.name, label)] = med
            minimums[(target.name, label)] = min(cpu)
            spread = f"{med:7.0f} ({min(cpu):.0f}-{max(cpu):.0f})"
            print(f"{target.name:6} {target.routes[label]:26} {spread:32} {rps:7.0f}")
    print()
    for label, what in (("json", "no-database route"), ("me", "GET /api/account/me")):
        if ("ours", label) in medians and ("bare", label) in medians:
            ratio = medians[("ours", label)] / medians[("bare", label)]
            best = minimums[("ours", label)] / minimums[("bare", label)]
            verdict = "met" if ratio <= 1.5 else "NOT met"
            print(
                f"{what}: ours / bare Litestar = {ratio:.2f} of medians, {best:.2f} of minimums"
                f" (target <= 1.5: {verdict})"
            )


if __name__ == "__main__":
    main()
