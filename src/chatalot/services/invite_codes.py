"""What community and group invites share: their codes and the rules of their limits.

Ours beyond the original: ``max_uses``, when given, must be at least 1 (the original stored any
number, so 0 or a negative one made an invite nobody could ever use) and at most the column's
range (2147483647; the original answered 500 above it).
"""

from __future__ import annotations

import secrets
import string
from datetime import datetime, timedelta

from chatalot.errors import Invalid

CODE_ALPHABET = string.ascii_letters + string.digits
CODE_LENGTH = 12
MAX_CODE_BYTES = 100  # longer codes are refused before any lookup
MAX_EXPIRES_HOURS = 8760
MAX_USES = 2_147_483_647  # the INTEGER column


def new_invite_code() -> str:
    """12 characters from [A-Za-z0-9], from the OS's secure random source."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def code_too_long(code: str) -> bool:
    return len(code.encode()) > MAX_CODE_BYTES


def check_limits(
    now: datetime, *, max_uses: int | None, expires_in_hours: int | None
) -> datetime | None:
    """Validates a new invite's limits; returns its expiry time (None: never)."""
    if expires_in_hours is not None and not 1 <= expires_in_hours <= MAX_EXPIRES_HOURS:
        raise Invalid(f"expires_in_hours must be between 1 and {MAX_EXPIRES_HOURS}")
    if max_uses is not None:
        if max_uses < 1:
            raise Invalid("max_uses must be at least 1")
        if max_uses > MAX_USES:
            raise Invalid(f"max_uses must be at most {MAX_USES}")
    return now + timedelta(hours=expires_in_hours) if expires_in_hours is not None else None


def is_expired(expires_at: datetime | None, now: datetime) -> bool:
    return expires_at is not None and expires_at <= now


def is_used_up(max_uses: int | None, used_count: int) -> bool:
    return max_uses is not None and used_count >= max_uses
