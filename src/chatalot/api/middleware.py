"""The edge: one raw ASGI layer around the whole app (API, static files and ``/ws``), which
does for every request what must happen before and after the framework:

- the client's address (``TRUSTED_PROXIES``, api/client_ip.py), for the rate limits, sessions
  and the audit log;
- the token buckets (spec rest-api 1.11): every request draws from the global bucket (50,
  refilled 20/s), the auth routes also from the auth bucket (10, refilled 5/s); over the limit:
  429 ``rate_limited`` with Retry-After (a WebSocket upgrade is closed with 1008). CORS
  preflights and OPTIONS cost nothing;
- CORS (api/cors.py): preflights are answered here, allowed origins get the grant;
- refusal of a NUL character in the path or query string (400): PostgreSQL text and file names
  cannot hold it (JSON bodies get the same check in api/json_body.py);
- ``HEAD`` answered wherever ``GET`` is (RFC 9110 9.3.2): the request runs as a GET on a copy
  of the scope and the response keeps its status and headers but no body;
- a request id (``X-Request-Id``: the client's if it is safe, else 64 random bits), the
  original's security headers and Cache-Control rules on every response;
- one log line per request: ``GET /api/account/me 200 1.2ms id=3f2a...`` (INFO; DEBUG for a
  successful health check). Values from the client are written as they came: the log
  formatter escapes control characters in every line (logs.py).

One layer on purpose: every layer costs a coroutine per request and a wrapper per message, and
the headers are read in one pass (spec: this edge once cost more than the framework itself;
docs/benchmarks.md)."""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from chatalot.api.auth import CLIENT_IP_KEY
from chatalot.api.client_ip import ClientIpResolver
from chatalot.api.cors import Cors
from chatalot.api.errors import REQUEST_ID_KEY, send_error
from chatalot.logs import direct_writer
from chatalot.ratelimit import AUTH_RULE, GLOBAL_RULE, RateLimiter

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


AUTH_PATHS = frozenset(
    {
        "/api/auth/register",
        "/api/auth/login",
        "/api/auth/refresh",
        "/api/auth/recover",
        "/api/auth/config",
    }
)
GLOBAL_MESSAGE = "too many requests, please slow down"
AUTH_MESSAGE = "too many authentication attempts"
NUL_MESSAGE = "the URL must not contain the NUL character (%00)"


class Edge:
    def __init__(
        self, app: ASGIApp, limiter: RateLimiter, resolver: ClientIpResolver, cors: Cors
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.resolver = resolver
        self.cors = cors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        client_ip = self.resolver.from_scope(scope)
        scope[CLIENT_IP_KEY] = client_ip
        if not (await self.limiter.take(GLOBAL_RULE, client_ip)).allowed:
            await send({"type": "websocket.close", "code": 1008})
            return
        await self.app(scope, receive, send)

    def _scan(self, scope: Scope) -> _Scanned:
        """What the edge needs from the request's headers, in one pass (forwarding headers
        only from a trusted proxy)."""
        client = scope.get("client")
        peer = (client[0] if client else None) or "unknown"
        trusted = self.resolver.is_trusted(peer)
        found = _Scanned()
        cf_ip = real_ip = forwarded = None
        for key, value in scope["headers"]:
            if key == b"x-request-id":
                if _SAFE_REQUEST_ID.match(value):
                    found.request_id = value.decode()
            elif key == b"origin":
                found.origin = value
            elif key == b"access-control-request-method":
                found.preflight_method = value
            elif key == b"access-control-request-headers":
                found.preflight_headers = value
            elif trusted:
                if key == b"x-forwarded-for":
                    forwarded = value if forwarded is None else forwarded + b"," + value
                elif key == b"cf-connecting-ip":
                    cf_ip = value
                elif key == b"x-real-ip":
                    real_ip = value
        found.client_ip = (
            self.resolver.behind_proxy(peer, cf_ip, real_ip, forwarded) if trusted else peer
        )
        return found

    async def _refused(self, scope: Scope, client_ip: str, send: Send) -> bool:
        """Answers a request the rate limits or the URL check refuse; True if it did."""
        path = scope["path"]
        if scope["method"] != "OPTIONS":  # OPTIONS (Allow) costs nothing
            decision = await self.limiter.take(GLOBAL_RULE, client_ip)
            message = GLOBAL_MESSAGE
            if decision.allowed and path in AUTH_PATHS:
                decision = await self.limiter.take(AUTH_RULE, client_ip)
                message = AUTH_MESSAGE
            if not decision.allowed:
                retry_after = (b"retry-after", str(decision.retry_after).encode())
                await send_error(send, 429, "rate_limited", message, (retry_after,))
                return True
        if b"%00" in scope.get("query_string", b"") or "\x00" in path:
            await send_error(send, 400, "validation_error", NUL_MESSAGE)
            return True
        return False

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self._scan(scope)
        scope[CLIENT_IP_KEY] = found.client_ip
        # 64 random bits as 16 hex digits: unique enough to find a request in the log (not a
        # secret, so no system call for it)
        request_id = found.request_id or f"{random.getrandbits(64):016x}"
        scope[REQUEST_ID_KEY] = request_id
        path = scope["path"]
        method = scope["method"]
        origin = found.origin
        preflight = method == "OPTIONS" and origin is not None

        cache = cache_control_for(path)
        dropped = _REPLACED if cache is None else _REPLACED_WITH_CACHE
        added = [*SECURITY_HEADERS]
        if cache is not None:
            added.append((b"cache-control", cache))
        added.append((b"x-request-id", request_id.encode()))
        if origin is not None and not preflight and self.cors.allows(origin):
            added += self.cors.grant(origin)
        head = method == "HEAD"
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
            elif head and message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        try:
            if origin is not None and preflight:
                answer = self.cors.preflight(
                    origin, found.preflight_method, found.preflight_headers
                )
                await _respond(send_with_headers, *answer)
            elif not await self._refused(scope, found.client_ip, send_with_headers):
                if head:
                    # a copy: the server keeps the original scope and must still see HEAD
                    # (uvicorn then expects no body, whatever Content-Length says)
                    scope = {**scope, "method": "GET"}
                await self.app(scope, receive, send_with_headers)
        finally:
            _log_request(method, path, status, started, request_id)


class _Scanned:
    __slots__ = ("client_ip", "origin", "preflight_headers", "preflight_method", "request_id")

    def __init__(self) -> None:
        self.client_ip = "unknown"
        self.request_id: str | None = None
        self.origin: bytes | None = None
        self.preflight_method: bytes | None = None
        self.preflight_headers: bytes | None = None


def _log_request(method: str, path: str, status: int, started: float, request_id: str) -> None:
    level = logging.DEBUG if status < 400 and path in _QUIET_PATHS else logging.INFO
    if not log.isEnabledFor(level):  # nothing more to do when the line would be dropped
        return
    elapsed_ms = (time.perf_counter() - started) * 1000
    line = f"{method} {path} {status} {elapsed_ms:.1f}ms id={request_id}"
    writer = direct_writer(log, level)
    if writer is not None:  # as configured by configure_logging: skip LogRecord
        writer.submit(log.name, level, line)
    else:
        log.handle(log.makeRecord(log.name, level, __file__, 0, line, (), None))


async def _respond(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    start = [*headers, (b"content-length", str(len(body)).encode())] if body else headers
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": body})
