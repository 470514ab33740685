"""ASGI middleware: refuse a NUL character in the request path or query string (400).

PostgreSQL text cannot hold NUL, and file names cannot either, so a ``%00`` that reached a
query parameter or a path segment would fail deep inside a handler. JSON bodies get the same
check in ``api/json_body.py``.
"""

from __future__ import annotations

from chatalot.api.errors import send_error
from chatalot.api.middleware import ASGIApp, Receive, Scope, Send

_MESSAGE = "the URL must not contain the NUL character (%00)"


class InputGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            b"%00" in scope.get("query_string", b"") or "\x00" in scope["path"]
        ):
            await send_error(send, 400, "validation_error", _MESSAGE)
            return
        await self.app(scope, receive, send)
