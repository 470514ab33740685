"""The orphan clean-up (services/orphan_files.py): every kind of reference keeps its blob (the
original deleted thumbnails and custom emoji, and compared path spellings), unreferenced blobs
older than an hour go, younger ones and blobs of unknown layouts stay, a blob written again
after it was listed stays, and two server processes never sweep at the same time."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from chatalot.clock import FakeClock
from chatalot.config import PoolSettings, Settings
from chatalot.context import Ctx
from chatalot.db.database import Database
from chatalot.db.pool import open_pool
from chatalot.ids import uuid7
from chatalot.security.passwords import PasswordHasher
from chatalot.security.tokens import JwtKeys
from chatalot.services.orphan_files import sweep_orphan_files
from chatalot.storage.base import BlobInfo
from chatalot.storage.local import LocalBlobStore
from chatalot.storage.s3 import S3BlobStore
from tests.conftest import build_ctx
from tests.support.auth import make_user
from tests.support.moto_s3 import MotoS3, moto_s3_server
from tests.support.pg import PgServer
from tests.support.spaces import make_channel, make_community, make_group

TWO_HOURS = 2 * 3600


def local(ctx: Ctx) -> LocalBlobStore:
    assert isinstance(ctx.storage, LocalBlobStore)
    return ctx.storage


async def put(ctx: Ctx, key: str, *, age_secs: float = TWO_HOURS) -> str:
    """A blob written ``age_secs`` ago."""
    await ctx.storage.put_bytes(key, key.encode())
    when = time.time() - age_secs
    os.utime(local(ctx).path_of(key), (when, when))
    return key


async def keys(ctx: Ctx) -> set[str]:
    return {info.key async for info in ctx.storage.iter_blobs()}


async def execute(ctx: Ctx, sql: str, *args: Any) -> None:
    async with ctx.db.transaction("test_setup") as tx:
        await tx.conn.execute(sql, *args)


async def insert_file(
    ctx: Ctx, storage_path: str, thumbnail_path: str | None = None, file_id: Any = None
) -> None:
    await execute(
        ctx,
        "INSERT INTO files (id, encrypted_name, size_bytes, storage_path, checksum,"
        " thumbnail_path) VALUES ($1, 'name', 1, $2, 'sum', $3)",
        file_id or uuid7(),
        storage_path,
        thumbnail_path,
    )


async def referenced_world(ctx: Ctx) -> tuple[set[str], set[str]]:
    """Rows naming blobs in every way there is, the blobs they name (old ones), and old blobs
    no row names. Returns (kept, orphans)."""
    kept: set[str] = set()
    user = (await make_user(ctx)).row.id
    other = (await make_user(ctx)).row.id
    await execute(
        ctx,
        "UPDATE users SET avatar_url = $2, banner_url = $3, voice_background_url = $4"
        " WHERE id = $1",
        user,
        f"/api/avatars/{user}.png?v=1700000000",
        f"/api/avatars/{user}_banner.jpg?v=1700000001",
        f"/api/avatars/{user}_voicebg.webp",
    )
    kept |= {
        await put(ctx, f"avatars/{user}.png"),
        await put(ctx, f"avatars/{user}_banner.jpg"),
        await put(ctx, f"avatars/{user}_voicebg.webp"),
    }
    # Another user's row pointing at a file named after someone else (allowed by validation).
    borrowed = f"{uuid7()}.gif"
    await execute(
        ctx, "UPDATE users SET avatar_url = $2 WHERE id = $1", other, f"/api/avatars/{borrowed}"
    )
    kept.add(await put(ctx, f"avatars/{borrowed}"))

    community = await make_community(ctx, user)
    await execute(
        ctx,
        "UPDATE communities SET icon_url = $2, banner_url = $3 WHERE id = $1",
        community,
        f"/api/community-assets/{community}_icon.png?v=5",
        f"https://chat.example.com/api/community-assets/{community}_banner.gif?v=6",
    )
    kept |= {
        await put(ctx, f"community_assets/{community}_icon.png"),
        await put(ctx, f"community_assets/{community}_banner.gif"),
    }
    group = await make_group(ctx, community, user)
    channel = await make_channel(ctx, group, user, channel_type="voice")
    await execute(
        ctx,
        "UPDATE groups SET icon_url = $2, banner_url = $3 WHERE id = $1",
        group,
        f"/api/group-assets/{group}_icon.webp?v=7",
        f"/api/group-assets/{group}_banner.png?v=8",
    )
    await execute(
        ctx,
        "UPDATE channels SET voice_background = $2 WHERE id = $1",
        channel,
        f"/api/group-assets/{channel}_voicebg.jpg?v=9",
    )
    kept |= {
        await put(ctx, f"group_assets/{group}_icon.webp"),
        await put(ctx, f"group_assets/{group}_banner.png"),
        await put(ctx, f"group_assets/{channel}_voicebg.jpg"),
    }
    hook_file = f"{uuid7()}.png"
    await execute(
        ctx,
        "INSERT INTO webhooks (id, channel_id, name, token, avatar_url)"
        " VALUES ($1, $2, 'hook', $3, $4)",
        uuid7(),
        channel,
        uuid7().hex,
        f"/api/avatars/{hook_file}",
    )
    kept.add(await put(ctx, f"avatars/{hook_file}"))

    emoji_key, emoji_original = uuid7(), uuid7()
    for emoji_id, shortcode, path in (
        (emoji_key, "key", f"emojis/{emoji_key}.png"),
        (emoji_original, "original", f"/app/data/files/emojis/{emoji_original}.gif"),
    ):
        await execute(
            ctx,
            "INSERT INTO custom_emojis (id, community_id, shortcode, file_path, content_type)"
            " VALUES ($1, $2, $3, $4, 'image/png')",
            emoji_id,
            community,
            shortcode,
            path,
        )
    kept |= {
        await put(ctx, f"emojis/{emoji_key}.png"),
        await put(ctx, f"emojis/{emoji_original}.gif"),
    }

    # Files: keys, original absolute paths (another FILE_STORAGE_PATH spelling), a relative
    # spelling with no thumbnail_path but a thumbnail blob, and a row whose id is not the one
    # in its path.
    a, b, c, d_row, d_blob = uuid7(), uuid7(), uuid7(), uuid7(), uuid7()
    await insert_file(ctx, f"01/{a}", f"01/{a}_thumb", a)
    await insert_file(ctx, f"/app/data/files/01/{b}", f"/app/data/files/01/{b}_thumb", b)
    await insert_file(ctx, f"./data/files/01/{c}", None, c)
    await insert_file(ctx, f"/srv/files/01/{d_blob}", None, d_row)
    for key in (f"01/{a}", f"01/{a}_thumb", f"01/{b}", f"01/{b}_thumb", f"01/{c}"):
        kept.add(await put(ctx, key))
    kept |= {await put(ctx, f"01/{c}_thumb"), await put(ctx, f"01/{d_blob}")}

    # Never touched: layouts the sweep does not own.
    kept |= {await put(ctx, "backups/2026-01-01.tar"), await put(ctx, "top-level-file")}

    orphans = {
        await put(ctx, f"01/{uuid7()}"),
        await put(ctx, f"01/{uuid7()}_thumb"),
        await put(ctx, f"02/{uuid7()}"),
        await put(ctx, f"emojis/{uuid7()}.png"),
        await put(ctx, "emojis/not-a-uuid.webp"),
        await put(ctx, f"avatars/{user}.jpg"),  # an earlier avatar with another extension
        await put(ctx, f"avatars/{uuid7()}_banner.png"),
        await put(ctx, f"community_assets/{uuid7()}_icon.png"),
        await put(ctx, f"group_assets/{group}_icon.png"),  # not the .webp the row names
    }
    return kept, orphans


async def _one(ctx: Ctx, sql: str, *args: Any) -> Any:
    async with ctx.db.connection() as conn:
        return await conn.fetchval(sql, *args)


@pytest.mark.parametrize(("page_size", "candidate_batch"), [(1, 1), (4, 3), (500, 5000)])
async def test_referenced_blobs_stay_and_orphans_go(
    ctx: Ctx, page_size: int, candidate_batch: int, caplog: pytest.LogCaptureFixture
) -> None:
    kept, orphans = await referenced_world(ctx)
    caplog.set_level(logging.INFO)
    report = await sweep_orphan_files(ctx, page_size=page_size, candidate_batch=candidate_batch)
    assert report is not None
    assert await keys(ctx) == kept
    assert report.removed == len(orphans)
    assert report.kept_young == 0
    assert f"Orphan cleanup: removed {len(orphans)} blobs with no reference" in caplog.text
    # A second run finds nothing more.
    again = await sweep_orphan_files(ctx, page_size=page_size)
    assert again is not None and again.removed == 0
    assert await keys(ctx) == kept


async def test_young_blobs_stay_until_the_grace_period_is_over(ctx: Ctx) -> None:
    """An upload whose row is not committed yet looks like an orphan: it is left alone for an
    hour."""
    fresh = await put(ctx, f"01/{uuid7()}", age_secs=0)
    almost = await put(ctx, f"avatars/{uuid7()}.png", age_secs=3600 - 120)
    expired = await put(ctx, f"emojis/{uuid7()}.png", age_secs=3600 + 120)
    report = await sweep_orphan_files(ctx)
    assert report is not None
    assert (report.removed, report.kept_young) == (1, 2)
    assert await keys(ctx) == {fresh, almost}
    assert expired not in await keys(ctx)


async def test_unfinished_uploads_older_than_a_day_are_removed(ctx: Ctx) -> None:
    """Temporary files a crash left in the local store's incoming folder go after a day;
    younger ones (an upload may still be running) stay."""
    incoming = local(ctx).incoming_dir
    incoming.mkdir(parents=True, exist_ok=True)
    stale, running = incoming / "upload-stale", incoming / "upload-running"
    for path, age in ((stale, 86400 + 60), (running, 86400 - 600)):
        path.write_bytes(b"partial")
        when = time.time() - age
        os.utime(path, (when, when))
    assert await sweep_orphan_files(ctx) is not None
    assert sorted(p.name for p in incoming.iterdir()) == ["upload-running"]


async def test_a_blob_written_again_after_the_listing_stays(ctx: Ctx, tmp_path: Path) -> None:
    """A key listed as old but rewritten before its turn (a new avatar under the same name,
    whose row update is not committed yet) is checked again and kept."""

    class Rewriting(LocalBlobStore):
        async def iter_blobs(self, prefix: str = "") -> AsyncIterator[BlobInfo]:
            async for info in super().iter_blobs(prefix):
                yield info
                os.utime(self.path_of(info.key))  # written again just now

    store = Rewriting(tmp_path / "rewritten")
    ctx.storage = store
    key = await put(ctx, f"avatars/{uuid7()}.png")
    listed = [info async for info in LocalBlobStore(store.root).iter_blobs()]
    assert listed[0].modified < ctx.clock.now() - timedelta(hours=1)
    report = await sweep_orphan_files(ctx)
    assert report is not None and report.removed == 0
    assert await keys(ctx) == {key}


@pytest.fixture
async def pool(pg: PgServer, fresh_db: str) -> AsyncIterator[Any]:
    pool = await open_pool(pg.url(fresh_db), PoolSettings(max_connections=6, min_connections=2))
    yield pool
    await pool.close()


class Paused(LocalBlobStore):
    """Listing waits until ``go`` is set (a long sweep in progress)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.listing = asyncio.Event()
        self.go = asyncio.Event()

    async def iter_blobs(self, prefix: str = "") -> AsyncIterator[BlobInfo]:
        self.listing.set()
        await self.go.wait()
        async for info in super().iter_blobs(prefix):
            yield info


