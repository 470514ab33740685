"""SQL for the orphan clean-up (services/orphan_files.py): which storage keys rows still name,
and the sweep's advisory lock. Read-only; no permission checks.

Rows name blobs in three ways:

- by path: ``files.storage_path`` / ``files.thumbnail_path`` and ``custom_emojis.file_path``
  hold a storage key (``01/{id}``, ``01/{id}_thumb``, ``emojis/{id}.png``) or, in a database
  of the original server, an absolute path ending in one (``/app/data/files/01/{id}``).
  ``_KEY_OF`` reduces both to the key: the last two segments of an absolute path (so the
  spelling of ``FILE_STORAGE_PATH`` does not matter, unlike the original's comparison).
  A file's thumbnail also counts as named as long as its file is (``{storage key}_thumb``),
  whatever ``thumbnail_path`` says;
- by URL: ``/api/avatars/{name}?v=...`` (users' avatar, banner and voice background,
  webhooks' avatar), ``/api/community-assets/{name}`` (community icon and banner) and
  ``/api/group-assets/{name}`` (group icon and banner, group channels' voice background);
  ``_URL_PATH_OF`` keeps the route and name, dropping a host, ``?v=`` or fragment.

Every function checks one listing page of keys against one table with one query: by primary
key where the key holds the row's id (``*_by_id``), else by joining the table's normalised
paths or URLs with the page (one pass over the table, a hash join: ``*_among``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from chatalot.db.database import Conn

_KEY_OF = r"regexp_replace({col}, '^.*/([^/]+/[^/]+)$', '\1')"
_URL_PATH_OF = r"substring({col} from '/api/[a-z-]+/[^?#/]+')"

# Every column that holds the URL of an uploaded image, per table.
URL_COLUMNS: dict[str, tuple[str, ...]] = {
    "users": ("avatar_url", "banner_url", "voice_background_url"),
    "webhooks": ("avatar_url",),
    "communities": ("icon_url", "banner_url"),
    "groups": ("icon_url", "banner_url"),
    "channels": ("voice_background",),
}

_LOCK = "hashtextextended('chatalot:job:orphan_files', 0)"


async def try_lock_orphan_sweep(conn: Conn) -> bool:
    """The sweep's session-level advisory lock, without waiting: False when another
    connection (another server process) holds it. Held until ``unlock_orphan_sweep`` or until
    the connection closes."""
    locked: bool = await conn.fetchval(f"SELECT pg_try_advisory_lock({_LOCK})")
    return locked


async def unlock_orphan_sweep(conn: Conn) -> None:
    await conn.execute(f"SELECT pg_advisory_unlock({_LOCK})")


async def list_file_keys_by_id(conn: Conn, ids: Sequence[uuid.UUID]) -> set[str]:
    """The keys the ``files`` rows with these ids name (file, thumbnail, ``{file}_thumb``)."""
    file_key = _KEY_OF.format(col="f.storage_path")
    thumb_key = _KEY_OF.format(col="f.thumbnail_path")
    rows = await conn.fetch(
        f"""
        SELECT {file_key} AS file_key, {thumb_key} AS thumb_key
          FROM files f
         WHERE f.id = ANY($1::uuid[])
        """,
        list(ids),
    )
    keys: set[str] = set()
    for row in rows:
        keys.update((row["file_key"], row["file_key"] + "_thumb"))
        if row["thumb_key"] is not None:
            keys.add(row["thumb_key"])
    return keys


async def list_file_keys_among(conn: Conn, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` any ``files`` row names, whatever its id (one pass over files)."""
    file_key = _KEY_OF.format(col="f.storage_path")
    thumb_key = _KEY_OF.format(col="f.thumbnail_path")
    rows = await conn.fetch(
        f"""
        SELECT DISTINCT k.key
          FROM files f
         CROSS JOIN LATERAL (VALUES ({file_key}), ({thumb_key}), ({file_key} || '_thumb'))
               AS named (key)
          JOIN unnest($1::text[]) AS k (key) ON k.key = named.key
        """,
        list(keys),
    )
    return {row["key"] for row in rows}


async def list_emoji_keys_by_id(conn: Conn, ids: Sequence[uuid.UUID]) -> set[str]:
    """The keys the ``custom_emojis`` rows with these ids name."""
    emoji_key = _KEY_OF.format(col="e.file_path")
    rows = await conn.fetch(
        f"SELECT {emoji_key} AS key FROM custom_emojis e WHERE e.id = ANY($1::uuid[])",
        list(ids),
    )
    return {row["key"] for row in rows}


async def list_emoji_keys_among(conn: Conn, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` any ``custom_emojis`` row names, whatever its id."""
    emoji_key = _KEY_OF.format(col="e.file_path")
    rows = await conn.fetch(
        f"""
        SELECT DISTINCT k.key
          FROM custom_emojis e
          JOIN unnest($1::text[]) AS k (key) ON k.key = {emoji_key}
        """,
        list(keys),
    )
    return {row["key"] for row in rows}


async def list_image_urls_among(conn: Conn, table: str, url_paths: Sequence[str]) -> set[str]:
    """Which of ``url_paths`` (``/api/avatars/{name}``, ...) a URL column of ``table`` (one of
    ``URL_COLUMNS``) points at, with or without host, ``?v=`` or fragment."""
    columns = URL_COLUMNS[table]  # KeyError for any other name: never spliced unchecked
    values = ", ".join(f"({_URL_PATH_OF.format(col='t.' + col)})" for col in columns)
    rows = await conn.fetch(
        f"""
        SELECT DISTINCT p.path
          FROM {table} t
         CROSS JOIN LATERAL (VALUES {values}) AS named (path)
          JOIN unnest($1::text[]) AS p (path) ON p.path = named.path
        """,
        list(url_paths),
    )
    return {row["path"] for row in rows}


async def list_image_urls_by_id(conn: Conn, table: str, ids: Sequence[uuid.UUID]) -> set[str]:
    """The image URL paths (``/api/avatars/{name}``, ...) the rows of ``table`` with these ids
    hold (an image's file name starts with its owner's id: the cheap, indexed check)."""
    columns = URL_COLUMNS[table]
    values = ", ".join(f"({_URL_PATH_OF.format(col='t.' + col)})" for col in columns)
    rows = await conn.fetch(
        f"""
        SELECT DISTINCT named.path
          FROM {table} t
         CROSS JOIN LATERAL (VALUES {values}) AS named (path)
         WHERE t.id = ANY($1::uuid[]) AND named.path IS NOT NULL
        """,
        list(ids),
    )
    return {row["path"] for row in rows}
