"""`POST`/`GET /api/channels/{id}/webhooks`, `PATCH`/`DELETE /api/webhooks/{id}` (the channel's
owner) and `POST /api/webhooks/execute/{token}` (public: the token is the credential)."""

from __future__ import annotations

from typing import Annotated

from litestar import Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody

from chatalot.api.deps import ActorDep, CtxDep, MetaDep
from chatalot.api.openapi import described_path, errors
from chatalot.api.params import parse_uuid
from chatalot.api.responses import empty
from chatalot.ids import ChannelId
from chatalot.protocol.api.webhooks import (
    CreateWebhookIn,
    ExecuteWebhookIn,
    UpdateWebhookIn,
    WebhookOut,
)
from chatalot.protocol.time import rfc3339
from chatalot.repositories.webhooks import WebhookRow
from chatalot.services import webhooks as webhooks_service


def webhook_out(row: WebhookRow, *, with_token: bool = False) -> WebhookOut:
    return WebhookOut(
        id=str(row.id),
        channel_id=str(row.channel_id),
        name=row.name,
        avatar_url=row.avatar_url,
        active=row.active,
        created_at=rfc3339(row.created_at),
        token=row.token if with_token else None,
    )


@post("/api/channels/{channel_id:str}/webhooks", status_code=200, responses=errors(403))
async def post_webhook(
    ctx: CtxDep, actor: ActorDep, channel_id: FromPath[str], data: JSONBody[CreateWebhookIn]
) -> WebhookOut:
    row = await webhooks_service.create_webhook(
        ctx,
        actor,
        ChannelId(parse_uuid(channel_id, "channel id")),
        name=data.name,
        avatar_url=data.avatar_url,
    )
    return webhook_out(row, with_token=True)


@get("/api/channels/{channel_id:str}/webhooks", responses=errors(403))
async def list_webhooks(
    ctx: CtxDep, actor: ActorDep, channel_id: FromPath[str]
) -> list[WebhookOut]:
    rows = await webhooks_service.list_webhooks(
        ctx, actor, ChannelId(parse_uuid(channel_id, "channel id"))
    )
    return [webhook_out(r) for r in rows]


@patch("/api/webhooks/{webhook_id:str}", responses=errors(403, 404))
async def patch_webhook(
    ctx: CtxDep, actor: ActorDep, webhook_id: FromPath[str], data: JSONBody[UpdateWebhookIn]
) -> WebhookOut:
    row = await webhooks_service.update_webhook(
        ctx,
        actor,
        parse_uuid(webhook_id, "webhook id"),
        name=data.name,
        avatar_url=data.avatar_url,
        active=data.active,
    )
    return webhook_out(row)


@delete("/api/webhooks/{webhook_id:str}", status_code=200, responses=errors(403, 404))
async def delete_webhook(
    ctx: CtxDep, actor: ActorDep, webhook_id: FromPath[str]
) -> Response[bytes]:
    await webhooks_service.delete_webhook(ctx, actor, parse_uuid(webhook_id, "webhook id"))
    return empty()


@post(
    "/api/webhooks/execute/{token:str}",
    status_code=200,
    responses=errors(403, 404),
)
async def post_execute_webhook(
    ctx: CtxDep,
    meta: MetaDep,
    token: Annotated[str, described_path("The webhook's token (64 ASCII letters and digits).")],
    data: JSONBody[ExecuteWebhookIn],
) -> Response[bytes]:
    """Public: whoever holds the token may post. One message a second per token."""
    await webhooks_service.execute_webhook(
        ctx,
        token,
        webhooks_service.ExecuteRequest(
            content=data.content, username=data.username, avatar_url=data.avatar_url
        ),
        client_ip=meta.ip,
    )
    return empty()


HANDLERS = [post_webhook, list_webhooks, patch_webhook, delete_webhook, post_execute_webhook]