@pytest.fixture
def paused_root(tmp_path: Path) -> Path:
    root = tmp_path / "shared-files"
    root.mkdir()
    return root


async def test_two_processes_never_sweep_at_once(
    pool: Any,
    settings: Settings,
    passwords: PasswordHasher,
    jwt_keys: JwtKeys,
    paused_root: Path,
) -> None:
    """Two server processes (two contexts on one database, one store): while one sweeps, the
    other's run is skipped; once the first is done, the lock is free again."""
    first_store = Paused(paused_root)
    first = build_ctx(
        Database(pool, acquire_timeout=10), settings, passwords, jwt_keys, storage=first_store
    )
    second = build_ctx(
        Database(pool, acquire_timeout=10),
        settings,
        passwords,
        jwt_keys,
        storage=LocalBlobStore(paused_root),
    )
    orphan = await put(first, f"01/{uuid7()}")

    running = asyncio.create_task(sweep_orphan_files(first))
    try:
        await asyncio.wait_for(first_store.listing.wait(), 10)
        assert await sweep_orphan_files(second) is None  # skipped: the first holds the lock
        assert await keys(second) == {orphan}
    finally:
        first_store.go.set()  # even when an assertion failed: the pool must be released
        report = await asyncio.wait_for(running, 10)
    assert report is not None and report.removed == 1
    assert await keys(second) == set()

    later = await sweep_orphan_files(second)  # the lock was released
    assert later is not None and later.removed == 0
    async with pool.acquire() as conn:
        held = await conn.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
    assert held == 0


