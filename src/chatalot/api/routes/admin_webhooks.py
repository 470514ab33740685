"""`GET /api/admin/webhooks`: every webhook of the instance, paged (instance admins; tokens are
never shown)."""

from __future__ import annotations

from typing import Annotated

from litestar import get

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import errors, integer_query
from chatalot.api.params import parse_int
from chatalot.protocol.api.webhooks import AdminWebhookListOut, AdminWebhookOut
from chatalot.protocol.time import rfc3339
from chatalot.services import webhooks as webhooks_service


@get("/api/admin/webhooks", responses=errors(403))
async def list_admin_webhooks(
    ctx: CtxDep,
    actor: ActorDep,
    page: Annotated[str | None, integer_query(1, 10000)] = None,
    per_page: Annotated[str | None, integer_query(1, 100)] = None,
) -> AdminWebhookListOut:
    result = await webhooks_service.admin_list_webhooks(
        ctx,
        actor,
        page=parse_int(page, "page", default=1, low=1, high=10000),
        per_page=parse_int(per_page, "per_page", default=50, low=1, high=100),
    )
    return AdminWebhookListOut(
        webhooks=[
            AdminWebhookOut(
                id=str(w.id),
                channel_id=str(w.channel_id),
                name=w.name,
                active=w.active,
                created_by=str(w.created_by) if w.created_by is not None else None,
                created_at=rfc3339(w.created_at),
            )
            for w in result.webhooks
        ],
        total=result.total,
    )


HANDLERS = [list_admin_webhooks]
