"""SQL for the users table (accounts, flags, profile, credentials)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chatalot.db.database import Conn
from chatalot.ids import UserId

_SELECT = (
    "SELECT id, username, display_name, email, password_hash, avatar_url, banner_url,"
    " voice_background_url, status, custom_status, bio, pronouns, totp_secret,"
    " totp_enabled, totp_backup_codes, recovery_code_hash, is_admin, is_owner,"
    " suspended_at, suspended_reason, upload_bytes_used, created_at, updated_at FROM users"
)


@dataclass(frozen=True, slots=True)
class UserRow:
    id: UserId
    username: str
    display_name: str
    email: str
    password_hash: str
    avatar_url: str | None
    banner_url: str | None
    voice_background_url: str | None
    status: str
    custom_status: str | None
    bio: str | None
    pronouns: str | None
    totp_secret: bytes | None
    totp_enabled: bool
    totp_backup_codes: list[str] | None
    recovery_code_hash: str | None
    is_admin: bool
    is_owner: bool
    suspended_at: datetime | None
    suspended_reason: str | None
    upload_bytes_used: int
    created_at: datetime
    updated_at: datetime


def user_row(record: Any) -> UserRow:
    return UserRow(**dict(record))


async def select_user(conn: Conn, user_id: UserId) -> UserRow | None:
    record = await conn.fetchrow(f"{_SELECT} WHERE id = $1", user_id)
    return user_row(record) if record else None


async def select_user_for_update(conn: Conn, user_id: UserId) -> UserRow | None:
    """Locks the row (SELECT ... FOR UPDATE) until the transaction ends."""
    record = await conn.fetchrow(f"{_SELECT} WHERE id = $1 FOR UPDATE", user_id)
    return user_row(record) if record else None


async def select_user_by_username(conn: Conn, username: str) -> UserRow | None:
    """Case-insensitive (usernames are unique by lower(username))."""
    record = await conn.fetchrow(f"{_SELECT} WHERE lower(username) = lower($1)", username)
    return user_row(record) if record else None


async def exists_username(conn: Conn, username: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM users WHERE lower(username) = lower($1))", username
        )
    )


async def exists_email(conn: Conn, email: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($1))", email
        )
    )


async def count_users(conn: Conn) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM users"))


async def insert_user(
    conn: Conn,
    *,
    user_id: UserId,
    username: str,
    display_name: str,
    email: str,
    password_hash: str,
    recovery_code_hash: str,
) -> UserRow:
    await conn.execute(
        """
        INSERT INTO users (id, username, display_name, email, password_hash, recovery_code_hash)
             VALUES ($1, $2, $3, $4, $5, $6)
        """,
        user_id,
        username,
        display_name,
        email,
        password_hash,
        recovery_code_hash,
    )
    row = await select_user(conn, user_id)
    assert row is not None
    return row


async def update_make_first_owner(conn: Conn, user_id: UserId) -> bool:
    """Makes the user admin and instance owner if, and only if, they are the only user.
    Callers hold the registration lock (see lock_registration)."""
    status = await conn.execute(
        """
        UPDATE users SET is_admin = TRUE, is_owner = TRUE, updated_at = now()
         WHERE id = $1 AND (SELECT count(*) FROM users) = 1
        """,
        user_id,
    )
    return bool(status == "UPDATE 1")


async def lock_registration(conn: Conn) -> None:
    """Serialises registrations for the rest of the transaction (first-user bootstrap and the
    invite/uniqueness checks stay consistent across server processes)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('chatalot:registration'))")


async def update_password_hash(conn: Conn, user_id: UserId, password_hash: str) -> None:
    await conn.execute(
        "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1",
        user_id,
        password_hash,
    )


async def update_recovery_code_hash(conn: Conn, user_id: UserId, code_hash: str) -> None:
    await conn.execute(
        "UPDATE users SET recovery_code_hash = $2, updated_at = now() WHERE id = $1",
        user_id,
        code_hash,
    )


async def update_admin_by_username(conn: Conn, username: str) -> bool:
    """ADMIN_USERNAME bootstrap: grant admin to that user when no admin exists at all."""
    status = await conn.execute(
        """
        UPDATE users SET is_admin = TRUE, updated_at = now()
         WHERE lower(username) = lower($1) AND NOT is_admin
           AND NOT EXISTS (SELECT 1 FROM users WHERE is_admin OR is_owner)
        """,
        username,
    )
    return bool(status == "UPDATE 1")


async def exists_admin(conn: Conn) -> bool:
    return bool(
        await conn.fetchval("SELECT EXISTS (SELECT 1 FROM users WHERE is_admin OR is_owner)")
    )


async def list_suspended_user_ids(conn: Conn) -> list[UserId]:
    rows = await conn.fetch("SELECT id FROM users WHERE suspended_at IS NOT NULL")
    return [UserId(r["id"]) for r in rows]


async def consume_backup_code(conn: Conn, user_id: UserId, code_hash: str) -> bool:
    """Removes one TOTP backup code (by its hash) if the user has it; True when removed."""
    status = await conn.execute(
        """
        UPDATE users SET totp_backup_codes = array_remove(totp_backup_codes, $2)
         WHERE id = $1 AND $2 = ANY(totp_backup_codes)
        """,
        user_id,
        code_hash,
    )
    return bool(status == "UPDATE 1")


async def select_account_state(conn: Conn, user_id: UserId) -> tuple[bool, bool] | None:
    """(exists, suspended) for the token check; None when there is no such user."""
    record = await conn.fetchrow(
        "SELECT suspended_at IS NOT NULL AS suspended FROM users WHERE id = $1", user_id
    )
    return (True, bool(record["suspended"])) if record else None
