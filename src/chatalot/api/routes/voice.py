"""`GET /api/voice/turn-credentials` (user): fresh short-lived TURN credentials
(services/turn.py). Voice itself (joining, leaving, WebRTC signalling) is on the WebSocket."""

from __future__ import annotations

from litestar import get
from litestar.datastructures import CacheControlHeader

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import errors
from chatalot.protocol.api.auth import TurnCredentialsOut
from chatalot.services import turn as turn_service


@get(
    "/api/voice/turn-credentials",
    responses=errors(404),
    cache_control=CacheControlHeader(no_store=True),
    description="TURN credentials for the caller, valid for `ttl` seconds: `username` is "
    '`"<unix expiry>:<user id>"`, `credential` is base64(HMAC-SHA1(TURN_SHARED_SECRET, '
    "username)) (the TURN REST scheme of coturn's `use-auth-secret`). 404 `not_found` when "
    "the server has no TURN_SHARED_SECRET / TURN_URIS.",
)
async def get_turn_credentials(ctx: CtxDep, actor: ActorDep) -> TurnCredentialsOut:
    credentials = turn_service.turn_credentials(ctx, actor.user_id)
    return TurnCredentialsOut(
        username=credentials.username,
        credential=credentials.credential,
        ttl=credentials.ttl,
        uris=list(credentials.uris),
    )


HANDLERS = [get_turn_credentials]
