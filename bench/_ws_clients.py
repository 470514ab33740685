"""Shared parts of the realtime benchmarks (bench/ws_load.py, idle_ws.py, history.py).

- ``BenchKeys``: an Ed25519 key pair written to PEM files for the server (``JWT_*_KEY_PATH``)
  and access tokens minted with it the way the server issues them (no login, no Argon2);
- ``WsClient``: a minimal WebSocket client on a raw asyncio protocol (HTTP upgrade, masked
  client frames, unmasked server frames, ping answered, permessage-deflate inflated when the
  server agreed to it), cheap enough to receive ~100,000 frames/s in one process and to hold
  10,000 idle connections; ``connect`` opens one and authenticates it;
- process helpers: start a ``chatalot serve`` on a given CPU with the bench settings, Redis,
  the resident memory and CPU time of a process, the load average.

Loopback only: every address here is 127.0.0.0/8.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._server import ROOT, free_port
from bench.edge import Target, base_env, wait_healthy

TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


# -- tokens ------------------------------------------------------------------------------------


class BenchKeys:
    """The server's JWT key pair, made here so that the benchmark can mint access tokens."""

    def __init__(self, directory: Path) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        from chatalot.clock import SystemClock
        from chatalot.security.tokens import JwtKeys, TokenService

        directory.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        self.private_path = directory / "jwt_private.pem"
        self.public_path = directory / "jwt_public.pem"
        self.private_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        self.public_path.write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        self.private_path.chmod(0o600)
        self._tokens = TokenService(
            JwtKeys(private_key=key, public_key=key.public_key()), SystemClock()
        )

    @classmethod
    def from_private_pem(cls, path: Path) -> BenchKeys:
        """Tokens for an existing server whose private key file we can read (``--jwt-key``)."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        from chatalot.clock import SystemClock
        from chatalot.security.tokens import JwtKeys, TokenService

        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise SystemExit(f"{path} is not an Ed25519 private key")
        self = cls.__new__(cls)
        self.private_path = path
        self.public_path = path
        self._tokens = TokenService(
            JwtKeys(private_key=key, public_key=key.public_key()), SystemClock()
        )
        return self

    def env(self) -> dict[str, str]:
        return {
            "JWT_PRIVATE_KEY_PATH": str(self.private_path),
            "JWT_PUBLIC_KEY_PATH": str(self.public_path),
        }

    def token(self, user_id: uuid.UUID, username: str) -> str:
        """A 15-minute access token, as the server issues at login (no session chain)."""
        return self._tokens.issue_access_token(
            user_id=user_id, username=username, is_admin=False, is_owner=False
        )


# -- the client ----------------------------------------------------------------------------------

_PONG = b'{"type":"pong","timestamp":'
_AUTHENTICATED = b'{"type":"authenticated"'
_ERROR = b'{"type":"error"'
_ERROR_CODE = re.compile(rb'"code":"([^"]*)"')


class HandshakeFailed(Exception):
    pass


def mask_payload(payload: bytes, key: bytes) -> bytes:
    n = len(payload)
    if n == 0:
        return b""
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(stream, "little")).to_bytes(
        n, "little"
    )


def client_frame(opcode: int, payload: bytes) -> bytes:
    """One masked, final client frame."""
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    key = os.urandom(4)
    return head + key + mask_payload(payload, key)


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


class WsClient(asyncio.Protocol):
    """One connection. Subclasses override ``on_text`` (every text message after the handshake
    that is not the answer to our own ``ping`` marker); ``now`` is ``time.monotonic_ns()`` when
    the chunk that completed the message arrived."""

    def __init__(
        self, host: str, port: int, token: str, *, deflate: bool = False, path: str = "/ws"
    ) -> None:
        loop = asyncio.get_running_loop()
        self.host, self.port, self.token, self.path = host, port, token, path
        self.offer_deflate = deflate
        self.transport: asyncio.Transport | None = None
        self.ready: asyncio.Future[str] = loop.create_future()  # our user id
        self.ready.add_done_callback(_retrieve)  # a failure is raised by ``connect``
        self.closed: asyncio.Future[int | None] = loop.create_future()  # the close code
        self.errors: Counter[str] = Counter()
        self.deflate = False
        self._inflater: Any = None
        self._fresh_inflater = False
        self._key = base64.b64encode(os.urandom(16)).decode()
        self._handshaken = False
        self._buf = b""
        self._fragments: list[bytes] | None = None
        self._fragment_compressed = False
        self._markers: dict[int, asyncio.Future[None]] = {}
        self._next_marker = -1_000_000

    # asyncio callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass
        assert self.transport is not None
        lines = [
            f"GET {self.path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {self._key}",
            "Sec-WebSocket-Version: 13",
            "User-Agent: chatalot-bench/1",
        ]
        if self.offer_deflate:  # what browsers offer
            lines.append("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits")
        self.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(HandshakeFailed(f"connection lost: {exc}"))
        if not self.closed.done():
            self.closed.set_result(None)
        for waiter in self._markers.values():
            if not waiter.done():
                waiter.set_exception(ConnectionError("connection lost"))

    def data_received(self, data: bytes) -> None:
        now = time.monotonic_ns()
        if self._buf:
            data = self._buf + data
            self._buf = b""
        if not self._handshaken:
            end = data.find(b"\r\n\r\n")
            if end < 0:
                self._buf = data
                return
            if not self._handshake(data[:end]):
                return
            data = data[end + 4 :]
        pos, n = 0, len(data)
        while n - pos >= 2:
            b0 = data[pos]
            length = data[pos + 1] & 0x7F
            head = 2
            if length == 126:
                if n - pos < 4:
                    break
                length = int.from_bytes(data[pos + 2 : pos + 4], "big")
                head = 4
            elif length == 127:
                if n - pos < 10:
                    break
                length = int.from_bytes(data[pos + 2 : pos + 10], "big")
                head = 10
            end = pos + head + length
            if end > n:
                break
            self._frame(b0, data[pos + head : end], now)
            pos = end
        if pos < n:
            self._buf = data[pos:]

    # frames

    def _handshake(self, head: bytes) -> bool:
        """True when the server switched protocols (then ``authenticate`` is sent)."""
        lines = head.decode("latin-1").split("\r\n")
        if not lines[0].startswith("HTTP/1.1 101"):
            self.ready.set_exception(HandshakeFailed(lines[0]))
            assert self.transport is not None
            self.transport.close()
            return False
        self._handshaken = True
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "sec-websocket-extensions" and "permessage-deflate" in value:
                self.deflate = True
                self._fresh_inflater = "server_no_context_takeover" in value
                self._inflater = zlib.decompressobj(-15)
        self.send_text(b'{"type":"authenticate","token":"' + self.token.encode() + b'"}')
        return True

    def _frame(self, b0: int, payload: bytes, now: int) -> None:
        opcode = b0 & 0x0F
        if opcode == 0x9:  # ping: answer at once
            self._write(client_frame(0xA, payload))
            return
        if opcode == 0x8:
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
            if not self.closed.done():
                self.closed.set_result(code)
            self._write(client_frame(0x8, payload[:2]))
            assert self.transport is not None
            self.transport.close()
            return
        if opcode == 0xA:
            return
        fin = b0 & 0x80
        if opcode in (0x1, 0x2):
            if not fin:
                self._fragments = [payload]
                self._fragment_compressed = bool(b0 & 0x40)
                return
            compressed = bool(b0 & 0x40)
        elif opcode == 0x0 and self._fragments is not None:
            self._fragments.append(payload)
            if not fin:
                return
            payload = b"".join(self._fragments)
            compressed = self._fragment_compressed
            self._fragments = None
        else:
            return
        if compressed:
            if self._fresh_inflater:
                self._inflater = zlib.decompressobj(-15)
            payload = self._inflater.decompress(payload + b"\x00\x00\xff\xff")
        if opcode == 0x1:
            self._text(payload, now)

    def _text(self, payload: bytes, now: int) -> None:
        if payload.startswith(_PONG):
            stamp = int(payload[len(_PONG) : payload.index(b"}", len(_PONG))])
            waiter = self._markers.pop(stamp, None)
            if waiter is not None:
                if not waiter.done():
                    waiter.set_result(None)
                return
        if not self.ready.done():
            if payload.startswith(_AUTHENTICATED):
                user = re.search(rb'"user_id":"([^"]+)"', payload)
                self.ready.set_result(user.group(1).decode() if user else "")
            elif payload.startswith(_ERROR):
                self.ready.set_exception(HandshakeFailed(payload.decode()))
            return
        self.on_text(payload, now)

    def on_text(self, payload: bytes, now: int) -> None:
        if payload.startswith(_ERROR):
            code = _ERROR_CODE.search(payload)
            self.errors[code.group(1).decode() if code else "?"] += 1

    # sending

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def send_text(self, payload: bytes) -> None:
        self._write(client_frame(0x1, payload))

    async def sync(self, timeout: float = 30.0) -> None:
        """Send a ``ping`` with a fresh negative marker and wait for its ``pong``: every frame
        sent before it has been handled (the server handles a session's frames in order)."""
        marker = self._next_marker
        self._next_marker -= 1
        waiter = asyncio.get_running_loop().create_future()
        self._markers[marker] = waiter
        self.send_text(b'{"type":"ping","timestamp":%d}' % marker)
        await asyncio.wait_for(waiter, timeout)

    def close(self) -> None:
        self._write(client_frame(0x8, (1000).to_bytes(2, "big")))
        if self.transport is not None:
            self.transport.close()


async def connect(
    factory: Callable[[], WsClient],
    host: str,
    port: int,
    *,
    local_addr: tuple[str, int] | None = None,
    timeout: float = 60.0,
) -> WsClient:
    """Open and authenticate one connection (``factory`` builds the protocol)."""
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(factory, host, port, local_addr=local_addr)
    try:
        await asyncio.wait_for(asyncio.shield(client.ready), timeout)
    except BaseException:
        client.close()
        raise
    return client


async def connect_all(
    count: int,
    opener: Callable[[int], Any],
    *,
    concurrency: int = 64,
    progress: Callable[[int], None] | None = None,
) -> list[Any]:
    """``opener(i)`` for i in range(count), at most ``concurrency`` handshakes at a time; the
    results in order. The first failure stops the rest and is raised."""
    results: list[Any] = [None] * count
    counter = iter(range(count))
    done = 0

    async def worker() -> None:
        nonlocal done
        for i in counter:
            results[i] = await opener(i)
            done += 1
            if progress is not None:
                progress(done)

    await asyncio.gather(*(worker() for _ in range(min(concurrency, count))))
    return results


# -- processes -------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """utime + stime of the whole process (every thread), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def run_queue_wait(pid: int) -> float:
    """Seconds the process's threads spent runnable but waiting for a CPU (schedstat)."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[1])
        except OSError:
            continue
    return total / 1e9


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE_KIB


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def machine() -> str:
    """CPUs, memory and Python, for the report header."""
    with open("/proc/meminfo") as f:
        total_kib = int(f.readline().split()[1])
    return (
        f"{os.cpu_count()} CPUs, {total_kib / 1024 / 1024:.0f} GiB, Python "
        f"{sys.version.split()[0]}, {revision()}"
    )


def revision() -> str:
    """The commit, and whether the server's sources differ from it (others' work in progress)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src", "migrations"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown revision"
    return f"commit {head}" + (" + uncommitted changes in src/" if dirty else "")


