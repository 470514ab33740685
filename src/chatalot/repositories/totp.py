"""SQL for two-factor authentication state on the users table: the encrypted TOTP secret,
the enabled flag, the hashed backup codes and the last accepted time step. No checks here: see
services/totp.py."""

from __future__ import annotations

from chatalot.db.database import Conn
from chatalot.ids import UserId


async def update_totp_secret(conn: Conn, user_id: UserId, encrypted_secret: bytes) -> bool:
    """Stores a new pending secret (2FA stays off until it is verified) and forgets the last
    accepted step (it belonged to the old secret); True when the user exists."""
    status = await conn.execute(
        """
        UPDATE users SET totp_secret = $2, totp_last_step = NULL, updated_at = now()
         WHERE id = $1
        """,
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
        UPDATE users SET totp_enabled = FALSE, totp_secret = NULL, totp_last_step = NULL,
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


async def update_totp_last_step(conn: Conn, user_id: UserId, step: int) -> bool:
    """Records ``step`` as the last accepted TOTP time step, only if it is later than the one
    recorded (atomic: of two requests with the same code, exactly one gets True)."""
    accepted = await conn.fetchval(
        """
        UPDATE users SET totp_last_step = $2
         WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)
     RETURNING TRUE
        """,
        user_id,
        step,
    )
    return bool(accepted)
