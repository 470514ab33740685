"""`GET /api/channels/unread` (the caller's unread counts) and
`GET /api/channels/{id}/read-cursors`."""

from __future__ import annotations

from litestar import get
from litestar.params import FromPath

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import errors
from chatalot.api.params import parse_uuid
from chatalot.ids import ChannelId
from chatalot.protocol.api.unread import ReadCursorOut, UnreadCountOut
from chatalot.protocol.time import rfc3339
from chatalot.services import unread as unread_service


@get("/api/channels/unread")
async def list_unread_counts(ctx: CtxDep, actor: ActorDep) -> list[UnreadCountOut]:
    rows = await unread_service.list_unread_counts(ctx, actor)
    return [UnreadCountOut(channel_id=str(r.channel_id), unread_count=r.unread_count) for r in rows]


@get("/api/channels/{channel_id:str}/read-cursors", responses=errors(403, 404))
async def list_read_cursors(
    ctx: CtxDep, actor: ActorDep, channel_id: FromPath[str]
) -> list[ReadCursorOut]:
    channel = ChannelId(parse_uuid(channel_id, "channel id"))
    rows = await unread_service.list_read_cursors(ctx, actor, channel)
    return [
        ReadCursorOut(
            user_id=str(r.user_id),
            last_read_message_id=str(r.last_read_message_id)
            if r.last_read_message_id is not None
            else None,
            last_read_at=rfc3339(r.last_read_at),
        )
        for r in rows
    ]


HANDLERS = [list_unread_counts, list_read_cursors]
