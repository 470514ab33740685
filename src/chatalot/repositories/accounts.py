"""SQL for a user's own account: profile columns, image URLs, and deleting the account.
Reads of whole user rows live in repositories/users.py (``select_user``)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from chatalot.db.database import Conn
from chatalot.ids import UserId


class Keep(enum.Enum):
    """Marker for "leave this column as it is" (``None`` means "set it to NULL")."""

    KEEP = enum.auto()


KEEP = Keep.KEEP


@dataclass(frozen=True, slots=True)
class ProfileChanges:
    """Columns to change; ``KEEP`` leaves a column alone, ``None`` clears it."""

    display_name: str | Keep = KEEP
    avatar_url: str | Keep | None = KEEP
    banner_url: str | Keep | None = KEEP
    voice_background_url: str | Keep | None = KEEP
    custom_status: str | Keep | None = KEEP
    bio: str | Keep | None = KEEP
    pronouns: str | Keep | None = KEEP


def _pair(value: str | Keep | None) -> tuple[bool, str | None]:
    if isinstance(value, Keep):
        return False, None
    return True, value


async def update_profile(conn: Conn, user_id: UserId, changes: ProfileChanges) -> bool:
    """Applies the changes; False when the user does not exist."""
    args: list[object] = [user_id]
    for value in (
        changes.display_name,
        changes.avatar_url,
        changes.banner_url,
        changes.voice_background_url,
        changes.custom_status,
        changes.bio,
        changes.pronouns,
    ):
        args.extend(_pair(value))
    status = await conn.execute(
        """
        UPDATE users
           SET display_name = CASE WHEN $2 THEN $3::text ELSE display_name END,
               avatar_url = CASE WHEN $4 THEN $5::text ELSE avatar_url END,
               banner_url = CASE WHEN $6 THEN $7::text ELSE banner_url END,
               voice_background_url = CASE WHEN $8 THEN $9::text ELSE voice_background_url END,
               custom_status = CASE WHEN $10 THEN $11::text ELSE custom_status END,
               bio = CASE WHEN $12 THEN $13::text ELSE bio END,
               pronouns = CASE WHEN $14 THEN $15::text ELSE pronouns END,
               updated_at = now()
         WHERE id = $1
        """,
        *args,
    )
    return bool(status == "UPDATE 1")


async def exists_owned_group(conn: Conn, user_id: UserId) -> bool:
    """True when the user is the owner of at least one group."""
    return bool(
        await conn.fetchval("SELECT EXISTS (SELECT 1 FROM groups WHERE owner_id = $1)", user_id)
    )


async def exists_owned_community(conn: Conn, user_id: UserId) -> bool:
    """True when the user is the owner of at least one community."""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM communities WHERE owner_id = $1)", user_id
        )
    )


async def delete_orphan_dm_channels(conn: Conn, user_id: UserId) -> int:
    """Deletes the DM channels of the user that have no other member (the other side's
    account is already gone); returns how many. Their messages go with them (cascade)."""
    status = await conn.execute(
        """
        DELETE FROM channels c
         WHERE c.channel_type = 'dm'
           AND EXISTS (SELECT 1 FROM channel_members m
                        WHERE m.channel_id = c.id AND m.user_id = $1)
           AND NOT EXISTS (SELECT 1 FROM channel_members m
                            WHERE m.channel_id = c.id AND m.user_id <> $1)
        """,
        user_id,
    )
    return int(status.split()[-1])


async def delete_user(conn: Conn, user_id: UserId) -> bool:
    """Deletes the user row. The schema does the rest: tokens, keys, memberships, blocks and
    preferences cascade; authored rows (messages, files, communities, ...) keep a NULL."""
    status = await conn.execute("DELETE FROM users WHERE id = $1", user_id)
    return bool(status == "DELETE 1")
