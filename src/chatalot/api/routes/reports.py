"""`POST /api/reports` (any user) and `/api/admin/reports*` (instance admins)."""

from __future__ import annotations

from typing import Annotated

from litestar import get, post
from litestar.params import FromPath, JSONBody

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import described_query, errors, integer_query
from chatalot.api.params import parse_int, parse_uuid
from chatalot.protocol.api.reports import CreateReportIn, ReportListOut, ReportOut, ReviewReportIn
from chatalot.protocol.time import rfc3339, rfc3339_or_none
from chatalot.repositories.reports import ReportRow
from chatalot.services import reports as reports_service
from chatalot.services.reports import STATUSES


def _report(row: ReportRow) -> ReportOut:
    return ReportOut(
        id=str(row.id),
        reporter_id=str(row.reporter_id),
        report_type=row.report_type,
        target_id=str(row.target_id),
        reason=row.reason,
        status=row.status,
        reviewed_by=str(row.reviewed_by) if row.reviewed_by is not None else None,
        reviewed_at=rfc3339_or_none(row.reviewed_at),
        admin_notes=row.admin_notes,
        created_at=rfc3339(row.created_at),
    )


@post("/api/reports", status_code=200, responses=errors(404, 409))
async def post_report(ctx: CtxDep, actor: ActorDep, data: JSONBody[CreateReportIn]) -> ReportOut:
    row = await reports_service.create_report(
        ctx,
        actor,
        report_type=data.report_type,
        target_id=parse_uuid(data.target_id, "target_id"),
        reason=data.reason,
    )
    return _report(row)


@get("/api/admin/reports", responses=errors(403))
async def list_admin_reports(
    ctx: CtxDep,
    actor: ActorDep,
    status: Annotated[str | None, described_query(enum=list(STATUSES))] = None,
    page: Annotated[str | None, integer_query(1, 10000)] = None,
    per_page: Annotated[str | None, integer_query(1, 100)] = None,
) -> ReportListOut:
    result = await reports_service.list_reports(
        ctx,
        actor,
        status=status or None,
        page=parse_int(page, "page", default=1, low=1, high=10000),
        per_page=parse_int(per_page, "per_page", default=50, low=1, high=100),
    )
    return ReportListOut(
        reports=[_report(r) for r in result.reports],
        total=result.total,
        page=result.page,
        per_page=result.per_page,
    )


@post("/api/admin/reports/{report_id:str}/review", status_code=200, responses=errors(403, 404))
async def post_review_report(
    ctx: CtxDep, actor: ActorDep, report_id: FromPath[str], data: JSONBody[ReviewReportIn]
) -> ReportOut:
    row = await reports_service.review_report(
        ctx,
        actor,
        parse_uuid(report_id, "report id"),
        status=data.status,
        admin_notes=data.admin_notes,
    )
    return _report(row)


HANDLERS = [post_report, list_admin_reports, post_review_report]
