"""`/api/legal/*` response body."""

from __future__ import annotations

import msgspec


class LegalDocumentOut(msgspec.Struct):
    title: str
    body: str  # markdown
