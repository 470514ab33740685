"""SQL for the hash blocklist (table blocked_hashes): SHA-256 checksums an instance admin has
blocked; uploads whose checksum is listed are refused. No permission checks:
services/admin_content.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chatalot.db.database import Conn
from chatalot.ids import UserId

_COLUMNS = "id, hash, reason, blocked_by, created_at"


@dataclass(frozen=True, slots=True)
class BlockedHashRow:
    id: uuid.UUID
    hash: str
    reason: str | None
    blocked_by: UserId | None
    created_at: datetime


def _row(record: Any) -> BlockedHashRow:
    return BlockedHashRow(**dict(record))


async def list_blocked_hashes(conn: Conn, *, limit: int, offset: int) -> list[BlockedHashRow]:
    records = await conn.fetch(
        f"SELECT {_COLUMNS} FROM blocked_hashes ORDER BY created_at DESC, id DESC"
        " LIMIT $1 OFFSET $2",
        limit,
        offset,
    )
    return [_row(r) for r in records]


async def upsert_blocked_hash(
    conn: Conn, *, hash_id: uuid.UUID, digest: str, reason: str | None, blocked_by: UserId
) -> BlockedHashRow:
    """Adds ``digest``; when it is already listed, only its reason changes (the row keeps its
    id, creation time and the admin who first blocked it)."""
    record = await conn.fetchrow(
        f"""
        INSERT INTO blocked_hashes (id, hash, reason, blocked_by)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (hash) DO UPDATE SET reason = EXCLUDED.reason
        RETURNING {_COLUMNS}
        """,
        hash_id,
        digest,
        reason,
        blocked_by,
    )
    return _row(record)


async def insert_blocked_hashes(
    conn: Conn, entries: dict[str, uuid.UUID], *, reason: str, blocked_by: UserId
) -> int:
    """Adds every digest of ``entries`` (digest -> new row id) not listed yet, in one
    statement; returns how many were added."""
    if not entries:
        return 0
    added: int = await conn.fetchval(
        """
        WITH added AS (
            INSERT INTO blocked_hashes (id, hash, reason, blocked_by)
            SELECT e.id, e.hash, $3, $4
              FROM unnest($1::uuid[], $2::text[]) AS e (id, hash)
            ON CONFLICT (hash) DO NOTHING
            RETURNING 1
        )
        SELECT count(*) FROM added
        """,
        list(entries.values()),
        list(entries),
        reason,
        blocked_by,
    )
    return added


async def delete_blocked_hash(conn: Conn, hash_id: uuid.UUID) -> str | None:
    """Removes the entry; its hash, or None when there was none."""
    digest: str | None = await conn.fetchval(
        "DELETE FROM blocked_hashes WHERE id = $1 RETURNING hash", hash_id
    )
    return digest
