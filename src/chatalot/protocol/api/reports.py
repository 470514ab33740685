"""`POST /api/reports` and the admin report endpoints."""

from __future__ import annotations

import msgspec


class CreateReportIn(msgspec.Struct):
    report_type: str
    target_id: str
    reason: str


class ReviewReportIn(msgspec.Struct):
    status: str
    admin_notes: str | None = None


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
