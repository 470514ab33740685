"""ASGI middleware: answer ``HEAD`` wherever ``GET`` is answered (RFC 9110 9.3.2).

The request runs as a GET and the response keeps its status and headers (Content-Length
included) but no body. Uptime monitors and link checkers use HEAD.
"""

from __future__ import annotations

from chatalot.api.middleware import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        scope["method"] = "GET"

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app(scope, receive, send_without_body)
