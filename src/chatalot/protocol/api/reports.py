"""`POST /api/reports` and the admin report endpoints."""

from __future__ import annotations

from typing import Annotated

import msgspec

from chatalot.protocol.api.constraints import UUID, documented, text


class CreateReportIn(msgspec.Struct):
    report_type: Annotated[str, documented(enum=["message", "user", "file"])]
    target_id: Annotated[str, UUID]
    reason: Annotated[str, text(2000, required=True)]


class ReviewReportIn(msgspec.Struct):
    status: Annotated[str, documented(enum=["reviewed", "resolved", "dismissed"])]
    admin_notes: Annotated[str, text(5000, multiline=True)] | None = None


class ReportOut(msgspec.Struct):
    """The original's ReportResponse: every key always present."""

    id: str
    reporter_id: str
    report_type: str
    target_id: str
    reason: str
    status: str
    reviewed_by: str | None
    reviewed_at: str | None
    admin_notes: str | None
    created_at: str


class ReportListOut(msgspec.Struct):
    reports: list[ReportOut]
    total: int
    page: int
    per_page: int
