"""ASGI middleware, in one layer for every HTTP request:

- refuse a NUL character in the request path or query string (400). PostgreSQL text cannot
  hold NUL, and file names cannot either, so a ``%00`` that reached a query parameter or a path
  segment would fail deep inside a handler. JSON bodies get the same check in
  ``api/json_body.py``;
- answer ``HEAD`` wherever ``GET`` is answered (RFC 9110 9.3.2): the request runs as a GET and
  the response keeps its status and headers (Content-Length included) but no body. Uptime
  monitors and link checkers use HEAD.
"""

from __future__ import annotations

from chatalot.api.errors import send_error
from chatalot.api.middleware import ASGIApp, Message, Receive, Scope, Send

_MESSAGE = "the URL must not contain the NUL character (%00)"


class InputGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if b"%00" in scope.get("query_string", b"") or "\x00" in scope["path"]:
            await send_error(send, 400, "validation_error", _MESSAGE)
            return
        if scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        # a copy: the server keeps the original scope and must still see HEAD (uvicorn then
        # expects no body, whatever Content-Length says)
        scope = {**scope, "method": "GET"}

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app(scope, receive, send_without_body)
