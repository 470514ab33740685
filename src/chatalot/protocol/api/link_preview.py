"""``GET /api/link-preview``: the original's LinkPreviewResponse."""

from __future__ import annotations

import msgspec


class LinkPreviewOut(msgspec.Struct):
    """Every key always present; null when the page does not say."""

    url: str  # the URL as requested (trimmed), not the one after redirects
    title: str | None
    description: str | None
    image: str | None
    site_name: str | None
