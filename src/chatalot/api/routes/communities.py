"""`/api/communities` (the caller's communities, creating one) and one community:
`/api/communities/{community_id}` (read, edit, delete), `.../transfer-ownership`, `.../leave`,
`.../groups` and `.../emojis`. Members and bans: community_members.py."""

from __future__ import annotations

from typing import Annotated

from litestar import Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import errors, integer_query
from chatalot.api.params import parse_int, parse_uuid
from chatalot.api.responses import empty
from chatalot.api.space_shapes import community_out, group_out
from chatalot.ids import CommunityId, UserId
from chatalot.protocol.api.communities import (
    CommunityOut,
    CreateCommunityIn,
    CustomEmojiOut,
    TransferOwnershipIn,
    UpdateCommunityIn,
)
from chatalot.protocol.api.groups import GroupOut
from chatalot.protocol.time import rfc3339
from chatalot.repositories.communities import CustomEmojiRow
from chatalot.services import communities as communities_service

MAX_OFFSET = 1_000_000_000  # larger offsets are clamped (nothing is that far)


def community_id_of(value: str) -> CommunityId:
    return CommunityId(parse_uuid(value, "community ID"))


def _emoji(row: CustomEmojiRow) -> CustomEmojiOut:
    return CustomEmojiOut(
        id=str(row.id),
        community_id=str(row.community_id),
        shortcode=row.shortcode,
        url=f"/api/emojis/{row.id}",
        content_type=row.content_type,
        uploaded_by=str(row.uploaded_by) if row.uploaded_by is not None else None,
        created_at=rfc3339(row.created_at),
    )


@get("/api/communities")
async def list_communities(
    ctx: CtxDep,
    actor: ActorDep,
    limit: Annotated[str | None, integer_query(1, 500)] = None,
    offset: Annotated[str | None, integer_query(0, None)] = None,
) -> list[CommunityOut]:
    rows = await communities_service.list_communities(
        ctx,
        actor,
        limit=parse_int(limit, "limit", default=100, low=1, high=500, clamp=True),
        offset=parse_int(offset, "offset", default=0, low=0, high=MAX_OFFSET, clamp=True),
    )
    return [community_out(r) for r in rows]


@post("/api/communities", status_code=200, responses=errors(403))
async def post_community(
    ctx: CtxDep, actor: ActorDep, data: JSONBody[CreateCommunityIn]
) -> CommunityOut:
    return community_out(await communities_service.create_community(ctx, actor, data))


@get("/api/communities/{community_id:str}", responses=errors(403, 404))
async def get_community(ctx: CtxDep, actor: ActorDep, community_id: FromPath[str]) -> CommunityOut:
    row = await communities_service.get_community(ctx, actor, community_id_of(community_id))
    return community_out(row)


@patch("/api/communities/{community_id:str}", status_code=200, responses=errors(403, 404))
async def patch_community(
    ctx: CtxDep, actor: ActorDep, community_id: FromPath[str], data: JSONBody[UpdateCommunityIn]
) -> CommunityOut:
    row = await communities_service.update_community(
        ctx, actor, community_id_of(community_id), data
    )
    return community_out(row)


@delete("/api/communities/{community_id:str}", status_code=200, responses=errors(403, 404))
async def delete_community(
    ctx: CtxDep, actor: ActorDep, community_id: FromPath[str]
) -> Response[bytes]:
    await communities_service.delete_community(ctx, actor, community_id_of(community_id))
    return empty()


@post(
    "/api/communities/{community_id:str}/transfer-ownership",
    status_code=200,
    responses=errors(403, 404),
)
async def post_transfer_community_ownership(
    ctx: CtxDep, actor: ActorDep, community_id: FromPath[str], data: JSONBody[TransferOwnershipIn]
) -> Response[bytes]:
    await communities_service.transfer_ownership(
        ctx,
        actor,
        community_id_of(community_id),
        UserId(parse_uuid(data.new_owner_id, "new_owner_id")),
    )
    return empty()


@post("/api/communities/{community_id:str}/leave", status_code=200, responses=errors(403, 404))
async def post_leave_community(
    ctx: CtxDep, actor: ActorDep, community_id: FromPath[str]
) -> Response[bytes]:
    await communities_service.leave_community(ctx, actor, community_id_of(community_id))
    return empty()


@get("/api/communities/{community_id:str}/groups", responses=errors(403, 404))
async def list_community_groups(
    ctx: CtxDep, actor: ActorDep, community_id: FromPath[str]
) -> list[GroupOut]:
    rows = await communities_service.list_community_groups(
        ctx, actor, community_id_of(community_id)
    )
    return [group_out(r) for r in rows]


@get("/api/communities/{community_id:str}/emojis", responses=errors(403, 404))
async def list_community_emojis(
    ctx: CtxDep, actor: ActorDep, community_id: FromPath[str]
) -> list[CustomEmojiOut]:
    rows = await communities_service.list_emojis(ctx, actor, community_id_of(community_id))
    return [_emoji(r) for r in rows]


HANDLERS = [
    list_communities,
    post_community,
    get_community,
    patch_community,
    delete_community,
    post_transfer_community_ownership,
    post_leave_community,
    list_community_groups,
    list_community_emojis,
]
