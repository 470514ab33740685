"""`POST /api/messages/schedule` (members of the channel), `GET /api/messages/scheduled` and
`DELETE /api/messages/scheduled/{id}` (the caller's own). Delivery is a background job
(services/scheduled_delivery.py)."""

from __future__ import annotations

from litestar import Response, delete, get, post
from litestar.params import FromPath, JSONBody

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import errors
from chatalot.api.params import parse_uuid
from chatalot.api.responses import empty
from chatalot.ids import ChannelId
from chatalot.protocol.api.scheduled_messages import ScheduledMessageOut, ScheduleMessageIn
from chatalot.protocol.time import rfc3339
from chatalot.repositories.scheduled_messages import ScheduledRow
from chatalot.services import scheduled_messages as scheduled_service


def _scheduled(row: ScheduledRow) -> ScheduledMessageOut:
    return ScheduledMessageOut(
        id=str(row.id),
        channel_id=str(row.channel_id),
        scheduled_for=rfc3339(row.scheduled_for),
        created_at=rfc3339(row.created_at),
        content_preview=row.content_preview,
    )


@post("/api/messages/schedule", status_code=200, responses=errors(403))
async def post_schedule(
    ctx: CtxDep, actor: ActorDep, data: JSONBody[ScheduleMessageIn]
) -> ScheduledMessageOut:
    row = await scheduled_service.schedule_message(
        ctx,
        actor,
        ChannelId(parse_uuid(data.channel_id, "channel_id")),
        ciphertext=data.ciphertext,
        nonce=data.nonce,
        scheduled_for=data.scheduled_for,
        content_preview=data.content_preview,
    )
    return _scheduled(row)


@get("/api/messages/scheduled")
async def list_scheduled(ctx: CtxDep, actor: ActorDep) -> list[ScheduledMessageOut]:
    return [_scheduled(r) for r in await scheduled_service.list_scheduled(ctx, actor)]


@delete("/api/messages/scheduled/{scheduled_id:str}", status_code=200, responses=errors(404))
async def delete_scheduled(
    ctx: CtxDep, actor: ActorDep, scheduled_id: FromPath[str]
) -> Response[bytes]:
    await scheduled_service.cancel_scheduled(
        ctx, actor, parse_uuid(scheduled_id, "scheduled message id")
    )
    return empty()


HANDLERS = [post_schedule, list_scheduled, delete_scheduled]
