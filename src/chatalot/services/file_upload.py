"""``POST /api/files/upload`` after the body is read (spec rest-api 2.13, ws-auth-ops 5.2).

The route streams the multipart body to a temporary file (api/multipart_spool.py), checking
the file's size (``MAX_FILE_SIZE_MB``) and the name's length as the parts arrive; the upload
then goes through the original's checks, in its order:

1. a ``file`` part is required (400 ``no file field``);
2. at most 10 uploads per user per minute (429 ``upload rate limit exceeded (max 10 per
   minute)``; the original answered 400, and a client backs off on 429, with Retry-After);
3. ``channel_id`` given: the caller must be a member of that channel (403);
4. the quota: the user's ``upload_bytes_used`` plus this file within ``UPLOAD_QUOTA_MB`` MiB
   (0: no quota), else 400 ``upload quota exceeded ({Q} MB limit, {R} MB remaining)``;
5. the SHA-256 of the bytes as uploaded is not on the blocked list (400);
6. the type from the magic bytes (services/file_types.py; 400 ``file type not allowed: ...``);
7. JPEG/PNG/WebP re-encoded without metadata, SVG cleaned, raster images thumbnailed
   (services/file_images.py, services/svg_sanitize.py), off the event loop.

Then the blobs are stored (the file by a rename when the store is the local disk), and the row
is inserted and the quota counter raised in one transaction. The counter is raised with a
conditional UPDATE (``used + size <= quota``), so two concurrent uploads near the limit cannot
both pass: the second is refused with the quota message, its blobs removed. Whatever fails
after the blobs were written removes them again; every temporary file is removed on every path
(also when the client goes away mid-way).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path

from chatalot.api.multipart_spool import SpooledFile
from chatalot.context import Ctx
from chatalot.errors import Forbidden, Invalid, RateLimited, ServiceUnavailable
from chatalot.ids import ChannelId, FileId, uuid7
from chatalot.ratelimit import BucketRule
from chatalot.repositories import channels as channels_repo
from chatalot.repositories import files as files_repo
from chatalot.repositories.files import FileRow
from chatalot.services import file_images
from chatalot.services.actor import Actor
from chatalot.services.file_images import ProcessedImage
from chatalot.services.file_types import detect_content_type
from chatalot.services.files import STORAGE_DOWN, file_key, remove_blob, thumbnail_key
from chatalot.storage.base import StorageUnavailable

log = logging.getLogger("chatalot_server")

MIB = 1024 * 1024
MAX_NAME_BYTES = 512
DEFAULT_NAME = "unnamed"
NAME_TOO_LONG = "file name too long (max 512 bytes)"
NO_FILE = "no file field"
BLOCKED = "this file has been blocked by an administrator"
RATE_LIMITED = "upload rate limit exceeded (max 10 per minute)"
# 10 uploads at once, then one every 6 seconds: 10 per minute, per user (on every process
# when the rate limits are shared through Redis)
UPLOAD_RULE = BucketRule("file_upload", capacity=10, refill_per_second=10 / 60)


def too_large_message(max_mb: int) -> str:
    return f"file too large (max {max_mb} MB)"


@dataclass(slots=True)
class UploadForm:
    """The upload's parts as read: the spooled file (None: there was no ``file`` part), the
    raw ``name`` and ``channel_id`` parts (None: absent, or too long for an id)."""

    file: SpooledFile | None
    name: bytes | None
    channel_id: bytes | None


def parse_name(raw: bytes | None) -> str:
    if raw is None:
        return DEFAULT_NAME
    if len(raw) > MAX_NAME_BYTES:
        raise Invalid(NAME_TOO_LONG)
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("file name must be UTF-8 text") from None
    if "\x00" in name:
        raise Invalid("file name must not contain the NUL character")
    return name


def parse_channel_id(raw: bytes | None) -> ChannelId | None:
    """An id that does not parse counts as absent (as in the original)."""
    if raw is None:
        return None
    try:
        return ChannelId(uuid.UUID(raw.decode("utf-8")))
    except ValueError:  # also UnicodeDecodeError
        return None


def quota_message(quota_mb: int, used: int) -> str:
    remaining = max(quota_mb * MIB - used, 0) / MIB
    return f"upload quota exceeded ({quota_mb} MB limit, {remaining:.1f} MB remaining)"


def spool_dir(ctx: Ctx) -> Path:
    """Where uploads are spooled: the local store's incoming folder (storing is then a
    rename), else the system's temporary folder."""
    incoming = getattr(ctx.storage, "incoming_dir", None)
    if isinstance(incoming, Path):
        return incoming
    import tempfile

    return Path(tempfile.gettempdir())


