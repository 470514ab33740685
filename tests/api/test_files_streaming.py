"""File uploads as streams: a client that goes away mid-upload leaves nothing behind, a 30 MB
upload is never held in memory, concurrent uploads cannot pass the quota together, and at most
two images are processed at once. MAX_FILE_SIZE_MB=40, UPLOAD_QUOTA_MB=1 here."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import time
import tracemalloc
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatalot.app import create_app
from chatalot.clock import SystemClock
from chatalot.config import PoolSettings, Settings
from chatalot.context import Ctx
from chatalot.db.database import Database
from chatalot.db.pool import open_pool
from chatalot.errors import Invalid
from chatalot.repositories import files as files_repo
from chatalot.security.passwords import PasswordHasher
from chatalot.security.tokens import JwtKeys
from chatalot.services import file_images
from chatalot.services.file_images import ProcessedImage
from tests.api.test_files import blobs, image_bytes, temporary_files, used
from tests.conftest import build_ctx, settings_in
from tests.support.auth import make_user
from tests.support.pg import PgServer

MIB = 1024 * 1024
BOUNDARY = "StreamBoundary"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_in(tmp_path, MAX_FILE_SIZE_MB="40", UPLOAD_QUOTA_MB="1")


@pytest.fixture
async def pooled(
    pg: PgServer, fresh_db: str, settings: Settings, passwords: PasswordHasher, jwt_keys: JwtKeys
) -> AsyncIterator[tuple[Any, Ctx, httpx.AsyncClient]]:
    pool = await open_pool(pg.url(fresh_db), PoolSettings(max_connections=12, min_connections=2))
    ctx = build_ctx(
        Database(pool, acquire_timeout=10), settings, passwords, jwt_keys, clock=SystemClock()
    )
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=60) as client:
        yield pool, ctx, client
    await pool.close()


def head_of_file_part(name: str = "big.bin") -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()


TAIL = f"\r\n--{BOUNDARY}--\r\n".encode()


async def test_client_disconnect_mid_upload_leaves_nothing(ctx: Ctx) -> None:
    """The client sends 3 MB of a 10 MB upload, then the connection ends: no blob, no
    temporary file, no row, quota unchanged, and no 500."""
    user = await make_user(ctx)
    app = create_app(ctx)
    chunk = b"z" * (256 * 1024)
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": head_of_file_part(), "more_body": True},
        *({"type": "http.request", "body": chunk, "more_body": True} for _ in range(12)),
        {"type": "http.disconnect"},
    ]
    spooled_meanwhile: list[int] = []

    async def receive() -> dict[str, Any]:
        if len(messages) == 1:  # about to disconnect: the spool file exists by now
            spooled_meanwhile.append(len(temporary_files(ctx)))
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/files/upload",
        "raw_path": b"/api/files/upload",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"t"),
            (b"authorization", f"Bearer {user.token}".encode()),
            (b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode()),
            (b"content-length", str(10 * MIB).encode()),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 80),
    }
    await app(scope, receive, send)
    assert spooled_meanwhile == [1]
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 400
    assert blobs(ctx) == []
    assert temporary_files(ctx) == []
    assert await used(ctx, user.id) == 0
    async with ctx.db.connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM files") == 0


async def test_a_30_mb_upload_is_never_held_in_memory(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """tracemalloc's peak over the whole request (client side included) stays a small
    fraction of the file: the body is spooled in blocks, never collected. The checksum is
    still that of all 30 MB."""
    user = await make_user(ctx)
    ctx_settings_quota_off(ctx)
    block = b"0123456789abcdef" * 4096  # 64 KiB of text, sent 480 times
    count = 480
    digest = hashlib.sha256()
    for _ in range(count):
        digest.update(block)

    async def body() -> AsyncIterator[bytes]:
        yield head_of_file_part()
        for _ in range(count):
            yield block
        yield TAIL

    tracemalloc.start()
    try:
        response = await client.post(
            "/api/files/upload",
            headers={
                **user.headers,
                "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            },
            content=body(),
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 200, response.text
    assert response.json()["size_bytes"] == count * len(block)
    assert peak < 6 * MIB, f"peak {peak / MIB:.1f} MiB"
    async with ctx.db.connection() as conn:
        checksum = await conn.fetchval("SELECT checksum FROM files")
    assert checksum == digest.hexdigest()
    assert temporary_files(ctx) == []


def ctx_settings_quota_off(ctx: Ctx) -> None:
    """This module's quota is 1 MB; the memory test needs none."""
    import dataclasses

    ctx.settings = dataclasses.replace(ctx.settings, upload_quota_mb=0)


