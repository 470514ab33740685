"""`POST` and `GET /api/admin/announcements` (instance admins)."""

from __future__ import annotations

from litestar import get, post
from litestar.params import JSONBody

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import errors
from chatalot.api.routes.announcements import announcement_out
from chatalot.protocol.api.announcements import AnnouncementOut, CreateAnnouncementIn
from chatalot.services import announcements as announcements_service


@post("/api/admin/announcements", status_code=200, responses=errors(403))
async def post_admin_announcement(
    ctx: CtxDep, actor: ActorDep, data: JSONBody[CreateAnnouncementIn]
) -> AnnouncementOut:
    """Publishes it to every connected session (``announcement``)."""
    row = await announcements_service.create_announcement(
        ctx, actor, title=data.title, body=data.body
    )
    return announcement_out(row)


@get("/api/admin/announcements", responses=errors(403))
async def list_admin_announcements(ctx: CtxDep, actor: ActorDep) -> list[AnnouncementOut]:
    """The latest 100, newest first (dismissals ignored)."""
    rows = await announcements_service.list_all_announcements(ctx, actor)
    return [announcement_out(r) for r in rows]


HANDLERS = [post_admin_announcement, list_admin_announcements]
