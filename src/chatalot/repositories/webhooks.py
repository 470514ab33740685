"""SQL for webhooks (table webhooks) and the messages they post (table messages, columns
``plaintext`` and the search columns). No permission checks, no events: see
services/webhooks.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from chatalot.db.database import Conn
from chatalot.ids import ChannelId, UserId
from chatalot.repositories.messages import MESSAGE_COLUMNS, MessageRow, message_row

_COLUMNS = "id, channel_id, name, token, created_by, avatar_url, active, created_at"


@dataclass(frozen=True, slots=True)
class WebhookRow:
    id: uuid.UUID
    channel_id: ChannelId
    name: str
    token: str
    created_by: UserId | None  # None once the creator's account is deleted
    avatar_url: str | None
    active: bool
    created_at: datetime


async def insert_webhook(
    conn: Conn,
    *,
    webhook_id: uuid.UUID,
    channel_id: ChannelId,
    name: str,
    token: str,
    created_by: UserId,
    avatar_url: str | None,
    created_at: datetime,
) -> WebhookRow:
    record = await conn.fetchrow(
        f"""
        INSERT INTO webhooks (id, channel_id, name, token, created_by, avatar_url, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        RETURNING {_COLUMNS}
        """,
        webhook_id,
        channel_id,
        name,
        token,
        created_by,
        avatar_url,
        created_at,
    )
    return WebhookRow(**dict(record))


async def select_webhook(
    conn: Conn, webhook_id: uuid.UUID, *, for_update: bool = False
) -> WebhookRow | None:
    lock = " FOR UPDATE" if for_update else ""
    record = await conn.fetchrow(f"SELECT {_COLUMNS} FROM webhooks WHERE id = $1{lock}", webhook_id)
    return WebhookRow(**dict(record)) if record else None


async def select_webhook_by_token(conn: Conn, token: str) -> WebhookRow | None:
    """The webhook holding ``token`` (an index probe on the unique token)."""
    record = await conn.fetchrow(f"SELECT {_COLUMNS} FROM webhooks WHERE token = $1", token)
    return WebhookRow(**dict(record)) if record else None


async def list_channel_webhooks(conn: Conn, channel_id: ChannelId) -> list[WebhookRow]:
    """Oldest first."""
    records = await conn.fetch(
        f"SELECT {_COLUMNS} FROM webhooks WHERE channel_id = $1 ORDER BY created_at, id",
        channel_id,
    )
    return [WebhookRow(**dict(r)) for r in records]


async def update_webhook(
    conn: Conn,
    webhook_id: uuid.UUID,
    *,
    name: str | None,
    avatar_url: str | None,
    active: bool | None,
) -> WebhookRow | None:
    """``None`` leaves a column unchanged."""
    record = await conn.fetchrow(
        f"""
        UPDATE webhooks
           SET name = COALESCE($2, name),
               avatar_url = COALESCE($3, avatar_url),
               active = COALESCE($4, active)
         WHERE id = $1
        RETURNING {_COLUMNS}
        """,
        webhook_id,
        name,
        avatar_url,
        active,
    )
    return WebhookRow(**dict(record)) if record else None


async def delete_webhook(conn: Conn, webhook_id: uuid.UUID) -> bool:
    status = await conn.execute("DELETE FROM webhooks WHERE id = $1", webhook_id)
    return str(status) == "DELETE 1"


async def list_webhooks(conn: Conn, *, limit: int, offset: int) -> list[WebhookRow]:
    """Every webhook of the instance, newest first."""
    records = await conn.fetch(
        f"SELECT {_COLUMNS} FROM webhooks ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2",
        limit,
        offset,
    )
    return [WebhookRow(**dict(r)) for r in records]


async def count_webhooks(conn: Conn) -> int:
    count: int = await conn.fetchval("SELECT count(*) FROM webhooks")
    return count


async def insert_webhook_message(
    conn: Conn,
    *,
    message_id: uuid.UUID,
    channel_id: ChannelId,
    ciphertext: bytes,
    nonce: bytes,
    plaintext: str,
    created_at: datetime,
    expires_at: datetime | None,
    search_text: str | None,
    search_config: str,
) -> MessageRow:
    """A message with no sender, of type ``webhook``, with its ``plaintext`` JSON."""
    record = await conn.fetchrow(
        f"""
        INSERT INTO messages AS m (id, channel_id, sender_id, ciphertext, nonce, message_type,
                                   plaintext, created_at, expires_at, search_text,
                                   search_config)
        VALUES ($1, $2, NULL, $3, $4, 'webhook', $5, $6, $7, $8, $9)
        RETURNING {MESSAGE_COLUMNS}
        """,
        message_id,
        channel_id,
        ciphertext,
        nonce,
        plaintext,
        created_at,
        expires_at,
        search_text,
        search_config,
    )
    return message_row(record)
