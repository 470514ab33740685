"""The daily orphan clean-up: blobs in the store that no row names any more are deleted.

What it fixes in the original's sweep (ws-auth-ops.md 4.3): that one deleted every file under
``FILE_STORAGE_PATH`` whose full path string was not a ``files.storage_path``, so thumbnails and
custom emoji went with the orphans, and a changed spelling of the path made every upload look
orphaned. Here:

- a blob is deleted only when it is in one of the known layouts (storage/base.py keys):
  ``{xx}/{file id}`` and ``{xx}/{file id}_thumb`` (uploads and thumbnails),
  ``emojis/{name}`` (custom emoji), ``avatars/{name}``, ``community_assets/{name}``,
  ``group_assets/{name}`` (profile, community and group images). Anything else in the store
  is left alone: the sweep never deletes what it does not understand;
- and only when no row names it: ``files`` (file, thumbnail), ``custom_emojis``, and the image
  URL columns of users, webhooks, communities, groups and channels
  (repositories/blob_references.py: keys and original absolute paths alike, URLs with or
  without ``?v=``);
- and only when it is older than ``GRACE`` (1 hour): an upload whose row is not committed yet
  is never touched. The age is checked again right before the delete, so a blob replaced
  meanwhile (a new avatar under the same key) survives.

The store is listed page by page (``PAGE_SIZE`` keys). Each page is checked with one
primary-key query per table (a file's, an emoji's or an image owner's id is part of the key);
the few keys that leaves unnamed are checked against whole tables (one pass per table, a hash
join with the keys) in batches of up to ``CANDIDATE_BATCH``, right before they are deleted.
Memory does not grow with the number of blobs or rows. A session-level
PostgreSQL advisory lock, held on the sweep's one connection, lets only one server process
sweep at a time; another one finds it taken and skips its run.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from chatalot.context import Ctx
from chatalot.db.database import Conn
from chatalot.repositories import blob_references as refs_repo
from chatalot.storage.base import BlobInfo
from chatalot.storage.local import LocalBlobStore

log = logging.getLogger("chatalot_server")

GRACE = timedelta(hours=1)
# Temporary files of uploads (local store): an upload still running after a day is not one.
STALE_INCOMING = timedelta(days=1)
PAGE_SIZE = 500
CANDIDATE_BATCH = 5000  # orphan candidates checked against whole tables at once

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_FILE_KEY = re.compile(rf"[0-9a-f]{{2}}/({_UUID})(?:_thumb)?")
_EMOJI_KEY = re.compile(r"emojis/[^/]+")
_EMOJI_ID = re.compile(rf"emojis/({_UUID})\.[A-Za-z0-9]+")
# Image folders in the store and the public routes that serve them.
IMAGE_ROUTES = {
    "avatars": "/api/avatars/",
    "community_assets": "/api/community-assets/",
    "group_assets": "/api/group-assets/",
}
_IMAGE_KEY = re.compile(r"(avatars|community_assets|group_assets)/([^/]+)")


@dataclass(frozen=True, slots=True)
class SweepReport:
    examined: int  # blobs in the known layouts
    removed: int
    kept_young: int  # younger than the grace period: not checked this time


async def sweep_orphan_files(
    ctx: Ctx,
    *,
    grace: timedelta = GRACE,
    page_size: int = PAGE_SIZE,
    candidate_batch: int = CANDIDATE_BATCH,
) -> SweepReport | None:
    """Deletes the orphaned blobs; None when another process is sweeping (nothing done)."""
    if page_size < 1 or candidate_batch < 1:
        raise ValueError("page_size and candidate_batch must be at least 1")
    cutoff = ctx.clock.now() - grace
    async with ctx.db.connection() as conn:
        if not await refs_repo.try_lock_orphan_sweep(conn):
            log.info("Orphan cleanup: another server process is sweeping; skipped")
            return None
        try:
            sweep = _Sweep(ctx, conn, cutoff, candidate_batch)
            page: list[BlobInfo] = []
            async for blob in ctx.storage.iter_blobs():
                if not _managed(blob.key):
                    continue
                page.append(blob)
                if len(page) >= page_size:
                    await sweep.page(page)
                    page = []
            if page:
                await sweep.page(page)
            await sweep.flush()
        finally:
            await refs_repo.unlock_orphan_sweep(conn)
    log.info("Orphan cleanup: removed %d blobs with no reference", sweep.removed)
    if isinstance(ctx.storage, LocalBlobStore):
        stale = await ctx.storage.remove_stale_incoming(ctx.clock.now() - STALE_INCOMING)
        if stale:
            log.info("Orphan cleanup: removed %d unfinished uploads left by a crash", stale)
    return SweepReport(examined=sweep.examined, removed=sweep.removed, kept_young=sweep.young)


def _managed(key: str) -> bool:
    return bool(_FILE_KEY.fullmatch(key) or _EMOJI_KEY.fullmatch(key) or _IMAGE_KEY.fullmatch(key))


class _Sweep:
    """Each listing page is first checked cheaply (primary keys: a file's or emoji's id, an
    image owner's id are in the key); what that leaves unnamed, the orphan candidates, is
    checked against whole tables in batches of ``CANDIDATE_BATCH`` right before deleting."""

    def __init__(self, ctx: Ctx, conn: Conn, cutoff: datetime, candidate_batch: int) -> None:
        self.ctx = ctx
        self.candidate_batch = candidate_batch
        self.conn = conn
        self.cutoff = cutoff
        self.examined = 0
        self.removed = 0
        self.young = 0
        self.candidates: list[str] = []

    async def page(self, blobs: list[BlobInfo]) -> None:
        self.examined += len(blobs)
        old = [b.key for b in blobs if b.modified < self.cutoff]
        self.young += len(blobs) - len(old)
        if not old:
            return
        named = await _named_by_id(self.conn, old)
        self.candidates.extend(key for key in old if key not in named)
        if len(self.candidates) >= self.candidate_batch:
            await self.flush()

    async def flush(self) -> None:
        candidates, self.candidates = self.candidates, []
        if not candidates:
            return
        named = await _named_anywhere(self.conn, candidates)
        for key in candidates:
            if key in named:
                continue
            # Re-read the age: the key may have been written again since it was listed.
            info = await self.ctx.storage.stat(key)
            if info is None:
                continue
            if info.modified >= self.cutoff:
                self.young += 1
                continue
            if await self.ctx.storage.delete(key):
                self.removed += 1
                log.debug("Orphan cleanup: removed %s", key)


# The tables whose rows' ids start the file names of each image folder.
_IMAGE_OWNERS = {
    "avatars": ("users",),
    "community_assets": ("communities",),
    "group_assets": ("groups", "channels"),
}
_OWNER_ID = re.compile(rf"({_UUID})(?:_[a-z]+)?\.[A-Za-z0-9]+")


async def referenced_keys(conn: Conn, keys: list[str]) -> set[str]:
    """Which of ``keys`` (all in the known layouts) some row names."""
    named = await _named_by_id(conn, keys)
    return named | await _named_anywhere(conn, [k for k in keys if k not in named])


async def _named_by_id(conn: Conn, keys: list[str]) -> set[str]:
    """The keys named by the rows whose id the key holds (primary-key lookups only). A key
    not found here may still be named by another row: see ``_named_anywhere``."""
    named: set[str] = set()
    file_ids = _ids(_FILE_KEY, keys)
    if file_ids:
        named |= await refs_repo.list_file_keys_by_id(conn, file_ids)
    emoji_ids = _ids(_EMOJI_ID, keys)
    if emoji_ids:
        named |= await refs_repo.list_emoji_keys_by_id(conn, emoji_ids)
    owners: dict[str, list[uuid.UUID]] = {}
    url_of: dict[str, str] = {}
    for key in keys:
        if (image := _IMAGE_KEY.fullmatch(key)) is None:
            continue
        url_of[IMAGE_ROUTES[image.group(1)] + image.group(2)] = key
        if owner := _OWNER_ID.fullmatch(image.group(2)):
            for table in _IMAGE_OWNERS[image.group(1)]:
                owners.setdefault(table, []).append(uuid.UUID(owner.group(1)))
    for table, ids in owners.items():
        found = await refs_repo.list_image_urls_by_id(conn, table, ids)
        named.update(url_of[url] for url in found if url in url_of)
    return named


async def _named_anywhere(conn: Conn, keys: list[str]) -> set[str]:
    """The keys any row names (one pass over each table that may name them)."""
    named: set[str] = set()
    file_keys = [k for k in keys if _FILE_KEY.fullmatch(k)]
    if file_keys:
        named |= await refs_repo.list_file_keys_among(conn, file_keys)
    emoji_keys = [k for k in keys if _EMOJI_KEY.fullmatch(k)]
    if emoji_keys:
        named |= await refs_repo.list_emoji_keys_among(conn, emoji_keys)
    url_of: dict[str, str] = {}
    for key in keys:
        if match := _IMAGE_KEY.fullmatch(key):
            url_of[IMAGE_ROUTES[match.group(1)] + match.group(2)] = key
    urls = list(url_of)
    for table in refs_repo.URL_COLUMNS:
        if not urls:
            break
        found = await refs_repo.list_image_urls_among(conn, table, urls)
        named.update(url_of[url] for url in found)
        urls = [url for url in urls if url not in found]
    return named


def _ids(pattern: re.Pattern[str], keys: list[str]) -> list[uuid.UUID]:
    ids = []
    for key in keys:
        match = pattern.fullmatch(key)
        if match:
            ids.append(uuid.UUID(match.group(1)))
    return ids
