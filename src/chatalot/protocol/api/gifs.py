"""``GET /api/gifs/search`` and ``/api/gifs/trending``: the original's GifSearchResponse."""

from __future__ import annotations

import msgspec


class GifResultOut(msgspec.Struct):
    id: str
    title: str
    preview_url: str  # a small rendition, or ``url`` when there is none
    url: str  # the original rendition
    width: int
    height: int


class GifSearchOut(msgspec.Struct):
    results: list[GifResultOut]
    next: str | None  # pass back as ``pos`` for the next page; null on the last page