async def test_concurrent_uploads_cannot_pass_the_quota_together(
    pooled: tuple[Any, Ctx, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four uploads of 400 KB at once under a 1 MB quota. The early check is made to see an
    empty quota every time (as it does when the uploads are truly simultaneous), so only the
    conditional UPDATE stands between them and the limit: two pass, two are refused, and the
    counter, the rows and the blobs agree."""
    pool, ctx, client = pooled
    user = await make_user(ctx)
    real = files_repo.select_upload_bytes_used
    calls = Counter[str]()

    async def sees_nothing_used(conn: Any, user_id: Any) -> int:
        calls["early"] += 1
        return 0 if calls["early"] <= 4 else await real(conn, user_id)

    monkeypatch.setattr(files_repo, "select_upload_bytes_used", sees_nothing_used)
    size = 400 * 1024
    responses = await asyncio.gather(
        *(
            client.post(
                "/api/files/upload",
                headers=user.headers,
                files={"file": ("f.bin", bytes([i]) * size, "text/plain")},
            )
            for i in range(1, 5)
        )
    )
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 2, 400: 2}, [r.text for r in responses]
    for refused in (r for r in responses if r.status_code == 400):
        assert refused.json()["error"]["message"].startswith("upload quota exceeded (1 MB limit")
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM files") == 2
        assert (
            await conn.fetchval("SELECT upload_bytes_used FROM users WHERE id = $1", user.id)
            == 2 * size
        )
    assert len(blobs(ctx)) == 2
    assert temporary_files(ctx) == []


def slow_process(source: Path, content_type: str, out_dir: Path) -> ProcessedImage:
    """Stands in for the image work (in a worker process): notes when it ran, in a file."""
    started = time.time()
    time.sleep(0.4)
    (out_dir / f"trace-{uuid.uuid4()}").write_text(f"{started} {time.time()}")
    return ProcessedImage(source, None, exif_stripped=False)


def most_at_once(intervals: list[tuple[float, float]]) -> int:
    edges = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals])
    running = most = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    return most


async def test_at_most_two_images_are_processed_at_once(
    pooled: tuple[Any, Ctx, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six image uploads at once: the image work (in the worker processes) never runs more
    than twice in parallel, and the event loop stays free meanwhile (a health check answers
    quickly)."""
    _, ctx, client = pooled
    ctx_settings_quota_off(ctx)
    user = await make_user(ctx)
    monkeypatch.setattr(file_images, "process_image", slow_process)
    png = image_bytes("PNG")
    uploads = asyncio.gather(
        *(
            client.post(
                "/api/files/upload",
                headers=user.headers,
                files={"file": ("i.png", png, "image/png")},
            )
            for _ in range(6)
        )
    )
    await asyncio.sleep(0.3)
    started = time.perf_counter()
    health = await client.get("/api/health")
    health_seconds = time.perf_counter() - started
    responses = await uploads
    assert [r.status_code for r in responses] == [200] * 6
    assert health.status_code == 200
    assert health_seconds < 0.5
    traces = sorted((ctx.settings.file_storage_path / ".incoming").glob("trace-*"))
    intervals = [tuple(map(float, t.read_text().split())) for t in traces]
    assert len(intervals) == 6
    assert most_at_once(intervals) == 2  # type: ignore[arg-type]


def test_a_dead_worker_is_replaced() -> None:
    """A worker killed mid-work (e.g. by the kernel for memory) answers 400 ``failed to
    process image metadata``, and the next image is processed by fresh workers."""

    async def run() -> tuple[str, int]:
        try:
            await file_images.run_image_work(file_images.bound(_kill_self), _nothing)
        except Invalid as err:
            first = err.message
        else:
            first = "no error"
        pid = await file_images.run_image_work(file_images.bound(os.getpid), _nothing)
        return first, pid

    first, pid = asyncio.run(run())
    assert first == file_images.DECODE_FAILED
    assert pid != os.getpid()


def _nothing(_: object) -> None:
    return None


def _kill_self() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _slow_output(directory: Path) -> ProcessedImage:
    time.sleep(0.5)
    path = directory / "image-output"
    path.write_bytes(b"processed")
    (directory / "done").write_text("")
    return ProcessedImage(path, None, exif_stripped=False)


def test_work_finishing_after_the_client_left_is_removed(tmp_path: Path) -> None:
    """The request is cancelled while an image is being processed: the file the worker
    writes afterwards is removed when the work completes."""

    async def run() -> None:
        task = asyncio.create_task(
            file_images.run_image_work(
                file_images.bound(_slow_output, tmp_path), file_images.discard_processed
            )
        )
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        for _ in range(600):  # ~0.4 s later, or up to seconds when workers first start
            await asyncio.sleep(0.05)
            if not (tmp_path / "image-output").exists() and _done(tmp_path):
                break

    asyncio.run(run())
    assert not (tmp_path / "image-output").exists()
    assert (tmp_path / "done").exists()


def _done(directory: Path) -> bool:
    """True once the work has run (it leaves a marker beside its output), so the test
    cannot pass before the work even started."""
    return (directory / "done").exists()
