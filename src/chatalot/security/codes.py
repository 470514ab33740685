"""Human-typed one-time secrets: recovery codes (XXXX-XXXX-XXXX-XXXX) and TOTP backup codes
(XXXX-XXXX), from a 32-symbol alphabet without look-alikes, stored as SHA-256 hex."""

from __future__ import annotations

import hashlib
import hmac
import secrets

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _groups(count: int) -> str:
    return "-".join("".join(secrets.choice(ALPHABET) for _ in range(4)) for _ in range(count))


def new_recovery_code() -> str:
    return _groups(4)


def new_backup_code() -> str:
    return _groups(2)


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def code_matches(code: str, stored_hash: str | None) -> bool:
    """Constant-time comparison of a typed code with its stored hash."""
    if not stored_hash:
        return False
    return hmac.compare_digest(code_hash(code), stored_hash)
