"""Reading the audit log (instance admins): newest first, exact-match filters, paged."""

from __future__ import annotations

from dataclasses import dataclass

from chatalot.context import Ctx
from chatalot.ids import UserId
from chatalot.repositories import audit as audit_repo
from chatalot.repositories.audit import AuditRow
from chatalot.services.actor import Actor
from chatalot.services.admin import check_text, require_admin

MAX_ACTION_BYTES = 64  # audit_log.action is VARCHAR(64)


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: list[AuditRow]
    total: int
    page: int
    per_page: int


async def list_audit_log(
    ctx: Ctx,
    actor: Actor,
    *,
    action: str | None,
    user_id: UserId | None,
    page: int,
    per_page: int,
) -> AuditPage:
    async with ctx.db.transaction("admin_list_audit_log") as tx:
        await require_admin(tx.conn, actor)
        if action is not None:
            check_text(
                action,
                field="action",
                limit=MAX_ACTION_BYTES,
                message=f"action must be at most {MAX_ACTION_BYTES} characters",
            )
        entries = await audit_repo.list_audit(
            tx.conn,
            action=action,
            user_id=user_id,
            limit=per_page,
            offset=(page - 1) * per_page,
        )
        total = await audit_repo.count_audit(tx.conn, action=action, user_id=user_id)
    return AuditPage(entries, total, page, per_page)
