"""Instance announcements: ``/api/announcements`` (and the ``/api/account/announcements``
aliases) and ``/api/admin/announcements``."""

from __future__ import annotations

from typing import Annotated

import msgspec

from chatalot.protocol.api.constraints import text

TITLE = text(200, required=True)
BODY = text(5000, required=True, multiline=True)


class CreateAnnouncementIn(msgspec.Struct):
    title: Annotated[str, TITLE]
    body: Annotated[str, BODY]


class AnnouncementOut(msgspec.Struct):
    """The original's AnnouncementResponse. ``created_by`` is null once the admin who wrote it
    has been deleted."""

    id: str
    title: str
    body: str
    created_by: str | None
    created_at: str
