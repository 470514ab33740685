"""ASGI middleware: resolve the client's address (TRUSTED_PROXIES) and apply the token buckets:
every request draws from the global bucket (50, refilled 20/s), the auth routes also from the
auth bucket (10, refilled 5/s). Over the limit: 429 ``rate_limited`` with Retry-After."""

from __future__ import annotations

from chatalot.api.auth import CLIENT_IP_KEY
from chatalot.api.client_ip import ClientIpResolver
from chatalot.api.errors import send_error
from chatalot.api.middleware import ASGIApp, Receive, Scope, Send
from chatalot.ratelimit import AUTH_RULE, GLOBAL_RULE, RateLimiter

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


class RateLimit:
    def __init__(self, app: ASGIApp, limiter: RateLimiter, resolver: ClientIpResolver) -> None:
        self.app = app
        self.limiter = limiter
        self.resolver = resolver

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        client_ip = self.resolver.from_scope(scope)
        scope[CLIENT_IP_KEY] = client_ip
        if scope["type"] == "http" and scope.get("method") == "OPTIONS":
            await self.app(scope, receive, send)  # CORS preflights cost nothing
            return
        decision = await self.limiter.take(GLOBAL_RULE, client_ip)
        message = GLOBAL_MESSAGE
        if decision.allowed and scope["path"] in AUTH_PATHS:
            decision = await self.limiter.take(AUTH_RULE, client_ip)
            message = AUTH_MESSAGE
        if decision.allowed:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        retry_after = (b"retry-after", str(decision.retry_after).encode())
        await send_error(send, 429, "rate_limited", message, (retry_after,))
