"""SQL for finding users: search by name, and "may this user see that one" (they share a
community). Returns full UserRows (the edge maps them to UserPublic)."""

from __future__ import annotations

from dataclasses import fields

from chatalot.db.database import Conn
from chatalot.db.like import contains_pattern
from chatalot.ids import UserId
from chatalot.repositories.users import UserRow, user_row

# Every UserRow field is a users column of the same name.
_COLUMNS = ", ".join(f"u.{f.name}" for f in fields(UserRow))


async def list_users_matching(conn: Conn, query: str, *, limit: int) -> list[UserRow]:
    """Every user whose username or display name contains ``query`` (any case, wildcards
    matched literally), by username."""
    records = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM users u
         WHERE u.username ILIKE $1 ESCAPE '\\' OR u.display_name ILIKE $1 ESCAPE '\\'
         ORDER BY u.username, u.id
         LIMIT $2
        """,
        contains_pattern(query),
        limit,
    )
    return [user_row(r) for r in records]


async def list_community_peers_matching(
    conn: Conn, user_id: UserId, query: str, *, limit: int
) -> list[UserRow]:
    """Users (not ``user_id`` itself) who share at least one community with ``user_id`` and
    whose username or display name matches, by username."""
    records = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM users u
         WHERE u.id <> $1
           AND (u.username ILIKE $2 ESCAPE '\\' OR u.display_name ILIKE $2 ESCAPE '\\')
           AND EXISTS (SELECT 1
                         FROM community_members mine
                         JOIN community_members theirs
                           ON theirs.community_id = mine.community_id
                        WHERE mine.user_id = $1 AND theirs.user_id = u.id)
         ORDER BY u.username, u.id
         LIMIT $3
        """,
        user_id,
        contains_pattern(query),
        limit,
    )
    return [user_row(r) for r in records]


async def exists_shared_community(conn: Conn, *, user_a: UserId, user_b: UserId) -> bool:
    return bool(
        await conn.fetchval(
            """
            SELECT EXISTS (SELECT 1
                             FROM community_members a
                             JOIN community_members b ON b.community_id = a.community_id
                            WHERE a.user_id = $1 AND b.user_id = $2)
            """,
            user_a,
            user_b,
        )
    )
