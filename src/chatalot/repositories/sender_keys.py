"""SQL for sender-key distributions (table sender_key_distributions): one row per (channel,
sender), the opaque JSON a channel member uploads for group end-to-end encryption. Deleting
rows on membership changes is in repositories/memberships.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chatalot.db.database import Conn
from chatalot.ids import ChannelId, UserId

_COLUMNS = "id, channel_id, user_id, chain_id, distribution, created_at"


@dataclass(frozen=True, slots=True)
class SenderKeyRow:
    id: uuid.UUID
    channel_id: ChannelId
    user_id: UserId
    chain_id: int
    distribution: Any
    created_at: datetime


async def upsert_sender_key(
    conn: Conn,
    *,
    row_id: uuid.UUID,
    channel_id: ChannelId,
    user_id: UserId,
    chain_id: int,
    distribution: Any,
    created_at: datetime,
) -> SenderKeyRow:
    """Inserts or replaces the caller's row of the channel (a new id and created_at each
    time, as the original did). A JSON ``null`` distribution is stored as JSON null (asyncpg
    would send Python None as SQL NULL)."""
    record = await conn.fetchrow(
        f"""
        INSERT INTO sender_key_distributions
                    (id, channel_id, user_id, chain_id, distribution, created_at)
             VALUES ($1, $2, $3, $4, COALESCE($5, 'null'::jsonb), $6)
        ON CONFLICT (channel_id, user_id) DO UPDATE
              SET id = EXCLUDED.id, chain_id = EXCLUDED.chain_id,
                  distribution = EXCLUDED.distribution, created_at = EXCLUDED.created_at
        RETURNING {_COLUMNS}
        """,
        row_id,
        channel_id,
        user_id,
        chain_id,
        distribution,
        created_at,
    )
    return SenderKeyRow(**dict(record))


async def list_sender_keys(conn: Conn, channel_id: ChannelId) -> list[SenderKeyRow]:
    """Every distribution of the channel, oldest first."""
    records = await conn.fetch(
        f"""
        SELECT {_COLUMNS}
          FROM sender_key_distributions
         WHERE channel_id = $1
         ORDER BY created_at, id
        """,
        channel_id,
    )
    return [SenderKeyRow(**dict(r)) for r in records]
