"""Parsing path and query values into typed values with 400 errors (never a 404 or 500)."""

from __future__ import annotations

import re
import uuid

from chatalot.errors import Invalid

_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")
_MAX_DIGITS = 100  # longer numbers are simply "too large" (int() of huge strings is slow)


def parse_uuid(value: str, what: str = "id") -> uuid.UUID:
    """Accepts the forms the original did (hyphenated, simple, braced, urn:uuid:)."""
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        raise Invalid(f"invalid {what}") from None


def parse_int(
    value: str | None, name: str, *, default: int, low: int, high: int, clamp: bool = False
) -> int:
    """A bounded integer query parameter (ASCII digits with an optional sign; surrounding
    spaces are ignored). Not a whole number: 400 naming the range. Outside [low, high]: 400
    naming the range, or, with ``clamp``, the nearest bound (what the original did)."""
    if value is None or value.strip() == "":
        return default
    text = value.strip()
    if not _WHOLE_NUMBER.fullmatch(text):
        raise Invalid(f"{name} must be a whole number between {low} and {high}")
    if len(text.lstrip("+-")) > _MAX_DIGITS:
        number = low - 1 if text.startswith("-") else high + 1
    else:
        number = int(text)
    if clamp:
        return max(low, min(high, number))
    if not low <= number <= high:
        raise Invalid(f"{name} must be between {low} and {high}")
    return number
