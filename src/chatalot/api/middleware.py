"""Raw ASGI middleware around the whole HTTP app (API and static alike): ``HttpEdge`` gives
every request an id, every response the original's security headers and Cache-Control rules,
and writes one log line per request."""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from chatalot.api.errors import REQUEST_ID_KEY
from chatalot.logs import direct_writer

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
_REPLACED = frozenset({name for name, _ in SECURITY_HEADERS} | {b"x-frame-options"})
_REPLACED_WITH_CACHE = _REPLACED | {b"cache-control"}


def cache_control_for(path: str) -> bytes | None:
    """The Cache-Control the original forces on a path, or None to keep the handler's."""
    if path.startswith("/_app/immutable/"):
        return b"public, max-age=31536000, immutable"
    if path == "/api" or path.startswith("/api/"):
        return None
    return b"no-cache"


_SAFE_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._-]{1,64}$")
_QUIET_PATHS = frozenset({"/api/health"})


class HttpEdge:
    """The outermost layer of every HTTP request, in one ASGI layer (each layer costs a
    coroutine and a send wrapper per request):

    - a request id (``X-Request-Id``: the client's if it is safe, else 64 random bits);
    - the original's security headers and Cache-Control rules on every response;
    - one log line per request: ``GET /api/account/me 200 1.2ms id=3f2a...`` (INFO; DEBUG for
      a successful health check). Values from the client (the path) are written as they came:
      the log formatter escapes control characters in every line (logs.py).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # 64 random bits as 16 hex digits: unique enough to find a request in the log (not a
        # secret, so no system call for it)
        request_id = _incoming_request_id(scope) or f"{random.getrandbits(64):016x}"
        scope[REQUEST_ID_KEY] = request_id
        path = scope["path"]
        cache = cache_control_for(path)
        dropped = _REPLACED if cache is None else _REPLACED_WITH_CACHE
        added = [*SECURITY_HEADERS]
        if cache is not None:
            added.append((b"cache-control", cache))
        added.append((b"x-request-id", request_id.encode()))
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    (k, v) for k, v in message.get("headers", ()) if k.lower() not in dropped
                ]
                message["headers"] = headers + added
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            level = logging.DEBUG if status < 400 and path in _QUIET_PATHS else logging.INFO
            if log.isEnabledFor(level):  # nothing more to do when the line would be dropped
                elapsed_ms = (time.perf_counter() - started) * 1000
                message = f"{scope['method']} {path} {status} {elapsed_ms:.1f}ms id={request_id}"
                writer = direct_writer(log, level)
                if writer is not None:  # as configured by configure_logging: skip LogRecord
                    writer.submit(log.name, level, message)
                else:
                    log.handle(log.makeRecord(log.name, level, __file__, 0, message, (), None))


def _incoming_request_id(scope: Scope) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"x-request-id" and _SAFE_REQUEST_ID.match(value):
            return str(value.decode())
    return None
