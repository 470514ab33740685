"""The composition root: ``create_app(ctx)`` wires routes, dependencies, error handling and
middleware into one ASGI application, and ``/ws`` (a raw ASGI endpoint, realtime/endpoint.py)
beside Litestar. No logic lives here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from litestar import Litestar
from litestar.di import Provide

from chatalot.api.auth import provide_actor, provide_meta
from chatalot.api.client_ip import ClientIpResolver
from chatalot.api.cors import Cors
from chatalot.api.errors import EXCEPTION_HANDLERS
from chatalot.api.json_body import ChatalotRequest
from chatalot.api.middleware import ASGIApp, Edge
from chatalot.api.openapi import ApiContract, openapi_config
from chatalot.api.routes import all_handlers
from chatalot.api.static import StaticSite
from chatalot.context import Ctx
from chatalot.realtime.endpoint import WS_PATH, WsEndpoint

# Request bodies are read only up to this size unless a route sets its own
# ``request_max_body_size`` (uploads do): JSON bodies are small, and a 50 MB body must not be
# read and parsed on an unauthenticated route. The original allowed 110 MiB everywhere.
MAX_REQUEST_BODY_BYTES = 1024 * 1024

log = logging.getLogger("chatalot_server")


def create_litestar(
    ctx: Ctx,
    extra_handlers: list[Any] | None = None,
    *,
    current: Callable[[], Ctx] | None = None,
) -> Litestar:
    """The Litestar app. ``current``, when given, is asked for the context on every request
    instead of using ``ctx`` (the test suite builds one app and points it at each test's
    context: building the app is most of a short test's time)."""
    if current is None:
        site = StaticSite(ctx.settings.static_files_path)

        def provide_ctx() -> Ctx:
            return ctx

        def provide_site() -> StaticSite:
            return site

        cached = True
    else:
        sites: dict[str, StaticSite] = {}

        def provide_ctx() -> Ctx:
            return current()

        def provide_site() -> StaticSite:
            path = str(current().settings.static_files_path)
            if path not in sites:
                sites[path] = StaticSite(current().settings.static_files_path)
            return sites[path]

        cached = False

    return Litestar(
        route_handlers=[*(extra_handlers or []), *all_handlers()],
        dependencies={
            "ctx": Provide(provide_ctx, sync_to_thread=False, use_cache=cached),
            "site": Provide(provide_site, sync_to_thread=False, use_cache=cached),
            "actor": Provide(provide_actor),
            "meta": Provide(provide_meta),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=MAX_REQUEST_BODY_BYTES,
        request_class=ChatalotRequest,
        openapi_config=openapi_config(ctx.version),
        plugins=[ApiContract()],
        logging_config=None,
        debug=False,
    )


def create_app(
    ctx: Ctx, extra_handlers: list[Any] | None = None, *, litestar: Litestar | None = None
) -> ASGIApp:
    """The whole HTTP application: the edge (client address, rate limits, CORS, URL checks,
    HEAD, request id, security headers, request log; api/middleware.py) -> ``/ws`` WebSocket
    upgrades to the realtime endpoint, everything else to Litestar (``litestar``: one already
    built, see ``create_litestar``)."""
    if litestar is None:
        litestar = create_litestar(ctx, extra_handlers)
    resolver = ClientIpResolver(ctx.settings.trusted_proxies)
    cors = Cors(ctx.settings.cors_origins)
    ws = WsEndpoint(ctx)
    return Edge(litestar, ctx.limiter, resolver, cors, ws=(WS_PATH, ws))  # type: ignore[arg-type]
