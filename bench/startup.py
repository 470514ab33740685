"""Time from `chatalot serve` to a healthy /api/health, on the embedded PostgreSQL.

    .venv/bin/python bench/startup.py [--runs 5]

cold: a new, empty data directory (initdb + every migration + key generation).
warm: the same data directory again (server already initialised, nothing to migrate).
Targets (docs/benchmarks.md): warm < 2 s, cold < 10 s on the reference machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=1) as r:
            return r.status == 200 and b'"status":"ok"' in r.read()
    except OSError:
        return False


def time_start(workdir: Path) -> float:
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", tempfile.gettempdir()),
        "LISTEN_ADDR": f"127.0.0.1:{port}",
        "CHATALOT_MIGRATIONS_DIR": str(ROOT / "migrations"),
    }
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "chatalot", "serve"],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not healthy(port):
            if proc.poll() is not None:
                raise SystemExit(f"server exited with {proc.returncode}")
            if time.perf_counter() - started > 60:
                raise SystemExit("server not healthy within 60 s")
            time.sleep(0.01)
        return time.perf_counter() - started
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    cold, warm = [], []
    for _ in range(args.runs):
        workdir = Path(tempfile.mkdtemp(prefix="chatalot-bench-"))
        workdir.chmod(0o755)
        try:
            cold.append(time_start(workdir))
            warm.append(time_start(workdir))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    for name, values in (("cold (empty data dir)", cold), ("warm (existing data)", warm)):
        print(
            f"{name:24} median {statistics.median(values):.2f} s"
            f"  min {min(values):.2f} s  max {max(values):.2f} s  (n={len(values)})"
        )


if __name__ == "__main__":
    main()
