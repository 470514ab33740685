"""`/api/bookmarks` (add, list) and `/api/bookmarks/{id}` (delete): the caller's own."""

from __future__ import annotations

from typing import Annotated

from litestar import Response, delete, get, post
from litestar.params import FromPath, JSONBody

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import errors, integer_query
from chatalot.api.params import parse_int, parse_uuid
from chatalot.api.responses import empty
from chatalot.protocol.api.bookmarks import BookmarkOut, CreateBookmarkIn
from chatalot.protocol.time import rfc3339
from chatalot.repositories.bookmarks import BookmarkRow
from chatalot.services import bookmarks as bookmarks_service

MAX_LIMIT = 500
MAX_OFFSET = 1_000_000_000


def _bookmark_out(row: BookmarkRow) -> BookmarkOut:
    return BookmarkOut(
        id=str(row.id),
        message_id=str(row.message_id),
        note=row.note,
        created_at=rfc3339(row.created_at),
    )


@post("/api/bookmarks", status_code=200, responses=errors(403, 404, 409))
async def post_bookmark(
    ctx: CtxDep, actor: ActorDep, data: JSONBody[CreateBookmarkIn]
) -> BookmarkOut:
    message_id = parse_uuid(data.message_id, "message id")
    return _bookmark_out(await bookmarks_service.add_bookmark(ctx, actor, message_id, data.note))


@get("/api/bookmarks")
async def list_bookmarks(
    ctx: CtxDep,
    actor: ActorDep,
    limit: Annotated[str | None, integer_query(1, MAX_LIMIT)] = None,
    offset: Annotated[str | None, integer_query(0, MAX_OFFSET)] = None,
) -> list[BookmarkOut]:
    """Newest first; ``limit`` 1-500 (default 100), ``offset`` >= 0 (default 0)."""
    rows = await bookmarks_service.list_bookmarks(
        ctx,
        actor,
        limit=parse_int(limit, "limit", default=100, low=1, high=MAX_LIMIT),
        offset=parse_int(offset, "offset", default=0, low=0, high=MAX_OFFSET),
    )
    return [_bookmark_out(r) for r in rows]


@delete("/api/bookmarks/{bookmark_id:str}", status_code=200, responses=errors(404))
async def delete_bookmark(
    ctx: CtxDep, actor: ActorDep, bookmark_id: FromPath[str]
) -> Response[bytes]:
    await bookmarks_service.delete_bookmark(ctx, actor, parse_uuid(bookmark_id, "bookmark id"))
    return empty()


HANDLERS = [post_bookmark, list_bookmarks, delete_bookmark]
