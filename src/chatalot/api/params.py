"""Parsing path and query values into typed values with 400 errors (never a 404 or 500)."""

from __future__ import annotations

import uuid

from chatalot.errors import Invalid


def parse_uuid(value: str, what: str = "id") -> uuid.UUID:
    """Accepts the forms the original did (hyphenated, simple, braced, urn:uuid:)."""
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        raise Invalid(f"invalid {what}") from None


def parse_int(value: str | None, name: str, *, default: int, low: int, high: int) -> int:
    """A bounded integer query parameter; values outside [low, high] are a 400."""
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise Invalid(f"{name} must be a whole number") from None
    if not low <= number <= high:
        raise Invalid(f"{name} must be between {low} and {high}")
    return number