def _pin(cpu: int | None) -> Callable[[], None] | None:
    if cpu is None:
        return None

    def pin() -> None:
        os.sched_setaffinity(0, {cpu})

    return pin


# Loaded into a server started with ``gc_log`` (as sitecustomize, through PYTHONPATH): every
# garbage collection of generation 1 or 2, and every one longer than 2 ms, becomes a line
# "<CLOCK_MONOTONIC s> <generation> <ms> <collected>" in $BENCH_GC_LOG; the server is unchanged.
GC_PROBE = """\
import gc, os, time
_path = os.environ.get("BENCH_GC_LOG")
if _path:
    _log = open(_path, "a", buffering=1)
    _started = [0.0]
    def _bench_gc(phase, info):
        if phase == "start":
            _started[0] = time.perf_counter()
            return
        took = (time.perf_counter() - _started[0]) * 1000
        if info["generation"] > 0 or took > 2.0:
            _log.write(
                f"{time.monotonic():.4f} {info['generation']} {took:.3f} {info['collected']}\\n"
            )
    gc.callbacks.append(_bench_gc)
"""


# Loaded into a server started with ``snapshots`` (as sitecustomize): SIGUSR1 writes a
# tracemalloc snapshot (the server runs with PYTHONTRACEMALLOC) to $BENCH_SNAPSHOT_DIR/<n>.snap.
SNAPSHOT_PROBE = """\
import os, signal, tracemalloc
_dir = os.environ.get("BENCH_SNAPSHOT_DIR")
if _dir:
    _count = [0]
    def _bench_snapshot(signum, frame):
        tracemalloc.take_snapshot().dump(os.path.join(_dir, f"{_count[0]}.snap"))
        _count[0] += 1
    signal.signal(signal.SIGUSR1, _bench_snapshot)
"""


