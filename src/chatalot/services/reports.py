"""Abuse reports: any user files one; instance admins list and review them.

Ours beyond the original: the target must exist (404 ``user not found``, ``message not found``
or ``file not found``; a message its sender deleted can still be reported, so deleting abuse
does not hide it from the admins); a user cannot report the same target again while their
earlier report of it is still pending (409), and may file at most 20 reports per hour (429).
The last two are checked under a per-user lock, so several server processes cannot race past
them.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import timedelta

from chatalot.context import Ctx
from chatalot.errors import Conflict, Invalid, NotFound, RateLimited
from chatalot.ids import uuid7
from chatalot.repositories import reports as reports_repo
from chatalot.repositories.reports import ReportRow
from chatalot.services.actor import Actor
from chatalot.services.admin import check_text, require_admin
from chatalot.services.audit import record_audit

REPORT_TYPES = ("message", "user", "file")
TARGET_NOT_FOUND = {
    "message": "message not found",
    "user": "user not found",
    "file": "file not found",
}
STATUSES = ("pending", "reviewed", "resolved", "dismissed")
REVIEW_STATUSES = ("reviewed", "resolved", "dismissed")
MAX_REASON_BYTES = 2000
MAX_NOTES_BYTES = 5000
HOURLY_LIMIT = 20
HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class ReportPage:
    reports: list[ReportRow]
    total: int
    page: int
    per_page: int


async def create_report(
    ctx: Ctx, actor: Actor, *, report_type: str, target_id: uuid.UUID, reason: str
) -> ReportRow:
    if report_type not in REPORT_TYPES:
        raise Invalid("report_type must be 'message', 'user', or 'file'")
    reason = reason.strip()
    if not reason:
        raise Invalid("reason must be 1-2000 characters")
    check_text(
        reason, field="reason", limit=MAX_REASON_BYTES, message="reason must be 1-2000 characters"
    )
    now = ctx.clock.now()
    async with ctx.db.transaction("create_report") as tx:
        if not await reports_repo.exists_report_target(
            tx.conn, report_type=report_type, target_id=target_id
        ):
            raise NotFound(TARGET_NOT_FOUND[report_type])
        await reports_repo.lock_reporter(tx.conn, actor.user_id)
        recent = await reports_repo.list_report_times_since(tx.conn, actor.user_id, now - HOUR)
        if len(recent) >= HOURLY_LIMIT:
            wait = recent[len(recent) - HOURLY_LIMIT] + HOUR - now
            seconds = max(1, math.ceil(wait.total_seconds()))
            raise RateLimited(
                f"too many reports: at most {HOURLY_LIMIT} per hour, try again in {seconds} "
                "seconds",
                retry_after=seconds,
            )
        if await reports_repo.exists_pending_report(
            tx.conn, reporter_id=actor.user_id, report_type=report_type, target_id=target_id
        ):
            raise Conflict("you already reported this")
        report = await reports_repo.insert_report(
            tx.conn,
            report_id=uuid7(),
            reporter_id=actor.user_id,
            report_type=report_type,
            target_id=target_id,
            reason=reason,
            created_at=now,
        )
        await record_audit(
            tx.conn,
            "report_created",
            user_id=actor.user_id,
            meta=actor.meta,
            metadata={
                "report_id": str(report.id),
                "report_type": report_type,
                "target_id": str(target_id),
            },
        )
    return report


async def list_reports(
    ctx: Ctx, actor: Actor, *, status: str | None, page: int, per_page: int
) -> ReportPage:
    """Admins: newest first, optionally one status only."""
    async with ctx.db.transaction("admin_list_reports") as tx:
        await require_admin(tx.conn, actor)
        if status is not None and status not in STATUSES:
            raise Invalid("status must be 'pending', 'reviewed', 'resolved', or 'dismissed'")
        rows = await reports_repo.list_reports(
            tx.conn, status=status, limit=per_page, offset=(page - 1) * per_page
        )
        total = await reports_repo.count_reports(tx.conn, status=status)
    return ReportPage(rows, total, page, per_page)


async def review_report(
    ctx: Ctx, actor: Actor, report_id: uuid.UUID, *, status: str, admin_notes: str | None
) -> ReportRow:
    """Admins: set the outcome; ``admin_notes`` null clears the notes."""
    now = ctx.clock.now()
    async with ctx.db.transaction("admin_review_report") as tx:
        await require_admin(tx.conn, actor)
        if status not in REVIEW_STATUSES:
            raise Invalid("status must be 'reviewed', 'resolved', or 'dismissed'")
        if admin_notes is not None:
            check_text(
                admin_notes,
                field="admin_notes",
                limit=MAX_NOTES_BYTES,
                message="admin notes must be at most 5000 characters",
            )
        report = await reports_repo.update_report_review(
            tx.conn,
            report_id,
            status=status,
            reviewed_by=actor.user_id,
            reviewed_at=now,
            admin_notes=admin_notes,
        )
        if report is None:
            raise NotFound("report not found")
        await record_audit(
            tx.conn,
            "report_reviewed",
            user_id=actor.user_id,
            meta=actor.meta,
            metadata={"report_id": str(report_id), "new_status": status},
        )
    return report
