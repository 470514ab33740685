"""Bookmark shapes (spec rest-api 2.16 and 3)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from chatalot.protocol.api.constraints import UUID, text


class BookmarkOut(msgspec.Struct):
    """The original's BookmarkResponse (the message itself is not included)."""

    id: str
    message_id: str
    note: str | None
    created_at: str


class CreateBookmarkIn(msgspec.Struct):
    message_id: Annotated[str, UUID]
    note: Annotated[str, text(500, multiline=True)] | None = None
