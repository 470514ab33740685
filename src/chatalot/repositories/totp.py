"""SQL for two-factor authentication state on the users table: the encrypted TOTP secret,
the enabled flag and the hashed backup codes. No checks here: see services/totp.py."""

from __future__ import annotations

from chatalot.db.database import Conn
from chatalot.ids import UserId


async def update_totp_secret(conn: Conn, user_id: UserId, encrypted_secret: bytes) -> bool:
    """Stores a new pending secret (2FA stays off until it is verified); True when the
    user exists."""
    status = await conn.execute(
        "UPDATE users SET totp_secret = $2, updated_at = now() WHERE id = $1",
        user_id,
        encrypted_secret,
    )
    return bool(status == "UPDATE 1")


async def update_totp_enabled(conn: Conn, user_id: UserId, backup_code_hashes: list[str]) -> bool:
    """Turns 2FA on and replaces the backup codes (SHA-256 hex of each code)."""
    status = await conn.execute(
        """
        UPDATE users SET totp_enabled = TRUE, totp_backup_codes = $2, updated_at = now()
         WHERE id = $1
        """,
        user_id,
        backup_code_hashes,
    )
    return bool(status == "UPDATE 1")


async def update_totp_disabled(conn: Conn, user_id: UserId) -> bool:
    """Turns 2FA off: the secret is removed and no backup codes remain."""
    status = await conn.execute(
        """
        UPDATE users SET totp_enabled = FALSE, totp_secret = NULL,
               totp_backup_codes = '{}'::text[], updated_at = now()
         WHERE id = $1
        """,
        user_id,
    )
    return bool(status == "UPDATE 1")


async def update_totp_backup_codes(
    conn: Conn, user_id: UserId, backup_code_hashes: list[str]
) -> bool:
    """Replaces the backup codes (SHA-256 hex of each code)."""
    status = await conn.execute(
        "UPDATE users SET totp_backup_codes = $2, updated_at = now() WHERE id = $1",
        user_id,
        backup_code_hashes,
    )
    return bool(status == "UPDATE 1")
