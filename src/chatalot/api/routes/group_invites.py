"""Group invites: ``/api/groups/{group_id}/invites*`` (grp-admin+) and ``/api/invites/{code}``
(any signed-in user)."""

from __future__ import annotations

from litestar import Response, delete, get, post
from litestar.params import FromPath, JSONBody

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import errors
from chatalot.api.params import parse_uuid
from chatalot.api.responses import empty
from chatalot.ids import GroupId
from chatalot.protocol.api.groups import (
    AcceptGroupInviteOut,
    CreateGroupInviteIn,
    GroupInviteInfoOut,
    GroupInviteOut,
)
from chatalot.protocol.time import rfc3339, rfc3339_or_none
from chatalot.repositories.group_invites import GroupInviteRow
from chatalot.services import group_invites as invites_service


def _group_id(value: str) -> GroupId:
    return GroupId(parse_uuid(value, "group id"))


def _invite(row: GroupInviteRow) -> GroupInviteOut:
    return GroupInviteOut(
        id=str(row.id),
        code=row.code,
        group_id=str(row.group_id),
        max_uses=row.max_uses,
        used_count=row.used_count,
        expires_at=rfc3339_or_none(row.expires_at),
        created_at=rfc3339(row.created_at),
    )


@get("/api/groups/{group_id:str}/invites", responses=errors(403, 404))
async def list_group_invites(
    ctx: CtxDep, actor: ActorDep, group_id: FromPath[str]
) -> list[GroupInviteOut]:
    rows = await invites_service.list_invites(ctx, actor, _group_id(group_id))
    return [_invite(r) for r in rows]


@post("/api/groups/{group_id:str}/invites", status_code=200, responses=errors(403, 404))
async def post_group_invite(
    ctx: CtxDep, actor: ActorDep, group_id: FromPath[str], data: JSONBody[CreateGroupInviteIn]
) -> GroupInviteOut:
    row = await invites_service.create_invite(
        ctx,
        actor,
        _group_id(group_id),
        max_uses=data.max_uses,
        expires_in_hours=data.expires_in_hours,
    )
    return _invite(row)


@delete(
    "/api/groups/{group_id:str}/invites/{invite_id:str}",
    status_code=200,
    responses=errors(403, 404),
)
async def delete_group_invite(
    ctx: CtxDep, actor: ActorDep, group_id: FromPath[str], invite_id: FromPath[str]
) -> Response[bytes]:
    await invites_service.revoke_invite(
        ctx, actor, _group_id(group_id), parse_uuid(invite_id, "invite id")
    )
    return empty()


@get("/api/invites/{code:str}", responses=errors(404))
async def get_group_invite(ctx: CtxDep, actor: ActorDep, code: FromPath[str]) -> GroupInviteInfoOut:
    info = await invites_service.invite_info(ctx, actor, code)
    return GroupInviteInfoOut(
        group_name=info.group_name,
        group_description=info.group_description,
        member_count=info.member_count,
        code=info.code,
    )


@post("/api/invites/{code:str}/accept", status_code=200, responses=errors(404, 409))
async def post_accept_group_invite(
    ctx: CtxDep, actor: ActorDep, code: FromPath[str]
) -> AcceptGroupInviteOut:
    accepted = await invites_service.accept_invite(ctx, actor, code)
    return AcceptGroupInviteOut(group_id=str(accepted.group_id), group_name=accepted.group_name)


HANDLERS = [
    list_group_invites,
    post_group_invite,
    delete_group_invite,
    get_group_invite,
    post_accept_group_invite,
]
