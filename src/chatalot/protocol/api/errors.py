"""The one error body: ``{"error": {"code": "...", "message": "..."}}``."""

from __future__ import annotations

import msgspec


class ErrorDetail(msgspec.Struct, frozen=True):
    code: str
    message: str


class ErrorOut(msgspec.Struct, frozen=True):
    error: ErrorDetail