@dataclass
class GcPause:
    at: float  # CLOCK_MONOTONIC seconds
    generation: int
    ms: float


def read_gc_log(path: Path, start: float, end: float) -> list[GcPause]:
    """The logged collections between two CLOCK_MONOTONIC times (seconds)."""
    pauses = []
    if path.exists():
        for line in path.read_text().splitlines():
            at, generation, ms, _ = line.split()
            if start <= float(at) < end:
                pauses.append(GcPause(float(at), int(generation), float(ms)))
    return pauses


def start_server(
    name: str,
    dsn: str,
    workdir: Path,
    keys: BenchKeys,
    *,
    cpu: int | None,
    extra_env: dict[str, str] | None = None,
    gc_log: Path | None = None,
    snapshots: Path | None = None,
) -> Target:
    """``chatalot serve`` (CHATALOT_ENV=dev, rate limits off, log level warning) on a free
    loopback port, pinned to ``cpu`` (every thread it starts inherits it); waits until healthy.
    ``gc_log``: log the server's longer garbage collections there (``GC_PROBE``);
    ``snapshots``: a folder for tracemalloc snapshots on SIGUSR1 (``SNAPSHOT_PROBE``)."""
    port = free_port()
    home = workdir / name
    home.mkdir(parents=True, exist_ok=True)
    env = base_env(
        DATABASE_URL=dsn,
        LISTEN_ADDR=f"127.0.0.1:{port}",
        CHATALOT_MIGRATIONS_DIR=str(ROOT / "migrations"),
        REGISTRATION_MODE="open",
        CHATALOT_ENV="dev",
        CHATALOT_RATE_LIMITS="off",
        CHATALOT_LOG_LEVEL="warning",
        **keys.env(),
    )
    env.update(extra_env or {})
    probes = []
    if gc_log is not None:
        probes.append(GC_PROBE)
        env["BENCH_GC_LOG"] = str(gc_log)
    if snapshots is not None:
        probes.append(SNAPSHOT_PROBE)
        snapshots.mkdir(parents=True, exist_ok=True)
        env["BENCH_SNAPSHOT_DIR"] = str(snapshots)
        env["PYTHONTRACEMALLOC"] = "1"
    if probes:
        probe = workdir / f"{name}-probe"
        probe.mkdir(exist_ok=True)
        (probe / "sitecustomize.py").write_text("\n".join(probes))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(probe), env.get("PYTHONPATH"))))
    log_path = workdir / f"{name}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "chatalot", "serve"],
            cwd=home,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_pin(cpu),
        )
    target = Target(name, proc, port, {}, log_path)
    wait_healthy(target, "/api/health")
    return target


def start_redis(workdir: Path, cpu: int | None) -> tuple[subprocess.Popen[bytes], str]:
    """A throwaway redis-server on a free loopback port (no persistence)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("--redis needs redis-server on PATH (apt-get install redis-server)")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_pin(cpu),
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            import socket

            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("redis-server did not start")


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def percentile(sorted_values: Any, p: float) -> float:
    """The ``p`` quantile (0..1) of an already sorted sequence (nearest rank)."""
    if not len(sorted_values):
        return float("nan")
    return float(sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p))])
