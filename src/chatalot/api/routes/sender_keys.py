"""`POST` and `GET /api/channels/{id}/sender-keys`: channel members' sender-key
distributions (group end-to-end encryption)."""

from __future__ import annotations

from litestar import get, post
from litestar.params import FromPath, JSONBody

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import errors
from chatalot.api.params import parse_uuid
from chatalot.ids import ChannelId
from chatalot.protocol.api.keys import SenderKeyDistributionOut, SenderKeyIn
from chatalot.protocol.time import rfc3339
from chatalot.repositories.sender_keys import SenderKeyRow
from chatalot.services import sender_keys as sender_keys_service


def _distribution(row: SenderKeyRow) -> SenderKeyDistributionOut:
    return SenderKeyDistributionOut(
        id=str(row.id),
        channel_id=str(row.channel_id),
        user_id=str(row.user_id),
        chain_id=row.chain_id,
        distribution=row.distribution,
        created_at=rfc3339(row.created_at),
    )


@post("/api/channels/{channel_id:str}/sender-keys", status_code=200, responses=errors(403))
async def post_sender_key(
    ctx: CtxDep, actor: ActorDep, channel_id: FromPath[str], data: JSONBody[SenderKeyIn]
) -> SenderKeyDistributionOut:
    row = await sender_keys_service.upload_sender_key(
        ctx,
        actor,
        ChannelId(parse_uuid(channel_id, "channel id")),
        chain_id=data.chain_id,
        distribution=data.distribution,
    )
    return _distribution(row)


@get("/api/channels/{channel_id:str}/sender-keys", responses=errors(403))
async def list_sender_keys(
    ctx: CtxDep, actor: ActorDep, channel_id: FromPath[str]
) -> list[SenderKeyDistributionOut]:
    rows = await sender_keys_service.list_sender_keys(
        ctx, actor, ChannelId(parse_uuid(channel_id, "channel id"))
    )
    return [_distribution(r) for r in rows]


HANDLERS = [post_sender_key, list_sender_keys]
