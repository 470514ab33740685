"""File uploads against a real server process (``chatalot serve``, embedded PostgreSQL, the
local store in a fresh temporary folder, or with ``--storage s3`` a bucket on a moto S3 server
started on loopback in its own process).

    .venv/bin/python -m bench.uploads [--megabytes 100] [--images 20] [--storage local|s3]

1. A 100 MB upload (text bytes, so no image work) streamed over loopback: throughput (MB/s,
   end to end, client included) and the server's peak RSS growth during the upload (VmRSS of
   the server process sampled every 20 ms, minus its value just before; with S3 the chatalot
   server's only, not moto's). Target: growth < 20 MB (the body is spooled to disk, never held
   in memory).
2. Thumbnails under load: 20 JPEG photos (3000x2000) uploaded at once (each decoded,
   re-encoded and thumbnailed) while a client in another process measures an unrelated
   ``GET /api/account/me`` every 10 ms. Reports the probe's p50/p99 idle and during the
   uploads, and how long the uploads took. Target: p99 < 100 ms during the uploads (image
   work runs in two worker processes, off the event loop).

Each request carries a distinct X-Forwarded-For (loopback is a trusted proxy) so the per-IP
limits do not cap the probe; the 20 uploads come from two users (10 uploads per user per
minute).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import multiprocessing
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import Any

import httpx

from bench._s3 import moto_server
from bench._server import ROOT, free_port, wait_until_ok

MB = 1_000_000
BOUNDARY = "BenchBoundary7d1f"
_ips = count(1)


def forwarded() -> dict[str, str]:
    n = next(_ips)
    return {"X-Forwarded-For": f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"}


@contextmanager
def server(storage: str = "local") -> Iterator[tuple[str, int]]:
    """(base URL, pid) of a fresh ``chatalot serve``; stopped and removed afterwards. With
    ``storage="s3"`` its blobs go to a bucket on a moto S3 server started here (in a separate
    process, whose memory is not the server's)."""
    workdir = Path(tempfile.mkdtemp(prefix="chatalot-bench-uploads-"))
    workdir.chmod(0o755)
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", tempfile.gettempdir()),
        "LISTEN_ADDR": f"127.0.0.1:{port}",
        "CHATALOT_MIGRATIONS_DIR": str(ROOT / "migrations"),
        "REGISTRATION_MODE": "open",
        "CHATALOT_LOG_LEVEL": "warning",
        "FILE_STORAGE_PATH": str(workdir / "files"),
        "MAX_FILE_SIZE_MB": "110",
        "UPLOAD_QUOTA_MB": "0",
    }
    try:
        with ExitStack() as stack:
            if storage == "s3":
                env.update(stack.enter_context(moto_server(workdir)))
            log = stack.enter_context(open(workdir / "server.log", "wb"))
            proc = subprocess.Popen(
                [sys.executable, "-m", "chatalot", "serve"],
                cwd=workdir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            url = f"http://127.0.0.1:{port}"
            try:
                if not wait_until_ok(f"{url}/api/health", proc):
                    raise SystemExit((workdir / "server.log").read_text())
                yield url, proc.pid
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(60)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


class RssSampler:
    """The highest VmRSS of ``pid`` seen while running (sampled in a thread)."""

    def __init__(self, pid: int, every: float = 0.02) -> None:
        self.pid = pid
        self.every = every
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes(self.pid))
            time.sleep(self.every)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes(self.pid))


async def register(http: httpx.AsyncClient, name: str) -> dict[str, str]:
    from tests.support.auth import key_payload

    body = {
        "username": name,
        "email": f"{name}@example.com",
        "password": "Bench-Pass-1",
        "display_name": name,
        **key_payload(),
    }
    response = await http.post("/api/auth/register", json=body, headers=forwarded())
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def big_upload(
    http: httpx.AsyncClient, auth: dict[str, str], pid: int, size: int, storage: str
) -> None:
    block = b"0123456789abcdef" * 4096  # 64 KiB of text
    blocks, rest = divmod(size, len(block))
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()

    async def body() -> AsyncIterator[bytes]:
        yield head
        for _ in range(blocks):
            yield block
        yield block[:rest]
        yield tail

    headers = {
        **auth,
        **forwarded(),
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Length": str(len(head) + size + len(tail)),
    }
    # warm-up: one small upload, so first-use allocations are not counted
    small = await http.post(
        "/api/files/upload",
        headers={**auth, **forwarded()},
        files={"file": ("w.txt", b"warm-up", "text/plain")},
    )
    small.raise_for_status()
    await asyncio.sleep(0.5)
    before = rss_bytes(pid)
    with RssSampler(pid) as sampler:
        started = time.perf_counter()
        response = await http.post("/api/files/upload", headers=headers, content=body())
        elapsed = time.perf_counter() - started
    response.raise_for_status()
    assert response.json()["size_bytes"] == size, response.text
    growth = (sampler.peak - before) / MB
    print(f"upload of {size / MB:.0f} MB ({storage} store, loopback):")
    print(f"  {elapsed:.2f} s, {size / MB / elapsed:.0f} MB/s")
    print(
        f"  server RSS before {before / MB:.1f} MB, peak {sampler.peak / MB:.1f} MB:"
        f" growth {growth:.1f} MB (target < 20 MB)"
    )


