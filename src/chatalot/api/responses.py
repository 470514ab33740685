"""Response helpers for shapes the original clients expect."""

from __future__ import annotations

from litestar import Response


def empty() -> Response[bytes]:
    """200 with an empty body: what the original answers for actions that return nothing
    (the client treats an empty body as `undefined`)."""
    return Response(content=b"", status_code=200, media_type="text/plain")