async def upload_file(ctx: Ctx, actor: Actor, form: UploadForm) -> FileRow:
    """Consumes ``form.file`` (stored or removed, whatever happens)."""
    spooled = form.file
    if spooled is None:
        raise Invalid(NO_FILE)
    path: Path | None = spooled.path
    try:
        name = parse_name(form.name)
        channel_id = parse_channel_id(form.channel_id)
        await _check_rate(ctx, actor)
        await _check_before_processing(ctx, actor, spooled, channel_id)
        content_type = detect_content_type(spooled.head)
        processed = await _process(ctx, spooled.path, content_type)
        path = processed.path
        size = (await asyncio.to_thread(processed.path.stat)).st_size
        return await _store(
            ctx,
            actor,
            processed,
            name=name,
            size=size,
            content_type=content_type,
            checksum=spooled.sha256,
            channel_id=channel_id,
        )
    finally:
        if path is not None:
            await asyncio.to_thread(path.unlink, True)  # missing_ok: stored files are gone


async def _check_rate(ctx: Ctx, actor: Actor) -> None:
    decision = await ctx.limiter.take(UPLOAD_RULE, str(actor.user_id))
    if not decision.allowed:
        raise RateLimited(RATE_LIMITED, retry_after=decision.retry_after)


async def _check_before_processing(
    ctx: Ctx, actor: Actor, spooled: SpooledFile, channel_id: ChannelId | None
) -> None:
    quota_mb = ctx.settings.upload_quota_mb
    async with ctx.db.connection() as conn:
        if channel_id is not None:
            role = await channels_repo.select_channel_role(conn, channel_id, actor.user_id)
            if role is None:
                raise Forbidden()
        if quota_mb > 0:
            used = await files_repo.select_upload_bytes_used(conn, actor.user_id)
            if used + spooled.size > quota_mb * MIB:
                raise Invalid(quota_message(quota_mb, used))
        if await files_repo.exists_blocked_hash(conn, spooled.sha256):
            raise Invalid(BLOCKED)


async def _process(ctx: Ctx, source: Path, content_type: str) -> ProcessedImage:
    out_dir = source.parent
    if content_type in file_images.THUMBNAILED:
        return await file_images.run_image_work(
            file_images.bound(file_images.process_image, source, content_type, out_dir),
            file_images.discard_processed,
        )
    if content_type == "image/svg+xml":
        cleaned = await file_images.run_image_work(
            file_images.bound(file_images.sanitize_svg_file, source, out_dir),
            lambda p: p.unlink(missing_ok=True),
        )
        return ProcessedImage(cleaned, None, exif_stripped=False)
    return ProcessedImage(source, None, exif_stripped=False)


async def _store(
    ctx: Ctx,
    actor: Actor,
    processed: ProcessedImage,
    *,
    name: str,
    size: int,
    content_type: str,
    checksum: str,
    channel_id: ChannelId | None,
) -> FileRow:
    file_id = FileId(uuid7())
    key = file_key(file_id)
    written: list[str] = []
    try:
        try:
            await ctx.storage.put_file(key, processed.path)
            written.append(key)
        except StorageUnavailable:
            raise ServiceUnavailable(STORAGE_DOWN) from None
        thumb_key = await _store_thumbnail(ctx, file_id, processed.thumbnail)
        if thumb_key is not None:
            written.append(thumb_key)
        quota_bytes = ctx.settings.upload_quota_mb * MIB
        async with ctx.db.transaction("upload_file") as tx:
            row = await files_repo.insert_file(
                tx.conn,
                file_id=file_id,
                uploader_id=actor.user_id,
                encrypted_name=name,
                size_bytes=size,
                content_type=content_type,
                storage_path=key,
                checksum=checksum,
                channel_id=channel_id,
                thumbnail_path=thumb_key,
                exif_stripped=processed.exif_stripped,
                created_at=ctx.clock.now(),
            )
            total = await files_repo.update_add_upload_bytes(
                tx.conn, actor.user_id, size, quota_bytes
            )
            if total is None:
                used = await files_repo.select_upload_bytes_used(tx.conn, actor.user_id)
                raise Invalid(quota_message(ctx.settings.upload_quota_mb, used))
    except BaseException:
        for written_key in written:
            await asyncio.shield(remove_blob(ctx, written_key, file_id))
        raise
    return row


async def _store_thumbnail(ctx: Ctx, file_id: FileId, thumbnail: bytes | None) -> str | None:
    """Non-fatal, as the thumbnail itself: None when there is none or it cannot be stored."""
    if thumbnail is None:
        return None
    key = thumbnail_key(file_id)
    try:
        await ctx.storage.put_bytes(key, thumbnail)
    except StorageUnavailable as err:
        log.warning("Could not store the thumbnail of file %s: %s", file_id, err)
        return None
    return key