def photo() -> bytes:
    from PIL import Image

    image = Image.effect_noise((3000, 2000), 64).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def _probe_process(url: str, headers: dict[str, str], seconds: float, out: Any) -> None:
    """In its own process (so the uploading client's CPU use does not delay it): GET /me every
    10 ms from ``out["go"]`` for ``seconds`` or until ``out["stop"]``; the samples (ms) are
    put on ``out["samples"]``."""

    async def main() -> list[float]:
        samples: list[float] = []
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            await client.get("/api/health")  # connected before the measurement starts
            while not out["go"].wait(0.01):
                await asyncio.sleep(0)
            end = time.perf_counter() + seconds
            while time.perf_counter() < end and not out["stop"].is_set():
                n = len(samples)  # another address per request, as forwarded() gives
                ip = {"X-Forwarded-For": f"172.16.{(n >> 8) & 255}.{n & 255}"}
                t = time.perf_counter()
                r = await client.get("/api/account/me", headers={**headers, **ip})
                r.raise_for_status()
                samples.append((time.perf_counter() - t) * 1000)
                await asyncio.sleep(0.01)
        return samples

    out["samples"].put(asyncio.run(main()))


def probe_elsewhere(url: str, headers: dict[str, str], seconds: float) -> Any:
    """Starts _probe_process; returns the process and its go/stop events and result queue."""
    ctx = multiprocessing.get_context("spawn")
    go, stop, samples = ctx.Event(), ctx.Event(), ctx.Queue()
    out = {"go": go, "stop": stop, "samples": samples}
    process = ctx.Process(target=_probe_process, args=(url, headers, seconds, out))
    process.start()
    return process, out


async def image_storm(http: httpx.AsyncClient, url: str, images: int) -> None:
    users = [await register(http, f"imguser{i}") for i in range((images + 9) // 10)]
    data = photo()
    prober = users[0]

    def collect(process: Any, samples: Any) -> list[float]:
        values: list[float] = samples.get(timeout=120)
        process.join(30)
        return values

    process, out = probe_elsewhere(url, prober, 3)
    await asyncio.sleep(1.0)  # the probe process is up
    out["go"].set()
    idle = await asyncio.to_thread(collect, process, out["samples"])

    async def one(i: int) -> float:
        t = time.perf_counter()
        r = await http.post(
            "/api/files/upload",
            headers={**users[i // 10], **forwarded()},
            files={"file": (f"photo{i}.jpg", data, "image/jpeg")},
        )
        r.raise_for_status()
        return time.perf_counter() - t

    process, out = probe_elsewhere(url, prober, 600)
    await asyncio.sleep(1.0)  # the probe process is up
    out["go"].set()
    started = time.perf_counter()
    durations = list(await asyncio.gather(*(one(i) for i in range(images))))
    total = time.perf_counter() - started
    out["stop"].set()
    busy = await asyncio.to_thread(collect, process, out["samples"])
    print(
        f"{images} JPEG uploads at once ({len(data) / MB:.1f} MB each, 3000x2000):"
        f" all done in {total:.1f} s, slowest {max(durations):.1f} s"
    )
    print("  (GET /me probed from a separate process every 10 ms)")
    for name, values in (("idle", idle), ("uploads", busy)):
        print(
            f"  GET /api/account/me {name:8} p50 {statistics.median(values):.1f} ms,"
            f" p99 {percentile(values, 0.99):.1f} ms (n={len(values)}) (target p99 < 100 ms)"
        )


async def run(megabytes: int, images: int, pid: int, url: str, storage: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=300) as http:
        auth = await register(http, "benchuploader")
        await big_upload(http, auth, pid, megabytes * MB, storage)
        await image_storm(http, url, images)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megabytes", type=int, default=100)
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument(
        "--storage",
        choices=("local", "s3"),
        default="local",
        help="where the server keeps blobs: local disk, or a bucket on a moto S3 server",
    )
    args = parser.parse_args()
    print(f"date {datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} CPUs, storage {args.storage}")
    with server(args.storage) as (url, pid):
        asyncio.run(run(args.megabytes, args.images, pid, url, args.storage))


if __name__ == "__main__":
    main()
