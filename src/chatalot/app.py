"""The composition root: ``create_app(ctx)`` wires routes, dependencies, error handling and
middleware into one ASGI application. No logic lives here."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig

from chatalot.api.auth import provide_actor, provide_meta
from chatalot.api.client_ip import ClientIpResolver
from chatalot.api.errors import EXCEPTION_HANDLERS
from chatalot.api.middleware import ASGIApp, RequestLog, SecurityHeaders
from chatalot.api.ratelimit import RateLimit
from chatalot.api.routes import all_handlers
from chatalot.api.static import StaticSite
from chatalot.context import Ctx

MAX_REQUEST_BODY_BYTES = 110 * 1024 * 1024  # the original's global limit

log = logging.getLogger("chatalot_server")


def create_litestar(ctx: Ctx, extra_handlers: list[Any] | None = None) -> Litestar:
    site = StaticSite(ctx.settings.static_files_path)

    def provide_ctx() -> Ctx:
        return ctx

    def provide_site() -> StaticSite:
        return site

    return Litestar(
        route_handlers=[*(extra_handlers or []), *all_handlers()],
        dependencies={
            "ctx": Provide(provide_ctx, sync_to_thread=False, use_cache=True),
            "site": Provide(provide_site, sync_to_thread=False, use_cache=True),
            "actor": Provide(provide_actor),
            "meta": Provide(provide_meta),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=MAX_REQUEST_BODY_BYTES,
        cors_config=CORSConfig(
            allow_origins=list(ctx.settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["content-type", "authorization"],
            allow_credentials=False,
        ),
        openapi_config=OpenAPIConfig(
            title="Chatalot", version=ctx.version, path="/api/openapi", render_plugins=[]
        ),
        logging_config=None,
        debug=False,
    )


def create_app(ctx: Ctx, extra_handlers: list[Any] | None = None) -> ASGIApp:
    """The whole HTTP application: request log -> security headers -> rate limits -> Litestar."""
    litestar = create_litestar(ctx, extra_handlers)
    resolver = ClientIpResolver(ctx.settings.trusted_proxies)
    limited = RateLimit(litestar, ctx.limiter, resolver)  # type: ignore[arg-type]  # ASGI app
    return RequestLog(SecurityHeaders(limited))
