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
  formatter escapes control characters in every line (logs.py). A webhook execute path is
  written without its token (``/api/webhooks/execute/[token]``).

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

from chatalot.api.client_ip import ClientIpResolver
from chatalot.api.cors import Cors
from chatalot.api.errors import REQUEST_ID_KEY, loggable_path, send_error
from chatalot.api.request_facts import FACTS_KEY, RequestFacts
from chatalot.logs import direct_writer
from chatalot.ratelimit import AUTH_RULE, GLOBAL_RULE, Decision, RateLimiter

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
_IMMUTABLE = b"public, max-age=31536000, immutable"
_HEADERS_IMMUTABLE = (*SECURITY_HEADERS, (b"cache-control", _IMMUTABLE))
_HEADERS_NO_CACHE = (*SECURITY_HEADERS, (b"cache-control", b"no-cache"))


def cache_control_for(path: str) -> bytes | None:
    """The Cache-Control the original forces on a path, or None to keep the handler's (the
    API, and the built-in web client's assets: immutable only under the current version)."""
    if path.startswith("/_app/immutable/"):
        return _IMMUTABLE
    if path == "/api" or path.startswith(("/api/", "/client/")):
        return None
    return b"no-cache"


def _fixed_headers(path: str) -> tuple[tuple[tuple[bytes, bytes], ...], frozenset[bytes]]:
    """The headers the edge adds to every response on ``path`` (security headers, and the
    Cache-Control of ``cache_control_for``) and the handler's headers they replace."""
    if path.startswith("/api/"):
        return SECURITY_HEADERS, _REPLACED
    cache = cache_control_for(path)
    if cache is None:
        return SECURITY_HEADERS, _REPLACED
    return (_HEADERS_IMMUTABLE if cache is _IMMUTABLE else _HEADERS_NO_CACHE), _REPLACED_WITH_CACHE


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
        self,
        app: ASGIApp,
        limiter: RateLimiter,
        resolver: ClientIpResolver,
        cors: Cors,
        ws: tuple[str, ASGIApp] | None = None,
    ) -> None:
        """``app`` serves every request except WebSocket upgrades on the path of ``ws``
        (path, endpoint), which go to that endpoint."""
        self.app = app
        self.limiter = limiter
        self.resolver = resolver
        self.cors = cors
        self.ws_path: str | None = ws[0] if ws is not None else None
        self.ws_app: ASGIApp = ws[1] if ws is not None else app

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
        scope[FACTS_KEY] = RequestFacts(client_ip)
        if not (await self.limiter.take(GLOBAL_RULE, client_ip)).allowed:
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["path"] == self.ws_path:
            await self.ws_app(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def _scan(self, scope: Scope) -> RequestFacts:  # noqa: C901  (one pass over the headers)
        """What the edge and authentication need from the request's headers, in one pass
        (forwarding headers only from a trusted proxy)."""
        client = scope.get("client")
        peer = (client[0] if client else None) or "unknown"
        trusted = self.resolver.is_trusted(peer)
        found = RequestFacts()
        cf_ip = real_ip = forwarded = None
        for key, value in scope["headers"]:
            if key == b"authorization":
                if found.authorization is None:  # the first one counts, as in the framework
                    found.authorization = value
            elif key == b"user-agent":
                if found.user_agent is None:
                    found.user_agent = value
            elif key == b"x-request-id":
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

    def _refused_now(self, scope: Scope, client_ip: str) -> _Refusal | None:
        """The error for a request the rate limits or the URL check refuse, None if it may
        go on, or ``_ASK_LIMITER`` when the limiter must be awaited (``_refused``)."""
        if scope["method"] != "OPTIONS":  # OPTIONS (Allow) costs nothing
            limiter = self.limiter
            decision = limiter.take_now(GLOBAL_RULE, client_ip)
            if decision is None:
                return _ASK_LIMITER
            if not decision.allowed:
                return _rate_limited(decision, GLOBAL_MESSAGE)
            if scope["path"] in AUTH_PATHS:
                decision = limiter.take_now(AUTH_RULE, client_ip)
                if decision is None:  # pragma: no cover - a limiter answers both or neither
                    return _ASK_LIMITER
                if not decision.allowed:
                    return _rate_limited(decision, AUTH_MESSAGE)
        return _bad_url(scope)

    async def _refused(self, scope: Scope, client_ip: str) -> _Refusal | None:
        """``_refused_now`` with a limiter that must be awaited (shared through Redis)."""
        if scope["method"] != "OPTIONS":
            decision = await self.limiter.take(GLOBAL_RULE, client_ip)
            if not decision.allowed:
                return _rate_limited(decision, GLOBAL_MESSAGE)
            if scope["path"] in AUTH_PATHS:
                decision = await self.limiter.take(AUTH_RULE, client_ip)
                if not decision.allowed:
                    return _rate_limited(decision, AUTH_MESSAGE)
        return _bad_url(scope)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self._scan(scope)
        scope[FACTS_KEY] = found
        # 64 random bits as 16 hex digits: unique enough to find a request in the log (not a
        # secret, so no system call for it)
        request_id = found.request_id or f"{random.getrandbits(64):016x}"
        scope[REQUEST_ID_KEY] = request_id
        path = scope["path"]
        method = scope["method"]
        origin = found.origin
        preflight = method == "OPTIONS" and origin is not None

        fixed, dropped = _fixed_headers(path)
        added = [*fixed, (b"x-request-id", request_id.encode())]
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
                return
            refusal = self._refused_now(scope, found.client_ip)
            if refusal is _ASK_LIMITER:
                refusal = await self._refused(scope, found.client_ip)
            if refusal is not None:
                status_code, code, message, extra = refusal
                await send_error(send_with_headers, status_code, code, message, extra)
                return
            if head:
                # a copy: the server keeps the original scope and must still see HEAD
                # (uvicorn then expects no body, whatever Content-Length says)
                scope = {**scope, "method": "GET"}
            await self.app(scope, receive, send_with_headers)
        finally:
            _log_request(method, path, status, started, request_id)


# (status, error code, message, extra headers) of a request the edge refuses
_Refusal = tuple[int, str, str, tuple[tuple[bytes, bytes], ...]]
_ASK_LIMITER: _Refusal = (0, "", "", ())  # marker: the limiter's answer must be awaited


def _rate_limited(decision: Decision, message: str) -> _Refusal:
    retry_after = (b"retry-after", str(decision.retry_after).encode())
    return 429, "rate_limited", message, (retry_after,)


def _bad_url(scope: Scope) -> _Refusal | None:
    if b"%00" in scope.get("query_string", b"") or "\x00" in scope["path"]:
        return 400, "validation_error", NUL_MESSAGE, ()
    return None


def _log_request(method: str, path: str, status: int, started: float, request_id: str) -> None:
    level = logging.DEBUG if status < 400 and path in _QUIET_PATHS else logging.INFO
    if not log.isEnabledFor(level):  # nothing more to do when the line would be dropped
        return
    elapsed_ms = (time.perf_counter() - started) * 1000
    line = f"{method} {loggable_path(path)} {status} {elapsed_ms:.1f}ms id={request_id}"
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
