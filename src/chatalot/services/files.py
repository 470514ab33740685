"""Uploaded files after the upload (spec rest-api 2.13, ws-auth-ops 5.4): who may read them,
their metadata and thumbnails, deleting them, and where their bytes are stored. The upload
itself is services/file_upload.py.

Access (download, thumbnail, metadata):
- a file shared in a channel (``channel_id`` set): the channel's current members only,
  instance staff included only if they are members, and the uploader loses access after
  leaving;
- otherwise the uploader, or an instance admin/owner;
- a quarantined file (downloads and thumbnails only; metadata stays visible to whoever may
  see it): instance admins/owners only, then the rule above still applies.
A file that does not exist is 404 ``file not found`` for everyone; a thumbnail that does not
exist is 404 ``no thumbnail available`` before access is checked (as the original).

Storage keys: the file is ``{first 2 characters of its id}/{id}`` and its thumbnail
``{xx}/{id}_thumb`` in ``ctx.storage``; ``files.storage_path``/``thumbnail_path`` hold that key.
Rows written by the original hold the absolute path it built (``{FILE_STORAGE_PATH}/01/{id}``):
``blob_key`` maps either form to the key.

A row whose blob is gone (deleted by hand, a lost disk) answers 404 ``file not found`` and logs
an error naming the file and the key: the client can do nothing about it, the operator can.
Deleting gives the uploader's quota back (never below 0), removes the row and writes the audit
entry in one transaction; the blobs are removed after the commit (a removal that fails is
logged; the orphan clean-up finds the blob later).
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from chatalot.context import Ctx
from chatalot.db.database import Conn
from chatalot.errors import Forbidden, NotFound, ServiceUnavailable
from chatalot.ids import FileId
from chatalot.repositories import channels as channels_repo
from chatalot.repositories import files as files_repo
from chatalot.repositories.files import FileRow
from chatalot.services.actor import Actor
from chatalot.services.audit import record_audit
from chatalot.storage.base import BlobNotFound, BlobRead, StorageUnavailable, check_key

log = logging.getLogger("chatalot_server")

FILE_NOT_FOUND = "file not found"
NO_THUMBNAIL = "no thumbnail available"
STORAGE_DOWN = "file storage is unavailable, try again shortly"

# "{xx}/{uuid}" or "{xx}/{uuid}_thumb" at the end of a stored path
_SHARDED = re.compile(r"(?:^|/)([0-9A-Za-z]{2})/([0-9A-Fa-f-]{36}(?:_thumb)?)$")


def file_key(file_id: uuid.UUID) -> str:
    return f"{str(file_id)[:2]}/{file_id}"


def thumbnail_key(file_id: uuid.UUID) -> str:
    return f"{file_key(file_id)}_thumb"


def blob_key(stored_path: str, root: Path) -> str | None:
    """The storage key of a ``files.storage_path`` or ``thumbnail_path`` value: a key as we
    write it, or an absolute (or relative) path the original wrote, under ``root``
    (``FILE_STORAGE_PATH``) or at least ending in ``/{xx}/{id}[_thumb]``. None when it names
    nothing the store could hold."""
    match = _SHARDED.search(stored_path)
    if match is not None:
        return f"{match[1]}/{match[2]}"
    path = PurePosixPath(stored_path)
    for base in (PurePosixPath(root), PurePosixPath(root.absolute())):
        try:
            relative = path.relative_to(base)
        except ValueError:
            continue
        stored_path = str(relative)
        break
    try:
        return check_key(stored_path)
    except ValueError:
        return None


def is_staff(actor: Actor) -> bool:
    return actor.is_admin or actor.is_owner


async def check_access(conn: Conn, actor: Actor, row: FileRow, *, quarantine: bool) -> None:
    """Forbidden unless the caller may read the file (see the module's docstring)."""
    if quarantine and row.quarantined_at is not None and not is_staff(actor):
        raise Forbidden()
    if row.channel_id is not None:
        if await channels_repo.select_channel_role(conn, row.channel_id, actor.user_id) is None:
            raise Forbidden()
    elif row.uploader_id != actor.user_id and not is_staff(actor):
        raise Forbidden()


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """A blob the caller may read: its key and size."""

    row: FileRow
    key: str
    size: int


async def _readable(ctx: Ctx, actor: Actor, file_id: uuid.UUID, *, thumbnail: bool) -> StoredBlob:
    async with ctx.db.connection() as conn:
        row = await files_repo.select_file(conn, file_id)
        if row is None:
            raise NotFound(FILE_NOT_FOUND)
        stored = row.storage_path
        if thumbnail:
            if row.thumbnail_path is None:
                raise NotFound(NO_THUMBNAIL)
            stored = row.thumbnail_path
        await check_access(conn, actor, row, quarantine=True)
    key = blob_key(stored, ctx.settings.file_storage_path)
    info = None
    if key is not None:
        try:
            info = await ctx.storage.stat(key)
        except StorageUnavailable:
            raise ServiceUnavailable(STORAGE_DOWN) from None
    if info is None:
        log.error(
            "File %s has a database row but no blob (%s %r): answering 404",
            row.id,
            "thumbnail" if thumbnail else "file",
            key or stored,
        )
        raise NotFound(NO_THUMBNAIL if thumbnail else FILE_NOT_FOUND)
    return StoredBlob(row, info.key, info.size)


async def file_for_download(ctx: Ctx, actor: Actor, file_id: uuid.UUID) -> StoredBlob:
    return await _readable(ctx, actor, file_id, thumbnail=False)


async def thumbnail_for_download(ctx: Ctx, actor: Actor, file_id: uuid.UUID) -> StoredBlob:
    return await _readable(ctx, actor, file_id, thumbnail=True)


async def open_blob(ctx: Ctx, blob: StoredBlob, start: int, end: int) -> BlobRead:
    """Opens ``[start, end)`` of a blob found by ``file_for_download``."""
    try:
        return await ctx.storage.open(blob.key, start, end)
    except BlobNotFound:
        log.error("File %s: blob %r vanished while being opened", blob.row.id, blob.key)
        raise NotFound(FILE_NOT_FOUND) from None
    except StorageUnavailable:
        raise ServiceUnavailable(STORAGE_DOWN) from None


async def file_metadata(ctx: Ctx, actor: Actor, file_id: uuid.UUID) -> FileRow:
    """The row, for the download's readers (quarantine not checked, as the original)."""
    async with ctx.db.connection() as conn:
        row = await files_repo.select_file(conn, file_id)
        if row is None:
            raise NotFound(FILE_NOT_FOUND)
        await check_access(conn, actor, row, quarantine=False)
    return row


async def delete_file(ctx: Ctx, actor: Actor, file_id: uuid.UUID) -> None:
    """The uploader or an instance admin/owner (else 403); 404 ``file not found``."""
    async with ctx.db.transaction("delete_file") as tx:
        row = await files_repo.select_file_for_update(tx.conn, file_id)
        if row is None:
            raise NotFound(FILE_NOT_FOUND)
        if row.uploader_id != actor.user_id and not is_staff(actor):
            raise Forbidden()
        await files_repo.delete_file(tx.conn, file_id)
        if row.uploader_id is not None:
            await files_repo.update_release_upload_bytes(tx.conn, row.uploader_id, row.size_bytes)
        await record_audit(
            tx.conn,
            "file_deleted",
            user_id=actor.user_id,
            meta=actor.meta,
            metadata={
                "file_id": str(file_id),
                "uploader_id": str(row.uploader_id) if row.uploader_id else None,
            },
        )
    root = ctx.settings.file_storage_path
    for stored in (row.storage_path, row.thumbnail_path):
        key = blob_key(stored, root) if stored else None
        if key is not None:
            await remove_blob(ctx, key, FileId(row.id))


async def remove_blob(ctx: Ctx, key: str, file_id: FileId) -> None:
    """Deletes a blob; a failure is logged, never raised (the orphan clean-up retries)."""
    try:
        await ctx.storage.delete(key)
    except Exception as err:  # the disk or S3: nothing the caller can do about it
        log.warning("Could not remove blob %r of file %s: %s", key, file_id, err)
