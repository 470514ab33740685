"""SQL for user_preferences: one opaque JSON object per user (client settings)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chatalot.db.database import Conn
from chatalot.db.errors import on_foreign_key_violation
from chatalot.ids import UserId


@dataclass(frozen=True, slots=True)
class MergedPreferences:
    preferences: Any
    size: int  # bytes of the stored JSON text


async def select_preferences(conn: Conn, user_id: UserId) -> Any | None:
    """The stored value, or None when the user never saved any."""
    return await conn.fetchval(
        "SELECT preferences FROM user_preferences WHERE user_id = $1", user_id
    )


async def upsert_preferences(
    conn: Conn, user_id: UserId, preferences: dict[str, Any]
) -> MergedPreferences:
    """Shallow merge (jsonb ``||``: top-level keys replace old ones) into the stored object;
    a stored value that is not an object (legacy data) is replaced. Raises NotFound when the
    user does not exist."""
    with on_foreign_key_violation("user not found"):
        record = await conn.fetchrow(
            """
            INSERT INTO user_preferences AS p (user_id, preferences, updated_at)
                 VALUES ($1, $2::jsonb, now())
            ON CONFLICT (user_id) DO UPDATE
                    SET preferences = CASE WHEN jsonb_typeof(p.preferences) = 'object'
                                           THEN p.preferences ELSE '{}'::jsonb END
                                      || EXCLUDED.preferences,
                        updated_at = now()
              RETURNING preferences, octet_length(preferences::text) AS size
            """,
            user_id,
            preferences,
        )
    return MergedPreferences(preferences=record["preferences"], size=int(record["size"]))
