"""SQL for the instance_settings key/value table."""

from __future__ import annotations

from chatalot.db.database import Conn


async def list_instance_settings(conn: Conn) -> dict[str, str]:
    records = await conn.fetch("SELECT key, value FROM instance_settings ORDER BY key")
    return {r["key"]: r["value"] for r in records}


async def upsert_instance_settings(conn: Conn, values: dict[str, str]) -> None:
    await conn.execute(
        """
        INSERT INTO instance_settings (key, value, updated_at)
             SELECT k, v, now() FROM unnest($1::text[], $2::text[]) AS s(k, v)
        ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
        """,
        list(values.keys()),
        list(values.values()),
    )


async def notify_instance_settings_changed(conn: Conn) -> None:
    """Delivered to every server process when the transaction commits."""
    await conn.execute("SELECT pg_notify('chatalot_settings', '')")
