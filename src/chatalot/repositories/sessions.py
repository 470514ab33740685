"""SQL for refresh tokens: one row per issued token; rotation chains share a family_id."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chatalot.db.database import Conn
from chatalot.ids import UserId

_COLUMNS = (
    "id, user_id, family_id, device_name, ip_address, expires_at, created_at, revoked_at,"
    " revoked_reason, last_used_at"
)


@dataclass(frozen=True, slots=True)
class SessionRow:
    id: uuid.UUID
    user_id: UserId
    family_id: uuid.UUID
    device_name: str | None
    ip_address: str | None
    expires_at: datetime
    created_at: datetime
    revoked_at: datetime | None
    revoked_reason: str | None
    last_used_at: datetime | None


def _row(record: Any) -> SessionRow:
    return SessionRow(**dict(record))


async def insert_session(
    conn: Conn,
    *,
    session_id: uuid.UUID,
    user_id: UserId,
    family_id: uuid.UUID,
    token_hash: bytes,
    device_name: str | None,
    ip_address: str | None,
    created_at: datetime,
    expires_at: datetime,
) -> SessionRow:
    record = await conn.fetchrow(
        f"""
        INSERT INTO refresh_tokens
               (id, user_id, family_id, token_hash, device_name, ip_address, created_at,
                expires_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     RETURNING {_COLUMNS}
        """,
        session_id,
        user_id,
        family_id,
        token_hash,
        device_name,
        ip_address,
        created_at,
        expires_at,
    )
    return _row(record)


async def select_session_by_hash_for_update(conn: Conn, token_hash: bytes) -> SessionRow | None:
    """The token's row, revoked or not, locked until the transaction ends (SELECT ... FOR
    UPDATE), so two concurrent refreshes of one token are serialised."""
    record = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE", token_hash
    )
    return _row(record) if record else None


async def update_session_rotated(conn: Conn, session_id: uuid.UUID, now: datetime) -> None:
    await conn.execute(
        """
        UPDATE refresh_tokens SET revoked_at = $2, revoked_reason = 'rotated', last_used_at = $2
         WHERE id = $1
        """,
        session_id,
        now,
    )


SESSION_REVOKED_CHANNEL = "chatalot_session_revoked"


@dataclass(frozen=True, slots=True)
class Revoked:
    """What a revocation ended: ``count`` active tokens, in the chains ``family_ids``."""

    count: int
    family_ids: list[uuid.UUID]


async def _revoked(conn: Conn, records: list[Any], now: datetime) -> Revoked:
    """Tells every server process (``pg_notify``, delivered only if the transaction commits)
    which chains ended, so access tokens naming them stop working at once."""
    family_ids = sorted({r["family_id"] for r in records})
    if family_ids:
        await conn.execute(
            "SELECT pg_notify($1, f::text) FROM unnest($2::uuid[]) AS f",
            SESSION_REVOKED_CHANNEL,
            family_ids,
        )
    return Revoked(sum(1 for r in records if r["expires_at"] > now), family_ids)


async def revoke_family(conn: Conn, family_id: uuid.UUID, now: datetime, reason: str) -> Revoked:
    records = await conn.fetch(
        """
        UPDATE refresh_tokens SET revoked_at = $2, revoked_reason = $3
         WHERE family_id = $1 AND revoked_at IS NULL
     RETURNING family_id, expires_at
        """,
        family_id,
        now,
        reason,
    )
    return await _revoked(conn, records, now)


async def revoke_user_sessions(
    conn: Conn,
    user_id: UserId,
    now: datetime,
    reason: str,
    *,
    keep_family: uuid.UUID | None = None,
) -> Revoked:
    """Revokes every token of the user not yet revoked (except the chain ``keep_family``);
    ``count`` is how many of them had not expired."""
    records = await conn.fetch(
        """
        UPDATE refresh_tokens SET revoked_at = $2, revoked_reason = $3
         WHERE user_id = $1 AND revoked_at IS NULL
           AND ($4::uuid IS NULL OR family_id <> $4)
     RETURNING family_id, expires_at
        """,
        user_id,
        now,
        reason,
        keep_family,
    )
    return await _revoked(conn, records, now)


async def exists_live_family(conn: Conn, family_id: uuid.UUID) -> bool:
    """True while the chain has a token that was not revoked (rotation always leaves one)."""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM refresh_tokens"
            " WHERE family_id = $1 AND revoked_at IS NULL)",
            family_id,
        )
    )


async def list_families_revoked_since(conn: Conn, since: datetime) -> list[uuid.UUID]:
    """Chains ended (not merely rotated) since ``since``."""
    records = await conn.fetch(
        """
        SELECT DISTINCT family_id FROM refresh_tokens
         WHERE revoked_at > $1 AND revoked_reason <> 'rotated'
        """,
        since,
    )
    return [r["family_id"] for r in records]


async def list_active_sessions(conn: Conn, user_id: UserId, now: datetime) -> list[SessionRow]:
    records = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM refresh_tokens
         WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2
         ORDER BY created_at DESC, id DESC
        """,
        user_id,
        now,
    )
    return [_row(r) for r in records]


async def select_active_session(
    conn: Conn, *, user_id: UserId, session_id: uuid.UUID, now: datetime
) -> SessionRow | None:
    record = await conn.fetchrow(
        f"""
        SELECT {_COLUMNS} FROM refresh_tokens
         WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > $3
        """,
        session_id,
        user_id,
        now,
    )
    return _row(record) if record else None


async def delete_expired_sessions(conn: Conn, older_than: datetime) -> int:
    status = await conn.execute("DELETE FROM refresh_tokens WHERE expires_at < $1", older_than)
    return int(status.split()[-1])
