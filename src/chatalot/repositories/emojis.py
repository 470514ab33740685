"""SQL for custom emoji (table custom_emojis). The list a member sees is in
repositories/communities.py (``list_custom_emojis``). No permission checks here: see
services/emojis.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from chatalot.db.database import Conn
from chatalot.ids import CommunityId, UserId
from chatalot.repositories.communities import CustomEmojiRow

_COLUMNS = "id, community_id, shortcode, content_type, uploaded_by, created_at"


@dataclass(frozen=True, slots=True)
class EmojiFileRow:
    """What serving or removing an emoji's image needs."""

    id: uuid.UUID
    content_type: str
    file_path: str


async def lock_community_emojis(conn: Conn, community_id: CommunityId) -> bool:
    """Locks the community row (``FOR NO KEY UPDATE``) until the transaction ends, so that
    concurrent uploads count the community's emoji one after the other. False when the
    community does not exist."""
    found = await conn.fetchval(
        "SELECT true FROM communities WHERE id = $1 FOR NO KEY UPDATE", community_id
    )
    return bool(found)


async def count_emojis(conn: Conn, community_id: CommunityId) -> int:
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM custom_emojis WHERE community_id = $1", community_id
        )
    )


async def insert_emoji(
    conn: Conn,
    *,
    emoji_id: uuid.UUID,
    community_id: CommunityId,
    shortcode: str,
    file_path: str,
    content_type: str,
    uploaded_by: UserId,
) -> CustomEmojiRow | None:
    """The new emoji; None when the community already has one with this shortcode."""
    record = await conn.fetchrow(
        f"""
        INSERT INTO custom_emojis (id, community_id, shortcode, file_path, content_type,
                                   uploaded_by)
             VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (community_id, shortcode) DO NOTHING
        RETURNING {_COLUMNS}
        """,
        emoji_id,
        community_id,
        shortcode,
        file_path,
        content_type,
        uploaded_by,
    )
    return CustomEmojiRow(**dict(record)) if record else None


async def select_emoji_file(conn: Conn, emoji_id: uuid.UUID) -> EmojiFileRow | None:
    record = await conn.fetchrow(
        "SELECT id, content_type, file_path FROM custom_emojis WHERE id = $1", emoji_id
    )
    return EmojiFileRow(**dict(record)) if record else None


async def delete_emoji(
    conn: Conn, community_id: CommunityId, emoji_id: uuid.UUID
) -> EmojiFileRow | None:
    """Deletes the emoji if it belongs to this community; None otherwise."""
    record = await conn.fetchrow(
        """
        DELETE FROM custom_emojis
         WHERE id = $1 AND community_id = $2
        RETURNING id, content_type, file_path
        """,
        emoji_id,
        community_id,
    )
    return EmojiFileRow(**dict(record)) if record else None
