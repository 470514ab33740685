"""SQL for the admin views of uploaded files (table files): the filtered list, storage
statistics, quarantine, and the file rows a purge removes. No permission checks:
services/admin_content.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chatalot.db.database import Conn
from chatalot.db.like import contains_pattern
from chatalot.ids import ChannelId, UserId
from chatalot.repositories.files import FILE_COLUMNS, FileRow


@dataclass(frozen=True, slots=True)
class FileFilters:
    uploader_id: UserId | None = None
    name_contains: str | None = None
    content_type_prefix: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    largest_first: bool = False


@dataclass(frozen=True, slots=True)
class UploaderUsageRow:
    user_id: UserId | None  # None: files of deleted accounts
    file_count: int
    total_bytes: int


def _where(filters: FileFilters) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if filters.uploader_id is not None:
        clauses.append(f"uploader_id = {arg(filters.uploader_id)}")
    if filters.name_contains:
        clauses.append(
            f"encrypted_name ILIKE {arg(contains_pattern(filters.name_contains))} ESCAPE '\\'"
        )
    if filters.content_type_prefix:
        prefix = contains_pattern(filters.content_type_prefix)[1:]  # escaped, "x%"
        clauses.append(f"content_type LIKE {arg(prefix)} ESCAPE '\\'")
    if filters.created_from is not None:
        clauses.append(f"created_at >= {arg(filters.created_from)}")
    if filters.created_to is not None:
        clauses.append(f"created_at <= {arg(filters.created_to)}")
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), args


async def list_files(conn: Conn, filters: FileFilters, *, limit: int, offset: int) -> list[FileRow]:
    where, args = _where(filters)
    order = "size_bytes DESC, id DESC" if filters.largest_first else "created_at DESC, id DESC"
    n = len(args)
    records = await conn.fetch(
        f"SELECT {FILE_COLUMNS} FROM files{where} ORDER BY {order} LIMIT ${n + 1} OFFSET ${n + 2}",
        *args,
        limit,
        offset,
    )
    return [FileRow(**dict(r)) for r in records]


async def count_files(conn: Conn, filters: FileFilters) -> int:
    where, args = _where(filters)
    total: int = await conn.fetchval(f"SELECT count(*) FROM files{where}", *args)
    return total


async def list_uploader_usage(conn: Conn) -> list[UploaderUsageRow]:
    """Files and bytes per uploader, most bytes first."""
    records = await conn.fetch(
        """
        SELECT uploader_id AS user_id, count(*) AS file_count,
               COALESCE(sum(size_bytes), 0)::bigint AS total_bytes
          FROM files
         GROUP BY uploader_id
         ORDER BY total_bytes DESC, file_count DESC
        """
    )
    return [UploaderUsageRow(**dict(r)) for r in records]


async def update_quarantine_file(conn: Conn, file_id: uuid.UUID, by: UserId, at: datetime) -> bool:
    """Quarantines the file unless it is already; False when missing or already quarantined."""
    status: str = await conn.execute(
        "UPDATE files SET quarantined_at = $3, quarantined_by = $2"
        " WHERE id = $1 AND quarantined_at IS NULL",
        file_id,
        by,
        at,
    )
    return status != "UPDATE 0"


async def update_unquarantine_file(conn: Conn, file_id: uuid.UUID) -> bool:
    status: str = await conn.execute(
        "UPDATE files SET quarantined_at = NULL, quarantined_by = NULL"
        " WHERE id = $1 AND quarantined_at IS NOT NULL",
        file_id,
    )
    return status != "UPDATE 0"


async def update_quarantine_files_by_checksum(
    conn: Conn, digest: str, by: UserId, at: datetime
) -> int:
    """Quarantines every not-yet-quarantined file whose checksum is ``digest``."""
    status: str = await conn.execute(
        "UPDATE files SET quarantined_at = $3, quarantined_by = $2"
        " WHERE checksum = $1 AND quarantined_at IS NULL",
        digest,
        by,
        at,
    )
    return int(status.split()[-1])


async def delete_files_of_uploader(conn: Conn, user_id: UserId) -> list[FileRow]:
    records = await conn.fetch(
        f"DELETE FROM files WHERE uploader_id = $1 RETURNING {FILE_COLUMNS}", user_id
    )
    return [FileRow(**dict(r)) for r in records]


async def delete_files_of_channel(conn: Conn, channel_id: ChannelId) -> list[FileRow]:
    records = await conn.fetch(
        f"DELETE FROM files WHERE channel_id = $1 RETURNING {FILE_COLUMNS}", channel_id
    )
    return [FileRow(**dict(r)) for r in records]
