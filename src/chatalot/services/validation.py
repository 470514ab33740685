"""Input rules shared by registration, recovery, profile and admin actions. Messages are the
original's where it had one (the client shows them); all lengths are UTF-8 bytes. Each message
names what is actually wrong: a length message only for a length problem.

Usernames are ASCII only ([A-Za-z0-9_.-], starting with a letter or digit): Unicode look-alikes
(Cyrillic 'а', full-width letters, zero-width characters) are refused rather than normalised,
so two names that look the same are always the same bytes. Uniqueness and login ignore case.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from chatalot.errors import Invalid
from chatalot.services import images

_USERNAME_CHARS = re.compile(r"[A-Za-z0-9_.\-]+")  # fullmatch: "$" allows a final "\n"


def validate_username(username: str) -> str:
    size = len(username.encode())
    if not 3 <= size <= 32:
        raise Invalid("username must be between 3 and 32 characters")
    if not _USERNAME_CHARS.fullmatch(username):
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


# Control (Cc), invisible formatting (Cf: bidirectional overrides, zero-width spaces...),
# surrogates, and the line/paragraph separators. The zero-width joiner stays allowed: emoji
# sequences (family, profession, flag emoji) need it.
_HIDDEN_CATEGORIES = frozenset(("Cc", "Cf", "Cs", "Zl", "Zp"))
_COMBINING_CATEGORIES = frozenset(("Mn", "Me"))
_ALLOWED_FORMAT = frozenset("\u200d")
MAX_COMBINING_MARKS = 4  # in a row on one character; more is "Zalgo" text that spills over lines


def has_control_characters(text: str, allow: str = "") -> bool:
    """True when ``text`` holds a control or invisible formatting character (see above), other
    than those in ``allow`` (e.g. newline and tab in a bio)."""
    return any(
        unicodedata.category(c) in _HIDDEN_CATEGORIES
        and c not in _ALLOWED_FORMAT
        and c not in allow
        for c in text
    )


def check_plain_text(text: str, field: str, *, allow: str = "") -> None:
    """Refuses control and invisible formatting characters, and combining marks stacked more
    than MAX_COMBINING_MARKS deep, each with a message naming ``field`` and the problem."""
    if has_control_characters(text, allow):
        raise Invalid(f"{field} must not contain control or invisible formatting characters")
    run = 0
    for c in text:
        run = run + 1 if unicodedata.category(c) in _COMBINING_CATEGORIES else 0
        if run > MAX_COMBINING_MARKS:
            raise Invalid(
                f"{field} must not stack more than {MAX_COMBINING_MARKS} combining marks"
                " on one character"
            )


def check_size(text: str, field: str, limit: int, message: str) -> None:
    """At most ``limit`` UTF-8 bytes. Over it, ``message`` (the original's "... characters"
    text) when there are too many characters too; when only the bytes are too many (accents,
    emoji...), a message that says so."""
    if len(text.encode()) <= limit:
        return
    if len(text) > limit:
        raise Invalid(message)
    raise Invalid(
        f"{field} must be at most {limit} bytes of UTF-8 text"
        " (accented letters, emoji and other non-ASCII characters take 2-4 bytes each)"
    )


def validate_display_name(display_name: str) -> str:
    """Trimmed, 1-64 bytes, no control or invisible formatting characters, no stacks of
    combining marks, not starting with a combining mark."""
    value = display_name.strip()
    message = "display name must be 1-64 characters"
    if not value:
        raise Invalid(message)
    check_plain_text(value, "display name")
    if unicodedata.category(value[0]) in _COMBINING_CATEGORIES:
        raise Invalid("display name must not start with a combining mark")
    check_size(value, "display name", 64, message)
    return value


# -- image URLs ----------------------------------------------------------------------------

MAX_URL_BYTES = 2048
_URL_PREFIXES = ("http://", "https://", "/api/")


def validate_image_url(value: str, what: str, *, allow_external: bool) -> str:
    """Every URL of an image that clients will display (avatar, banner, ...), the same rules:

    - at most 2048 bytes, starting with ``http://``, ``https://`` or ``/api/`` (the original's
      rules and messages), without spaces or control characters;
    - a path on this server must have exactly the shape of an uploaded image's URL
      (services/images.py ``is_own_image_url``): no other route, no ``..``, no encoding;
    - an external URL needs a host name, and is refused when the instance setting
      ``allow_external_image_urls`` is off (then viewers' browsers only ever load images from
      this server, so no third party learns who looks at whose profile).

    ``what`` starts the messages ("avatar" -> "avatar URL must ...")."""
    if len(value.encode()) > MAX_URL_BYTES:
        raise Invalid(f"{what} URL must be at most {MAX_URL_BYTES} characters")
    if not value.startswith(_URL_PREFIXES):
        raise Invalid(f"{what} URL must be an HTTP(S) URL or /api/ path")
    if any(c.isspace() for c in value) or has_control_characters(value):
        raise Invalid(f"{what} URL must not contain spaces or control characters")
    if value.startswith("/api/"):
        if not images.is_own_image_url(value):
            raise Invalid(
                f"{what} URL must be the address of an image uploaded to this server"
                " (like /api/avatars/<id>.png)"
            )
        return value
    if not allow_external:
        raise Invalid(
            f"{what} URL must be an image uploaded to this server"
            " (this server does not allow images from other sites)"
        )
    try:
        host = urlsplit(value).hostname
    except ValueError:  # e.g. an unbalanced "[" in the host
        host = None
    if not host:
        raise Invalid(f"{what} URL must name a host (https://host/...)")
    return value
