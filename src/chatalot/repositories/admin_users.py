"""SQL for instance administration of user accounts: the admin user list (with memberships,
fetched in two batched queries), suspension flags, admin flags, and what deleting an account
takes with it (ownership hand-over, DM channels). No permission checks here: see
services/admin_users.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chatalot.db.database import Conn
from chatalot.db.like import contains_pattern
from chatalot.ids import UserId

_ADMIN_USER_COLUMNS = (
    "id, username, display_name, email, avatar_url, is_admin, is_owner, suspended_at,"
    " suspended_reason, created_at"
)


@dataclass(frozen=True, slots=True)
class AdminUserRow:
    id: UserId
    username: str
    display_name: str
    email: str
    avatar_url: str | None
    is_admin: bool
    is_owner: bool
    suspended_at: datetime | None
    suspended_reason: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class MembershipRow:
    """One group or community a user belongs to, with their stored role there."""

    user_id: UserId
    id: uuid.UUID
    name: str
    role: str


async def list_admin_users(
    conn: Conn, *, search: str | None, limit: int, offset: int
) -> list[AdminUserRow]:
    """Newest accounts first; ``search`` is matched literally (wildcards escaped), ignoring
    case, against username, display name and e-mail."""
    pattern = contains_pattern(search) if search else None
    records = await conn.fetch(
        f"""
        SELECT {_ADMIN_USER_COLUMNS} FROM users
         WHERE $1::text IS NULL
            OR username ILIKE $1 ESCAPE '\\'
            OR display_name ILIKE $1 ESCAPE '\\'
            OR email ILIKE $1 ESCAPE '\\'
         ORDER BY created_at DESC, id DESC
         LIMIT $2 OFFSET $3
        """,
        pattern,
        limit,
        offset,
    )
    return [AdminUserRow(**dict(r)) for r in records]


def _memberships(records: Any) -> list[MembershipRow]:
    return [MembershipRow(**dict(r)) for r in records]


async def list_group_memberships(conn: Conn, user_ids: list[UserId]) -> list[MembershipRow]:
    """Every group membership of these users, by group name (one query for all users)."""
    records = await conn.fetch(
        """
        SELECT gm.user_id, g.id, g.name, gm.role
          FROM group_members gm
          JOIN groups g ON g.id = gm.group_id
         WHERE gm.user_id = ANY($1::uuid[])
         ORDER BY g.name, g.id
        """,
        user_ids,
    )
    return _memberships(records)


async def list_community_memberships(conn: Conn, user_ids: list[UserId]) -> list[MembershipRow]:
    """Every community membership of these users, by community name (one query for all)."""
    records = await conn.fetch(
        """
        SELECT cm.user_id, c.id, c.name, cm.role
          FROM community_members cm
          JOIN communities c ON c.id = cm.community_id
         WHERE cm.user_id = ANY($1::uuid[])
         ORDER BY c.name, c.id
        """,
        user_ids,
    )
    return _memberships(records)


async def update_user_suspended(
    conn: Conn, user_id: UserId, *, suspended_at: datetime, reason: str | None
) -> None:
    await conn.execute(
        """
        UPDATE users SET suspended_at = $2, suspended_reason = $3, updated_at = $2
         WHERE id = $1
        """,
        user_id,
        suspended_at,
        reason,
    )


async def update_user_unsuspended(conn: Conn, user_id: UserId, *, now: datetime) -> None:
    await conn.execute(
        """
        UPDATE users SET suspended_at = NULL, suspended_reason = NULL, updated_at = $2
         WHERE id = $1
        """,
        user_id,
        now,
    )


async def update_user_admin(conn: Conn, user_id: UserId, *, is_admin: bool, now: datetime) -> None:
    await conn.execute(
        "UPDATE users SET is_admin = $2, updated_at = $3 WHERE id = $1",
        user_id,
        is_admin,
        now,
    )


async def notify_suspension(conn: Conn, payload: str) -> None:
    """Tells every server process (when the transaction commits) that a user's suspension
    changed; ``payload`` from services.suspensions.notification_payload."""
    await conn.execute("SELECT pg_notify('chatalot_suspension', $1)", payload)


async def select_instance_owner_id(conn: Conn) -> UserId | None:
    """The first instance owner (by account age), if there is one."""
    value = await conn.fetchval(
        "SELECT id FROM users WHERE is_owner ORDER BY created_at, id LIMIT 1"
    )
    return UserId(value) if value is not None else None


async def update_communities_owner(conn: Conn, *, from_user: UserId, to_user: UserId) -> int:
    """Hands every community owned by ``from_user`` to ``to_user``, who becomes (or stays) a
    member with the role ``owner`` there; returns how many."""
    rows = await conn.fetch(
        "UPDATE communities SET owner_id = $2, updated_at = now() WHERE owner_id = $1 RETURNING id",
        from_user,
        to_user,
    )
    if rows:
        await conn.execute(
            """
            INSERT INTO community_members (community_id, user_id, role)
            SELECT unnest($1::uuid[]), $2, 'owner'
            ON CONFLICT (community_id, user_id) DO UPDATE SET role = 'owner'
            """,
            [r["id"] for r in rows],
            to_user,
        )
    return len(rows)


async def update_groups_owner(conn: Conn, *, from_user: UserId, to_user: UserId) -> int:
    """Hands every group owned by ``from_user`` to ``to_user``; returns how many."""
    status = await conn.execute(
        "UPDATE groups SET owner_id = $2, updated_at = now() WHERE owner_id = $1",
        from_user,
        to_user,
    )
    return int(status.split()[-1])


async def delete_dm_channels_of_user(conn: Conn, user_id: UserId) -> int:
    """Deletes every direct-message channel the user is one of the two members of (the pair
    row, the membership rows and the messages go with it); returns how many."""
    status = await conn.execute(
        """
        DELETE FROM channels
         WHERE channel_type = 'dm'
           AND (id IN (SELECT channel_id FROM dm_pairs WHERE user_a = $1 OR user_b = $1)
                OR id IN (SELECT channel_id FROM channel_members WHERE user_id = $1))
        """,
        user_id,
    )
    return int(status.split()[-1])


async def delete_user(conn: Conn, user_id: UserId) -> bool:
    """Deletes the account; its rows elsewhere cascade or are set to NULL."""
    status = await conn.execute("DELETE FROM users WHERE id = $1", user_id)
    return bool(status == "DELETE 1")
