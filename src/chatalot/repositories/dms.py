"""SQL for direct-message pairs (table dm_pairs; the DM channel itself is a ``channels`` row of
type ``dm``, see repositories/channels.py). No permission checks here: see services/dms.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chatalot.db.database import Conn
from chatalot.ids import ChannelId, UserId
from chatalot.repositories.channels import CHANNEL_COLUMNS, ChannelRow, channel_row
from chatalot.repositories.users import UserRow, user_row

_USER_FIELDS = (
    "id", "username", "display_name", "email", "password_hash", "avatar_url", "banner_url",
    "voice_background_url", "status", "custom_status", "bio", "pronouns", "totp_secret",
    "totp_enabled", "totp_backup_codes", "recovery_code_hash", "is_admin", "is_owner",
    "suspended_at", "suspended_reason", "upload_bytes_used", "created_at", "updated_at",
)  # fmt: skip
_USER_COLUMNS = ", ".join(f"u.{name} AS u_{name}" for name in _USER_FIELDS)


@dataclass(frozen=True, slots=True)
class DmRow:
    channel: ChannelRow
    other_user: UserRow


def ordered_pair(user_a: UserId, user_b: UserId) -> tuple[UserId, UserId]:
    """The pair as stored: the smaller UUID first."""
    return (user_a, user_b) if user_a < user_b else (user_b, user_a)


async def lock_dm_pair(conn: Conn, user_a: UserId, user_b: UserId) -> None:
    """Serialises get-or-create of this pair's DM until the transaction ends (so two requests,
    in either order and on any server process, make one channel)."""
    low, high = ordered_pair(user_a, user_b)
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended("
        "'chatalot:dm:' || $1::uuid::text || ':' || $2::uuid::text, 0))",
        low,
        high,
    )


async def select_dm_channel(conn: Conn, user_a: UserId, user_b: UserId) -> ChannelRow | None:
    low, high = ordered_pair(user_a, user_b)
    record = await conn.fetchrow(
        f"""
        SELECT {CHANNEL_COLUMNS}
          FROM dm_pairs p
          JOIN channels ch ON ch.id = p.channel_id
         WHERE p.user_a = $1 AND p.user_b = $2
        """,
        low,
        high,
    )
    return channel_row(record) if record else None


async def insert_dm_pair(conn: Conn, user_a: UserId, user_b: UserId, channel_id: ChannelId) -> None:
    low, high = ordered_pair(user_a, user_b)
    await conn.execute(
        "INSERT INTO dm_pairs (user_a, user_b, channel_id) VALUES ($1, $2, $3)",
        low,
        high,
        channel_id,
    )


async def list_dms(conn: Conn, user_id: UserId) -> list[DmRow]:
    """The DM pairs involving ``user_id``, newest pair first, with the other user."""
    records = await conn.fetch(
        f"""
        SELECT {CHANNEL_COLUMNS}, {_USER_COLUMNS}
          FROM dm_pairs p
          JOIN channels ch ON ch.id = p.channel_id
          JOIN users u ON u.id = CASE WHEN p.user_a = $1 THEN p.user_b ELSE p.user_a END
         WHERE p.user_a = $1 OR p.user_b = $1
         ORDER BY p.created_at DESC, p.channel_id DESC
        """,
        user_id,
    )
    return [_dm_row(r) for r in records]


def _dm_row(record: Any) -> DmRow:
    values = dict(record)
    user = {name: values.pop(f"u_{name}") for name in _USER_FIELDS}
    return DmRow(channel_row(values), user_row(user))
