"""`GET /api/link-preview?url=` (any signed-in user): title, description, image and site name
of a web page, fetched without reaching internal addresses (services/link_preview.py)."""

from __future__ import annotations

from typing import Annotated

from litestar import get

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import described_query, required_query
from chatalot.protocol.api.link_preview import LinkPreviewOut
from chatalot.services import link_preview as link_preview_service

URL_QUERY = described_query(
    "The page to preview: an http:// or https:// URL, 1-2048 bytes after trimming. Internal "
    "addresses (private, loopback, link-local, ... also behind a name or a redirect) are a 400 "
    "`Cannot preview internal URLs`; a page that cannot be fetched is a 400 `Could not fetch "
    "URL`; a page that is not HTML gives an empty preview.",
    minLength=1,
    maxLength=2048,
    pattern="^\\s*[hH][tT][tT][pP][sS]?://",
)


@get("/api/link-preview", opt=required_query("url"))
async def get_link_preview(
    ctx: CtxDep, actor: ActorDep, url: Annotated[str | None, URL_QUERY] = None
) -> LinkPreviewOut:
    preview = await link_preview_service.get_link_preview(ctx, actor, url)
    return LinkPreviewOut(
        url=preview.url,
        title=preview.title,
        description=preview.description,
        image=preview.image,
        site_name=preview.site_name,
    )


HANDLERS = [get_link_preview]
