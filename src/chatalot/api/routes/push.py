"""`/api/push/*`: Web Push. ``GET /api/push/vapid-key`` (public) serves the VAPID public key
(404 when push is not configured); ``POST /api/push/subscribe`` and ``/unsubscribe`` (signed-in
users) store and remove the caller's browser subscriptions, answering 204 as the original.
Rules and messages: services/push.py."""

from __future__ import annotations

from litestar import get, post
from litestar.params import JSONBody

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import errors
from chatalot.protocol.api.push import SubscribeIn, UnsubscribeIn, VapidKeyOut
from chatalot.services import push as push_service


@get("/api/push/vapid-key", responses=errors(404))
async def get_vapid_key(ctx: CtxDep) -> VapidKeyOut:
    return VapidKeyOut(public_key=push_service.vapid_public_key(ctx))


@post("/api/push/subscribe", status_code=204)
async def post_push_subscribe(ctx: CtxDep, actor: ActorDep, data: JSONBody[SubscribeIn]) -> None:
    await push_service.subscribe(
        ctx, actor, endpoint=data.endpoint, p256dh_key=data.p256dh_key, auth_key=data.auth_key
    )


@post("/api/push/unsubscribe", status_code=204)
async def post_push_unsubscribe(
    ctx: CtxDep, actor: ActorDep, data: JSONBody[UnsubscribeIn]
) -> None:
    await push_service.unsubscribe(ctx, actor, data.endpoint)


HANDLERS = [get_vapid_key, post_push_subscribe, post_push_unsubscribe]
