"""SQL for Web Push subscriptions (table push_subscriptions, migration 049): one row per browser
push endpoint of a user, UNIQUE (user_id, endpoint). No validation, no sending: see
services/push.py and services/push_delivery.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from chatalot.db.database import Conn
from chatalot.ids import ChannelId, UserId


@dataclass(frozen=True, slots=True)
class PushSubscriptionRow:
    id: uuid.UUID
    user_id: UserId
    endpoint: str
    p256dh_key: str
    auth_key: str
    created_at: datetime
    last_used: datetime | None
    failure_count: int


_COLUMNS = "id, user_id, endpoint, p256dh_key, auth_key, created_at, last_used, failure_count"


def _count(status: str) -> int:
    return int(status.split()[-1])


async def lock_user_subscriptions(conn: Conn, user_id: UserId) -> None:
    """Serialises one user's subscribe calls until the transaction ends (the per-user cap
    holds under concurrent subscribes, on every server process)."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('chatalot:push:' || $1::uuid::text, 0))",
        user_id,
    )


async def upsert_subscription(
    conn: Conn,
    *,
    subscription_id: uuid.UUID,
    user_id: UserId,
    endpoint: str,
    p256dh_key: str,
    auth_key: str,
    now: datetime,
) -> uuid.UUID:
    """Inserts, or (same user and endpoint) replaces the keys and resets ``failure_count``;
    the id of the row."""
    row_id: uuid.UUID = await conn.fetchval(
        """
        INSERT INTO push_subscriptions (id, user_id, endpoint, p256dh_key, auth_key, created_at)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (user_id, endpoint) DO UPDATE
           SET p256dh_key = EXCLUDED.p256dh_key,
               auth_key = EXCLUDED.auth_key,
               failure_count = 0
        RETURNING id
        """,
        subscription_id,
        user_id,
        endpoint,
        p256dh_key,
        auth_key,
        now,
    )
    return row_id


async def delete_excess_subscriptions(
    conn: Conn, user_id: UserId, *, keep_id: uuid.UUID, keep: int
) -> int:
    """Keeps the user's ``keep`` most recently used (or created) subscriptions, ``keep_id``
    always among them; deletes the others. How many were deleted."""
    status = await conn.execute(
        """
        DELETE FROM push_subscriptions
         WHERE id IN (
               SELECT id FROM push_subscriptions
                WHERE user_id = $1 AND id <> $2
                ORDER BY coalesce(last_used, created_at) DESC, created_at DESC, id DESC
               OFFSET $3)
        """,
        user_id,
        keep_id,
        max(keep - 1, 0),
    )
    return _count(status)


async def delete_subscription_by_endpoint(conn: Conn, user_id: UserId, endpoint: str) -> bool:
    status = await conn.execute(
        "DELETE FROM push_subscriptions WHERE user_id = $1 AND endpoint = $2", user_id, endpoint
    )
    return _count(status) > 0


async def list_subscriptions(conn: Conn, user_ids: list[UserId]) -> list[PushSubscriptionRow]:
    """Every subscription of these users (oldest first)."""
    records = await conn.fetch(
        f"SELECT {_COLUMNS} FROM push_subscriptions WHERE user_id = ANY($1::uuid[])"
        " ORDER BY created_at, id",
        user_ids,
    )
    return [PushSubscriptionRow(**dict(r)) for r in records]


async def select_subscription(conn: Conn, subscription_id: uuid.UUID) -> PushSubscriptionRow | None:
    record = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM push_subscriptions WHERE id = $1", subscription_id
    )
    return PushSubscriptionRow(**dict(record)) if record is not None else None


async def update_delivered(conn: Conn, subscription_id: uuid.UUID, now: datetime) -> None:
    await conn.execute(
        "UPDATE push_subscriptions SET last_used = $2, failure_count = 0 WHERE id = $1",
        subscription_id,
        now,
    )


async def update_failed(conn: Conn, subscription_id: uuid.UUID) -> None:
    await conn.execute(
        "UPDATE push_subscriptions SET failure_count = failure_count + 1 WHERE id = $1",
        subscription_id,
    )


async def delete_subscription(conn: Conn, subscription_id: uuid.UUID) -> bool:
    status = await conn.execute("DELETE FROM push_subscriptions WHERE id = $1", subscription_id)
    return _count(status) > 0


async def delete_failed_subscriptions(conn: Conn, min_failures: int) -> int:
    status = await conn.execute(
        "DELETE FROM push_subscriptions WHERE failure_count >= $1", min_failures
    )
    return _count(status)


async def delete_stale_subscriptions(conn: Conn, used_before: datetime) -> int:
    """Subscriptions last used before ``used_before`` (never-used ones are kept)."""
    status = await conn.execute("DELETE FROM push_subscriptions WHERE last_used < $1", used_before)
    return _count(status)


async def list_members_by_username(
    conn: Conn, channel_id: ChannelId, usernames: list[str], *, sender: UserId
) -> list[UserId]:
    """The channel's members other than ``sender`` whose username is one of ``usernames``
    (case-insensitive; ``usernames`` already lower-cased) and who neither blocked the sender
    nor were blocked by them."""
    records = await conn.fetch(
        """
        SELECT u.id FROM channel_members cm
          JOIN users u ON u.id = cm.user_id
         WHERE cm.channel_id = $1 AND lower(u.username) = ANY($2::text[])
           AND u.id <> $3
           AND NOT EXISTS (SELECT 1 FROM user_blocks b
                            WHERE (b.blocker_id = $3 AND b.blocked_id = u.id)
                               OR (b.blocker_id = u.id AND b.blocked_id = $3))
        """,
        channel_id,
        usernames,
        sender,
    )
    return [UserId(r["id"]) for r in records]
