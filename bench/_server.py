"""Start a real `chatalot serve` (embedded PostgreSQL, fresh data dir) for a benchmark."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_ok(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> bool:
    """Polls ``url`` until it answers 200 (True), or the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:  # noqa: S310 - loopback only
                if r.status == 200:
                    return True
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.05)


@contextmanager
def running_server(extra_env: dict[str, str] | None = None, cpu: str | None = "0") -> Iterator[str]:
    """Yields the base URL of a fresh server; stops it and removes its data afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix="chatalot-bench-"))
    workdir.chmod(0o755)
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", tempfile.gettempdir()),
        "LISTEN_ADDR": f"127.0.0.1:{port}",
        "CHATALOT_MIGRATIONS_DIR": str(ROOT / "migrations"),
        "REGISTRATION_MODE": "open",
        "CHATALOT_LOG_LEVEL": "warning",
        **(extra_env or {}),
    }
    command = [sys.executable, "-m", "chatalot", "serve"]
    if cpu is not None and shutil.which("taskset"):
        command = ["taskset", "-c", cpu, *command]
    log = open(workdir / "server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_until_ok(f"{url}/api/health", proc):
            raise SystemExit((workdir / "server.log").read_text())
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def bench_database(url: str | None, workdir: Path, *, durable: bool = True) -> Iterator[str]:
    """The DSN of a fresh, empty database, dropped afterwards: on ``url`` (an existing
    PostgreSQL), or on an embedded PostgreSQL started here (``durable``: fsync and
    synchronous commit on, as ``chatalot serve`` runs it; off only for read benchmarks). The
    embedded server inherits this process's CPU affinity."""
    import asyncpg

    from chatalot.db.dsn import parse_database_url
    from chatalot.db.embedded import EmbeddedOptions, EmbeddedPostgres

    embedded = None
    if url is None:
        embedded = EmbeddedPostgres(
            workdir / "pg" / "data", EmbeddedOptions(durable=durable, max_connections=300)
        )
        embedded.start()
        admin = embedded.dsn("postgres")
    else:
        admin = url
    name = f"chatalot_bench_{uuid.uuid4().hex[:8]}"

    async def sql(statement: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(sql(f'CREATE DATABASE "{name}"'))
    try:
        yield parse_database_url(admin).with_database(name).dsn
    finally:
        asyncio.run(sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if embedded is not None:
            embedded.stop()


CHROMIUM = os.environ.get("CHATALOT_CHROMIUM", "/usr/bin/chromium")


def run_browser_bench(bench: Callable[[str], Coroutine[Any, Any, int]], server_cpu: str) -> None:
    """Runs ``bench(url)`` against a fresh server in dev mode with HTTP rate limits off, then
    exits with its status. Debian's Chromium must be installed (never `playwright install`)."""
    if not Path(CHROMIUM).is_file():
        raise SystemExit(
            f"{CHROMIUM} not found: apt-get install chromium (never playwright install)"
        )
    env = {"CHATALOT_ENV": "dev", "CHATALOT_RATE_LIMITS": "off"}
    cpu = None if server_cpu == "none" else server_cpu
    with running_server(env, cpu=cpu) as url:
        code = asyncio.run(bench(url))
    raise SystemExit(code)
