"""Everything outside /api: the web client (api/static.py says which and how). Unknown /api
paths get the JSON 404 here, so they never fall through to the HTML page."""

from __future__ import annotations

from typing import Any

from litestar import HttpMethod, Request, Response, route
from litestar.exceptions import MethodNotAllowedException, NotFoundException
from litestar.response import File

from chatalot.api.deps import SiteDep
from chatalot.api.static import NO_CACHE

_ALL_METHODS = [
    HttpMethod.GET,
    HttpMethod.HEAD,
    HttpMethod.POST,
    HttpMethod.PUT,
    HttpMethod.PATCH,
    HttpMethod.DELETE,
    HttpMethod.OPTIONS,
]


@route(["/", "/{path:path}"], http_method=_ALL_METHODS, status_code=200, include_in_schema=False)
async def get_static(request: Request[Any, Any, Any], site: SiteDep) -> Response[Any]:
    url_path = request.url.path
    if url_path == "/api" or url_path.startswith("/api/"):
        raise NotFoundException()
    if request.method not in ("GET", "HEAD"):
        raise MethodNotAllowedException(headers={"Allow": "GET, HEAD"})
    accept_encoding = request.headers.get("accept-encoding", "")
    found = site.resolve(url_path, accept_encoding) if site.is_external() else None
    if found is None:
        served = site.builtin(url_path, accept_encoding, request.headers.get("if-none-match", ""))
        return Response(
            content=served.body,
            status_code=served.status,
            media_type=served.media_type or None,
            headers=served.headers,
        )
    # the edge sets no-cache on every other path; /client/ keeps the handler's
    headers = {"Vary": "Accept-Encoding", "Cache-Control": NO_CACHE}
    if found.content_encoding:
        headers["Content-Encoding"] = found.content_encoding
    return File(
        path=found.path,
        media_type=found.media_type,
        headers=headers,
        content_disposition_type="inline",
        filename=found.path.name,
    )


HANDLERS = [get_static]
