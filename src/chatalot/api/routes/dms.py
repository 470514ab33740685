"""`/api/dms`: the caller's direct-message channels, and get-or-create of one."""

from __future__ import annotations

from litestar import get, post
from litestar.params import JSONBody

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import errors
from chatalot.api.params import parse_uuid
from chatalot.api.shapes import user_public
from chatalot.api.space_shapes import channel_out
from chatalot.protocol.api.channels import CreateDmIn, DmChannelOut
from chatalot.repositories.dms import DmRow
from chatalot.services import dms as dms_service


def _dm(row: DmRow) -> DmChannelOut:
    return DmChannelOut(channel=channel_out(row.channel), other_user=user_public(row.other_user))


@get("/api/dms")
async def list_dms(ctx: CtxDep, actor: ActorDep) -> list[DmChannelOut]:
    return [_dm(d) for d in await dms_service.list_dms(ctx, actor)]


@post("/api/dms", status_code=200, responses=errors(403, 404))
async def post_dm(ctx: CtxDep, actor: ActorDep, data: JSONBody[CreateDmIn]) -> DmChannelOut:
    row = await dms_service.get_or_create_dm(
        ctx, actor, parse_uuid(data.target_user_id, "target_user_id")
    )
    return _dm(row)


HANDLERS = [list_dms, post_dm]
