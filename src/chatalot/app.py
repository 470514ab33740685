"""The composition root: ``create_app(ctx)`` wires routes, dependencies, error handling and
middleware into one ASGI application. No logic lives here."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Litestar
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig

from chatalot.api.errors import EXCEPTION_HANDLERS
from chatalot.api.middleware import ASGIApp, RequestLog, SecurityHeaders
from chatalot.api.routes.health import get_health
from chatalot.api.routes.static import get_static
from chatalot.api.static import StaticSite
from chatalot.context import Ctx

MAX_REQUEST_BODY_BYTES = 110 * 1024 * 1024  # the original's global limit

log = logging.getLogger("chatalot_server")

ROUTE_HANDLERS: list[Any] = [get_health, get_static]


def create_litestar(ctx: Ctx, extra_handlers: list[Any] | None = None) -> Litestar:
    site = StaticSite(ctx.settings.static_files_path)

    def provide_ctx() -> Ctx:
        return ctx

    def provide_site() -> StaticSite:
        return site

    return Litestar(
        route_handlers=[*ROUTE_HANDLERS, *(extra_handlers or [])],
        dependencies={
            "ctx": Provide(provide_ctx, sync_to_thread=False, use_cache=True),
            "site": Provide(provide_site, sync_to_thread=False, use_cache=True),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=MAX_REQUEST_BODY_BYTES,
        openapi_config=OpenAPIConfig(
            title="Chatalot", version=ctx.version, path="/api/openapi", render_plugins=[]
        ),
        logging_config=None,
        debug=False,
    )


def create_app(ctx: Ctx, extra_handlers: list[Any] | None = None) -> ASGIApp:
    """The whole HTTP application: request log -> security headers -> Litestar."""
    litestar = create_litestar(ctx, extra_handlers)
    return RequestLog(SecurityHeaders(litestar))  # type: ignore[arg-type]  # Litestar is an ASGI app
