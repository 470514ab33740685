"""Map asyncpg constraint errors onto the domain's Conflict/NotFound/Invalid.

Repositories wrap statements that may hit a constraint in ``with on_unique_violation(...)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

from chatalot.errors import Conflict, Invalid, NotFound


@contextmanager
def on_unique_violation(message: str) -> Iterator[None]:
    """A UNIQUE violation inside the block becomes Conflict(message)."""
    try:
        yield
    except asyncpg.UniqueViolationError:
        raise Conflict(message) from None


@contextmanager
def on_foreign_key_violation(message: str) -> Iterator[None]:
    """A FOREIGN KEY violation (the referenced row is gone) becomes NotFound(message)."""
    try:
        yield
    except asyncpg.ForeignKeyViolationError:
        raise NotFound(message) from None


@contextmanager
def on_check_violation(message: str) -> Iterator[None]:
    """A CHECK or NOT NULL violation becomes Invalid(message)."""
    try:
        yield
    except (asyncpg.CheckViolationError, asyncpg.NotNullViolationError):
        raise Invalid(message) from None
