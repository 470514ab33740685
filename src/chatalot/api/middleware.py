"""Raw ASGI middleware around the whole HTTP app (API and static alike).

- ``RequestLog``: a request id per request (``X-Request-Id``), one log line per request.
- ``SecurityHeaders``: the original's security headers and Cache-Control rules on every response.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from chatalot.api.errors import REQUEST_ID_KEY

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("chatalot_server.http")

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval' blob:",
        "style-src 'self' 'unsafe-inline'",
        "connect-src 'self' wss: https://cdn.jsdelivr.net",
        "img-src 'self' data: blob: https://media0.giphy.com https://media1.giphy.com "
        "https://media2.giphy.com https://media3.giphy.com https://media4.giphy.com",
        "media-src 'self' blob:",
        "worker-src 'self' blob:",
        "frame-ancestors 'self' tauri://localhost",
        "base-uri 'self'",
        "form-action 'self'",
        "object-src 'none'",
    ]
)

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-xss-protection", b"1; mode=block"),
    (b"strict-transport-security", b"max-age=31536000; includeSubDomains; preload"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"permissions-policy", b"camera=(self), microphone=(self), geolocation=()"),
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
)
_REPLACED = {name for name, _ in SECURITY_HEADERS} | {b"x-frame-options"}


def cache_control_for(path: str) -> bytes | None:
    """The Cache-Control the original forces on a path, or None to keep the handler's."""
    if path.startswith("/_app/immutable/"):
        return b"public, max-age=31536000, immutable"
    if path == "/api" or path.startswith("/api/"):
        return None
    return b"no-cache"


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cache = cache_control_for(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in _REPLACED
                    and (cache is None or k.lower() != b"cache-control")
                ]
                headers.extend(SECURITY_HEADERS)
                if cache is not None:
                    headers.append((b"cache-control", cache))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


_SAFE_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._-]{1,64}$")
_QUIET_PATHS = frozenset({"/api/health"})


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex[:16]
        scope[REQUEST_ID_KEY] = request_id
        started = time.perf_counter()
        status = 500

        async def send_logged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_logged)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            level = (
                logging.DEBUG if scope["path"] in _QUIET_PATHS and status < 400 else logging.INFO
            )
            log.log(
                level,
                "%s %s %d %.1fms id=%s",
                scope["method"],
                scope["path"],
                status,
                elapsed_ms,
                request_id,
            )


def _incoming_request_id(scope: Scope) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"x-request-id" and _SAFE_REQUEST_ID.match(value):
            return str(value.decode())
    return None
