"""Input rules shared by registration, recovery, profile and admin actions. Messages are the
original's (the client shows them); all lengths are UTF-8 bytes.

Usernames are ASCII only ([A-Za-z0-9_.-], starting with a letter or digit): Unicode look-alikes
(Cyrillic 'а', full-width letters, zero-width characters) are refused rather than normalised,
so two names that look the same are always the same bytes. Uniqueness and login ignore case.
"""

from __future__ import annotations

import re
import unicodedata

from chatalot.errors import Invalid

_USERNAME_CHARS = re.compile(r"^[A-Za-z0-9_.\-]+$")


def validate_username(username: str) -> str:
    size = len(username.encode())
    if not 3 <= size <= 32:
        raise Invalid("username must be between 3 and 32 characters")
    if not _USERNAME_CHARS.match(username):
        raise Invalid("username may only contain letters, numbers, underscores, hyphens, and dots")
    if not username[0].isascii() or not username[0].isalnum():
        raise Invalid("username must start with a letter or number")
    if username.endswith("."):
        raise Invalid("username must not end with a dot")
    if ".." in username:
        raise Invalid("username must not contain consecutive dots")
    return username


def validate_email(email: str) -> str:
    email = email.strip()
    if len(email.encode()) > 254:
        raise Invalid("email too long")
    local, at, domain = email.partition("@")
    if (
        not at
        or not local
        or not domain
        or "." not in domain
        or domain.startswith(".")
        or domain.endswith(".")
        or any(c.isspace() or unicodedata.category(c) == "Cc" for c in email)
    ):
        raise Invalid("invalid email format")
    return email


def validate_password(password: str) -> str:
    size = len(password.encode())
    if size < 8:
        raise Invalid("password must be at least 8 characters")
    if size > 128:
        raise Invalid("password must be at most 128 characters")
    if not any("A" <= c <= "Z" for c in password):
        raise Invalid("password must contain at least one uppercase letter")
    if not any("a" <= c <= "z" for c in password):
        raise Invalid("password must contain at least one lowercase letter")
    if not any("0" <= c <= "9" for c in password):
        raise Invalid("password must contain at least one digit")
    if all(c.isascii() and c.isalnum() for c in password):
        raise Invalid("password must contain at least one special character")
    return password


def has_control_characters(text: str) -> bool:
    return any(unicodedata.category(c) in ("Cc", "Cf") and c not in "\u200d" for c in text)


def validate_display_name(display_name: str) -> str:
    """Trimmed, 1-64 bytes, no control or invisible formatting characters."""
    value = display_name.strip()
    if not 1 <= len(value.encode()) <= 64 or has_control_characters(value):
        raise Invalid("display name must be 1-64 characters")
    return value
