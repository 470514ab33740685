"""Everything outside /api: static files and the SPA fallback. Unknown /api paths get the JSON
404 here, so they never fall through to the HTML page."""

from __future__ import annotations

from typing import Any

from litestar import HttpMethod, Request, Response, route
from litestar.exceptions import MethodNotAllowedException, NotFoundException
from litestar.response import File

from chatalot.api.deps import SiteDep

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
    found = site.resolve(url_path, request.headers.get("accept-encoding", ""))
    headers = {"Vary": "Accept-Encoding"}
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