@pytest.fixture(scope="module")
def moto_s3() -> Iterator[MotoS3]:
    with moto_s3_server() as server:
        yield server


async def test_the_sweep_works_on_the_s3_store(ctx: Ctx, moto_s3: MotoS3) -> None:
    """The same sweep over an S3 bucket (ages come from the bucket's clock: the test moves the
    server's clock instead of the blobs' times)."""
    ctx.storage = S3BlobStore.from_settings(moto_s3.settings(prefix=f"sweep-{uuid7().hex}"))
    named, orphan = uuid7(), uuid7()
    await insert_file(
        ctx, f"/app/data/files/01/{named}", f"/app/data/files/01/{named}_thumb", named
    )
    for key in (f"01/{named}", f"01/{named}_thumb", f"01/{orphan}", f"emojis/{orphan}.png"):
        await ctx.storage.put_bytes(key, b"x")
    assert isinstance(ctx.clock, FakeClock)
    ctx.clock.advance(1800)
    report = await sweep_orphan_files(ctx)
    assert report is not None and (report.removed, report.kept_young) == (0, 4)
    ctx.clock.advance(3600)
    report = await sweep_orphan_files(ctx)
    assert report is not None and report.removed == 2
    assert await keys(ctx) == {f"01/{named}", f"01/{named}_thumb"}
