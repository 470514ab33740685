"""`GET /api/admin/audit-log`: the audit log, paged (instance admins)."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.params import FromQuery

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import described_query, errors, integer_query
from chatalot.api.params import parse_int, parse_uuid
from chatalot.ids import UserId
from chatalot.protocol.api.admin import AuditEntryOut, AuditLogOut
from chatalot.protocol.time import rfc3339
from chatalot.services import admin_audit as admin_audit_service


@get("/api/admin/audit-log", responses=errors(403))
async def get_audit_log(
    ctx: CtxDep,
    actor: ActorDep,
    page: Annotated[str | None, integer_query(1, 10000)] = None,
    per_page: Annotated[str | None, integer_query(1, 100)] = None,
    action: FromQuery[str | None] = None,
    user_id: Annotated[str | None, described_query(format="uuid")] = None,
) -> AuditLogOut:
    result = await admin_audit_service.list_audit_log(
        ctx,
        actor,
        action=action or None,
        user_id=UserId(parse_uuid(user_id, "user_id")) if user_id else None,
        page=parse_int(page, "page", default=1, low=1, high=10000),
        per_page=parse_int(per_page, "per_page", default=50, low=1, high=100),
    )
    return AuditLogOut(
        entries=[
            AuditEntryOut(
                id=str(e.id),
                user_id=str(e.user_id) if e.user_id is not None else None,
                action=e.action,
                ip_address=e.ip_address,
                user_agent=e.user_agent,
                metadata=e.metadata,
                created_at=rfc3339(e.created_at),
            )
            for e in result.entries
        ],
        total=result.total,
        page=result.page,
        per_page=result.per_page,
    )


HANDLERS = [get_audit_log]
