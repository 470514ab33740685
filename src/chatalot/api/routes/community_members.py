"""A community's members and bans: `/api/communities/{community_id}/members` (list, role,
nickname, kick) and `/api/communities/{community_id}/bans` (list, ban, unban)."""

from __future__ import annotations

from typing import Annotated

from litestar import Response, delete, get, post, put
from litestar.params import FromPath, JSONBody

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import errors, integer_query
from chatalot.api.params import parse_int, parse_uuid
from chatalot.api.responses import empty
from chatalot.api.routes.communities import MAX_OFFSET, community_id_of
from chatalot.ids import UserId
from chatalot.protocol.api.communities import (
    BanMemberIn,
    CommunityBanOut,
    CommunityMemberOut,
    SetMemberRoleIn,
    SetNicknameIn,
)
from chatalot.protocol.time import rfc3339
from chatalot.services import community_members as members_service


def _user_id(value: str) -> UserId:
    return UserId(parse_uuid(value, "user id"))


@get("/api/communities/{community_id:str}/members", responses=errors(403, 404))
async def list_community_members(
    ctx: CtxDep,
    actor: ActorDep,
    community_id: FromPath[str],
    limit: Annotated[str | None, integer_query(1, 500)] = None,
    offset: Annotated[str | None, integer_query(0, None)] = None,
) -> list[CommunityMemberOut]:
    rows = await members_service.list_members(
        ctx,
        actor,
        community_id_of(community_id),
        limit=parse_int(limit, "limit", default=200, low=1, high=500, clamp=True),
        offset=parse_int(offset, "offset", default=0, low=0, high=MAX_OFFSET, clamp=True),
    )
    return [
        CommunityMemberOut(
            user_id=str(r.user_id),
            username=r.username,
            display_name=r.display_name,
            avatar_url=r.avatar_url,
            role=r.role,
            nickname=r.nickname,
            joined_at=rfc3339(r.joined_at),
        )
        for r in rows
    ]


@put(
    "/api/communities/{community_id:str}/members/{user_id:str}/role",
    status_code=200,
    responses=errors(403, 404),
)
async def put_community_member_role(
    ctx: CtxDep,
    actor: ActorDep,
    community_id: FromPath[str],
    user_id: FromPath[str],
    data: JSONBody[SetMemberRoleIn],
) -> Response[bytes]:
    await members_service.set_member_role(
        ctx, actor, community_id_of(community_id), _user_id(user_id), data.role
    )
    return empty()


@put(
    "/api/communities/{community_id:str}/members/{user_id:str}/nickname",
    status_code=200,
    responses=errors(403, 404),
)
async def put_community_nickname(
    ctx: CtxDep,
    actor: ActorDep,
    community_id: FromPath[str],
    user_id: FromPath[str],
    data: JSONBody[SetNicknameIn],
) -> Response[bytes]:
    await members_service.set_nickname(
        ctx, actor, community_id_of(community_id), _user_id(user_id), data.nickname
    )
    return empty()


@delete(
    "/api/communities/{community_id:str}/members/{user_id:str}",
    status_code=200,
    responses=errors(403, 404),
)
async def delete_community_member(
    ctx: CtxDep, actor: ActorDep, community_id: FromPath[str], user_id: FromPath[str]
) -> Response[bytes]:
    await members_service.kick_member(ctx, actor, community_id_of(community_id), _user_id(user_id))
    return empty()


@get("/api/communities/{community_id:str}/bans", responses=errors(403, 404))
async def list_community_bans(
    ctx: CtxDep, actor: ActorDep, community_id: FromPath[str]
) -> list[CommunityBanOut]:
    rows = await members_service.list_bans(ctx, actor, community_id_of(community_id))
    return [
        CommunityBanOut(
            user_id=str(r.user_id),
            username=r.username,
            display_name=r.display_name,
            reason=r.reason,
            # the original serialised this one timestamp with serde's default: "Z", not "+00:00"
            created_at=rfc3339(r.created_at).removesuffix("+00:00") + "Z",
        )
        for r in rows
    ]


@post(
    "/api/communities/{community_id:str}/bans/{user_id:str}",
    status_code=200,
    responses=errors(403, 404),
)
async def post_community_ban(
    ctx: CtxDep,
    actor: ActorDep,
    community_id: FromPath[str],
    user_id: FromPath[str],
    data: JSONBody[BanMemberIn],
) -> Response[bytes]:
    await members_service.ban_member(
        ctx, actor, community_id_of(community_id), _user_id(user_id), data.reason
    )
    return empty()


@delete(
    "/api/communities/{community_id:str}/bans/{user_id:str}",
    status_code=200,
    responses=errors(403, 404),
)
async def delete_community_ban(
    ctx: CtxDep, actor: ActorDep, community_id: FromPath[str], user_id: FromPath[str]
) -> Response[bytes]:
    await members_service.unban_member(ctx, actor, community_id_of(community_id), _user_id(user_id))
    return empty()


HANDLERS = [
    list_community_members,
    put_community_member_role,
    put_community_nickname,
    delete_community_member,
    list_community_bans,
    post_community_ban,
    delete_community_ban,
]
