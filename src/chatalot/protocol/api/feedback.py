"""`/api/feedback` response body (the request is multipart: see api/routes/feedback.py)."""

from __future__ import annotations

import msgspec


class FeedbackOut(msgspec.Struct):
    success: bool
    issue_number: int | None  # always present; null when not forwarded to GitHub
    message: str
