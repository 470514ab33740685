"""`/api/admin/invites*`: registration invites (instance admins)."""

from __future__ import annotations

from litestar import Response, delete, get, post
from litestar.params import FromPath, JSONBody

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import errors
from chatalot.api.params import parse_uuid
from chatalot.api.responses import empty
from chatalot.protocol.api.admin import CreateInviteIn, RegistrationInviteOut
from chatalot.protocol.time import rfc3339, rfc3339_or_none
from chatalot.repositories.invites import RegistrationInviteRow
from chatalot.services import admin_invites as admin_invites_service


def _invite(row: RegistrationInviteRow) -> RegistrationInviteOut:
    return RegistrationInviteOut(
        id=str(row.id),
        code=row.code,
        created_by=str(row.created_by) if row.created_by is not None else None,
        max_uses=row.max_uses,
        used_count=row.used_count,
        expires_at=rfc3339_or_none(row.expires_at),
        created_at=rfc3339(row.created_at),
    )


@get("/api/admin/invites", responses=errors(403))
async def list_admin_invites(ctx: CtxDep, actor: ActorDep) -> list[RegistrationInviteOut]:
    return [_invite(r) for r in await admin_invites_service.list_invites(ctx, actor)]


@post("/api/admin/invites", status_code=200, responses=errors(403))
async def post_admin_invite(
    ctx: CtxDep, actor: ActorDep, data: JSONBody[CreateInviteIn]
) -> RegistrationInviteOut:
    row = await admin_invites_service.create_invite(
        ctx, actor, max_uses=data.max_uses, expires_in_hours=data.expires_in_hours
    )
    return _invite(row)


@delete("/api/admin/invites/{invite_id:str}", status_code=200, responses=errors(403, 404))
async def delete_admin_invite(
    ctx: CtxDep, actor: ActorDep, invite_id: FromPath[str]
) -> Response[bytes]:
    await admin_invites_service.delete_invite(ctx, actor, parse_uuid(invite_id, "invite id"))
    return empty()


HANDLERS = [list_admin_invites, post_admin_invite, delete_admin_invite]
