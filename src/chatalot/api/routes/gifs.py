"""`GET /api/gifs/search?q=&limit=&pos=` and `GET /api/gifs/trending?limit=&pos=` (any
signed-in user): GIPHY, when GIPHY_API_KEY is set (services/gifs.py)."""

from __future__ import annotations

from typing import Annotated

from litestar import get

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import described_query, errors, integer_query
from chatalot.protocol.api.gifs import GifResultOut, GifSearchOut
from chatalot.services import gifs as gifs_service
from chatalot.services.gifs import GifPage

Q = described_query(
    "What to search for; empty, or over 256 bytes, gives no results.", maxLength=256
)
LIMIT = integer_query(
    1,
    None,
    f"At most this many GIFs (default {gifs_service.DEFAULT_LIMIT}; above "
    f"{gifs_service.MAX_LIMIT} gives {gifs_service.MAX_LIMIT}).",
)
POS = integer_query(
    0, gifs_service.MAX_OFFSET, "Where to continue: the `next` of the previous page (default 0)."
)


def page_out(page: GifPage) -> GifSearchOut:
    return GifSearchOut(
        results=[
            GifResultOut(
                id=g.id,
                title=g.title,
                preview_url=g.preview_url,
                url=g.url,
                width=g.width,
                height=g.height,
            )
            for g in page.results
        ],
        next=page.next,
    )


@get("/api/gifs/search", responses=errors(502))
async def get_gif_search(
    ctx: CtxDep,
    actor: ActorDep,
    q: Annotated[str | None, Q] = None,
    limit: Annotated[str | None, LIMIT] = None,
    pos: Annotated[str | None, POS] = None,
) -> GifSearchOut:
    """400 `GIF search is not configured on this server` without GIPHY_API_KEY; 502
    `bad_gateway` when GIPHY fails."""
    return page_out(await gifs_service.search_gifs(ctx, actor, q, limit, pos))


@get("/api/gifs/trending", responses=errors(502))
async def get_gif_trending(
    ctx: CtxDep,
    actor: ActorDep,
    limit: Annotated[str | None, LIMIT] = None,
    pos: Annotated[str | None, POS] = None,
) -> GifSearchOut:
    """As search, for GIPHY's trending GIFs."""
    return page_out(await gifs_service.trending_gifs(ctx, actor, limit, pos))


HANDLERS = [get_gif_search, get_gif_trending]
