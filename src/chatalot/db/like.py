"""LIKE/ILIKE patterns for user-typed search text (used by repositories only)."""

from __future__ import annotations


def contains_pattern(text: str) -> str:
    """``%text%`` with ``\\``, ``%`` and ``_`` in ``text`` escaped, so they match literally
    (pair with ``ESCAPE '\\'``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
