"""CORS (spec rest-api 1.13): exact-match allowed origins (``CORS_ORIGINS``; the desktop client
is ``tauri://localhost``), methods GET, POST, PUT, PATCH, DELETE, OPTIONS, request headers
``content-type`` and ``authorization`` (and the CORS-safelisted ones), no credentials.

Pure decisions for the edge (api/middleware.py), which answers preflights itself and adds the
grant to other responses of an allowed origin. Same-origin web deployments never need it."""

from __future__ import annotations

from collections.abc import Iterable

ALLOWED_METHODS = ("DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT")
# The request headers a browser may send without asking, plus the API's own.
_SAFELISTED = ("accept", "accept-language", "content-language", "content-type")
ALLOWED_HEADERS = tuple(sorted({*_SAFELISTED, "authorization", "content-type"}))
MAX_AGE_SECONDS = 600

Headers = list[tuple[bytes, bytes]]


class Cors:
    def __init__(self, origins: Iterable[str]) -> None:
        self._origins = frozenset(o.encode("latin-1") for o in origins)
        self._grant_tail: Headers = [
            (b"vary", b"Origin"),
            (b"access-control-allow-headers", ", ".join(ALLOWED_HEADERS).encode()),
            (b"access-control-allow-methods", ", ".join(ALLOWED_METHODS).encode()),
        ]

    def allows(self, origin: bytes) -> bool:
        return origin in self._origins

    def grant(self, origin: bytes) -> Headers:
        """Headers added to a response for an allowed origin."""
        return [(b"access-control-allow-origin", origin), *self._grant_tail]

    def preflight(
        self, origin: bytes, method: bytes | None, requested: bytes | None
    ) -> tuple[int, Headers, bytes]:
        """(status, headers, body) answering ``OPTIONS`` with an ``Origin``: 204 with the grant,
        or 400 ``Disallowed CORS origin, method, headers`` naming what is refused."""
        failures = []
        if method is not None and method.decode("latin-1") not in ALLOWED_METHODS:
            failures.append("method")
        if not self.allows(origin):
            failures.append("Origin")
        if requested:
            names = (h.strip().lower() for h in requested.decode("latin-1").split(","))
            if any(name and name not in ALLOWED_HEADERS for name in names):
                failures.append("headers")
        if failures:
            body = f"Disallowed CORS {', '.join(failures)}".encode()
            return 400, [(b"content-type", b"text/plain; charset=utf-8")], body
        max_age = (b"access-control-max-age", str(MAX_AGE_SECONDS).encode())
        return 204, [*self.grant(origin), max_age], b""
