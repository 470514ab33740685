"""Community invites: ``/api/communities/{cid}/invites*`` (inside the community gate) and
``/api/community-invites/{code}`` (any signed-in user)."""

from __future__ import annotations

from litestar import Response, delete, get, post
from litestar.params import FromPath, JSONBody

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import errors
from chatalot.api.params import parse_uuid
from chatalot.api.responses import empty
from chatalot.ids import CommunityId
from chatalot.protocol.api.communities import CommunityInviteOut
from chatalot.protocol.api.community_invites import (
    AcceptCommunityInviteOut,
    CommunityInviteInfoOut,
    CreateCommunityInviteIn,
)
from chatalot.protocol.time import rfc3339, rfc3339_or_none
from chatalot.repositories.community_invites import CommunityInviteRow
from chatalot.services import community_invites as invites_service


def _community_id(value: str) -> CommunityId:
    return CommunityId(parse_uuid(value, "community ID"))


def _invite(row: CommunityInviteRow) -> CommunityInviteOut:
    return CommunityInviteOut(
        id=str(row.id),
        code=row.code,
        community_id=str(row.community_id),
        max_uses=row.max_uses,
        used_count=row.used_count,
        expires_at=rfc3339_or_none(row.expires_at),
        created_at=rfc3339(row.created_at),
    )


@get("/api/communities/{community_id:str}/invites", responses=errors(403, 404))
async def list_community_invites(
    ctx: CtxDep, actor: ActorDep, community_id: FromPath[str]
) -> list[CommunityInviteOut]:
    rows = await invites_service.list_invites(ctx, actor, _community_id(community_id))
    return [_invite(r) for r in rows]


@post("/api/communities/{community_id:str}/invites", status_code=200, responses=errors(403, 404))
async def post_community_invite(
    ctx: CtxDep,
    actor: ActorDep,
    community_id: FromPath[str],
    data: JSONBody[CreateCommunityInviteIn],
) -> CommunityInviteOut:
    row = await invites_service.create_invite(
        ctx,
        actor,
        _community_id(community_id),
        max_uses=data.max_uses,
        expires_in_hours=data.expires_in_hours,
    )
    return _invite(row)


@delete(
    "/api/communities/{community_id:str}/invites/{invite_id:str}",
    status_code=200,
    responses=errors(403, 404),
)
async def delete_community_invite(
    ctx: CtxDep, actor: ActorDep, community_id: FromPath[str], invite_id: FromPath[str]
) -> Response[bytes]:
    await invites_service.revoke_invite(
        ctx, actor, _community_id(community_id), parse_uuid(invite_id, "invite id")
    )
    return empty()


@get("/api/community-invites/{code:str}", responses=errors(404))
async def get_community_invite(
    ctx: CtxDep, actor: ActorDep, code: FromPath[str]
) -> CommunityInviteInfoOut:
    info = await invites_service.invite_info(ctx, actor, code)
    return CommunityInviteInfoOut(
        community_name=info.community_name,
        community_description=info.community_description,
        member_count=info.member_count,
        code=info.code,
    )


@post("/api/community-invites/{code:str}/accept", status_code=200, responses=errors(403, 404, 409))
async def post_accept_community_invite(
    ctx: CtxDep, actor: ActorDep, code: FromPath[str]
) -> AcceptCommunityInviteOut:
    accepted = await invites_service.accept_invite(ctx, actor, code)
    return AcceptCommunityInviteOut(
        community_id=str(accepted.community_id), community_name=accepted.community_name
    )


HANDLERS = [
    list_community_invites,
    post_community_invite,
    delete_community_invite,
    get_community_invite,
    post_accept_community_invite,
]
