"""SQL for uploaded files (table files), the blocked-hash check and the per-user upload quota
counter (users.upload_bytes_used). No permission checks: see services/files.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chatalot.db.database import Conn
from chatalot.ids import ChannelId, FileId, UserId

FILE_COLUMNS = (
    "id, uploader_id, encrypted_name, size_bytes, content_type, storage_path, checksum,"
    " channel_id, created_at, quarantined_at, quarantined_by, thumbnail_path, exif_stripped"
)


@dataclass(frozen=True, slots=True)
class FileRow:
    id: FileId
    uploader_id: UserId | None  # None once the uploader's account is deleted
    encrypted_name: str
    size_bytes: int
    content_type: str | None
    storage_path: str  # a storage key, or the absolute path the original wrote
    checksum: str
    channel_id: ChannelId | None
    created_at: datetime
    quarantined_at: datetime | None
    quarantined_by: UserId | None
    thumbnail_path: str | None
    exif_stripped: bool


def _row(record: Any) -> FileRow:
    return FileRow(**dict(record))


async def select_file(conn: Conn, file_id: uuid.UUID) -> FileRow | None:
    record = await conn.fetchrow(f"SELECT {FILE_COLUMNS} FROM files WHERE id = $1", file_id)
    return _row(record) if record is not None else None


async def select_file_for_update(conn: Conn, file_id: uuid.UUID) -> FileRow | None:
    record = await conn.fetchrow(
        f"SELECT {FILE_COLUMNS} FROM files WHERE id = $1 FOR UPDATE", file_id
    )
    return _row(record) if record is not None else None


async def insert_file(
    conn: Conn,
    *,
    file_id: FileId,
    uploader_id: UserId,
    encrypted_name: str,
    size_bytes: int,
    content_type: str,
    storage_path: str,
    checksum: str,
    channel_id: ChannelId | None,
    thumbnail_path: str | None,
    exif_stripped: bool,
    created_at: datetime,
) -> FileRow:
    record = await conn.fetchrow(
        f"""
        INSERT INTO files (id, uploader_id, encrypted_name, size_bytes, content_type,
                           storage_path, checksum, channel_id, thumbnail_path, exif_stripped,
                           created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        RETURNING {FILE_COLUMNS}
        """,
        file_id,
        uploader_id,
        encrypted_name,
        size_bytes,
        content_type,
        storage_path,
        checksum,
        channel_id,
        thumbnail_path,
        exif_stripped,
        created_at,
    )
    return _row(record)


async def delete_file(conn: Conn, file_id: uuid.UUID) -> bool:
    status = await conn.execute("DELETE FROM files WHERE id = $1", file_id)
    return str(status) == "DELETE 1"


async def exists_blocked_hash(conn: Conn, checksum: str) -> bool:
    """``checksum``: lowercase hex SHA-256 (blocked_hashes.hash is stored that way)."""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM blocked_hashes WHERE hash = $1)", checksum
        )
    )


async def select_upload_bytes_used(conn: Conn, user_id: UserId) -> int:
    used: int | None = await conn.fetchval(
        "SELECT upload_bytes_used FROM users WHERE id = $1", user_id
    )
    return used or 0


async def update_add_upload_bytes(
    conn: Conn, user_id: UserId, size: int, quota_bytes: int
) -> int | None:
    """Adds ``size`` to the user's counter when it stays within ``quota_bytes`` (0: no
    limit), in one statement: concurrent uploads are serialised on the user's row, and the
    second sees the first's total. The new total, or None when it would exceed the quota."""
    total: int | None = await conn.fetchval(
        """
        UPDATE users SET upload_bytes_used = upload_bytes_used + $2
         WHERE id = $1 AND ($3 = 0 OR upload_bytes_used + $2 <= $3)
        RETURNING upload_bytes_used
        """,
        user_id,
        size,
        quota_bytes,
    )
    return total


async def update_release_upload_bytes(conn: Conn, user_id: UserId, size: int) -> None:
    """Gives ``size`` bytes back to the user's quota (never below 0)."""
    await conn.execute(
        "UPDATE users SET upload_bytes_used = GREATEST(upload_bytes_used - $2, 0) WHERE id = $1",
        user_id,
        size,
    )
