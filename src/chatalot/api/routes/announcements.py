"""`GET /api/announcements` and `POST /api/announcements/{id}/dismiss` (any user), with their
exact aliases under `/api/account/announcements`."""

from __future__ import annotations

from litestar import Response, get, post
from litestar.params import FromPath

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import errors
from chatalot.api.params import parse_uuid
from chatalot.api.responses import empty
from chatalot.protocol.api.announcements import AnnouncementOut
from chatalot.protocol.time import rfc3339
from chatalot.repositories.announcements import AnnouncementRow
from chatalot.services import announcements as announcements_service


def announcement_out(row: AnnouncementRow) -> AnnouncementOut:
    return AnnouncementOut(
        id=str(row.id),
        title=row.title,
        body=row.body,
        created_by=str(row.created_by) if row.created_by is not None else None,
        created_at=rfc3339(row.created_at),
    )


async def _list(ctx: CtxDep, actor: ActorDep) -> list[AnnouncementOut]:
    rows = await announcements_service.list_my_announcements(ctx, actor)
    return [announcement_out(r) for r in rows]


async def _dismiss(ctx: CtxDep, actor: ActorDep, announcement_id: str) -> Response[bytes]:
    await announcements_service.dismiss_announcement(
        ctx, actor, parse_uuid(announcement_id, "announcement id")
    )
    return empty()


@get("/api/announcements")
async def list_announcements(ctx: CtxDep, actor: ActorDep) -> list[AnnouncementOut]:
    """The latest 50 announcements the caller has not dismissed, newest first."""
    return await _list(ctx, actor)


@get("/api/account/announcements")
async def list_account_announcements(ctx: CtxDep, actor: ActorDep) -> list[AnnouncementOut]:
    """Alias of ``GET /api/announcements``."""
    return await _list(ctx, actor)


@post("/api/announcements/{announcement_id:str}/dismiss", status_code=200, responses=errors(404))
async def post_dismiss_announcement(
    ctx: CtxDep, actor: ActorDep, announcement_id: FromPath[str]
) -> Response[bytes]:
    """The body, if any, is ignored. Dismissing again changes nothing."""
    return await _dismiss(ctx, actor, announcement_id)


@post(
    "/api/account/announcements/{announcement_id:str}/dismiss",
    status_code=200,
    responses=errors(404),
)
async def post_dismiss_account_announcement(
    ctx: CtxDep, actor: ActorDep, announcement_id: FromPath[str]
) -> Response[bytes]:
    """Alias of ``POST /api/announcements/{id}/dismiss``."""
    return await _dismiss(ctx, actor, announcement_id)


HANDLERS = [
    list_announcements,
    list_account_announcements,
    post_dismiss_announcement,
    post_dismiss_account_announcement,
]
