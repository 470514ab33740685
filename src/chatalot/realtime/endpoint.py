"""``/ws`` as a raw ASGI endpoint (dispatched by ``chatalot.app.create_app`` before Litestar,
behind the edge, which rate-limits upgrades and sets the client address): accept the upgrade,
then run the session (realtime/session.py). Raw ASGI on purpose: the framework's WebSocket
wrapper costs about a quarter of the fan-out ceiling (perf-notes)."""

from __future__ import annotations

from chatalot.api import web_client
from chatalot.api.middleware import Receive, Scope, Send
from chatalot.context import Ctx
from chatalot.realtime.session import Session
from chatalot.realtime.version import ServerVersion
from chatalot.realtime.ws_protocol import ABORT, DIRECT_WRITE

WS_PATH = "/ws"


class WsEndpoint:
    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.version = ServerVersion(
            ctx.settings.static_files_path, web_client.builtin_client().version
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        extensions = scope.get("extensions") or {}
        session = Session(
            self.ctx,
            self.ctx.hub,
            self.version,
            receive,
            send,
            direct_write=extensions.get(DIRECT_WRITE),
            abort=extensions.get(ABORT),
        )
        # The request headers served the edge (client address, limits); the session needs
        # none of them, and they would stay in memory as long as the connection.
        scope["headers"] = []
        await session.run()
