"""`/api/admin/users*`: instance admins managing accounts (the owner for admin flags)."""

from __future__ import annotations

from typing import Annotated

from litestar import Response, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import errors, integer_query
from chatalot.api.params import parse_int, parse_uuid
from chatalot.api.responses import empty
from chatalot.ids import UserId
from chatalot.protocol.api.admin import (
    AdminUserOut,
    MembershipOut,
    ResetPasswordIn,
    SetAdminIn,
    SuspendIn,
)
from chatalot.protocol.time import rfc3339, rfc3339_or_none
from chatalot.repositories.admin_users import MembershipRow
from chatalot.services import admin_users as admin_users_service
from chatalot.services.admin_users import AdminUserEntry

MAX_OFFSET = 1_000_000_000


def _membership(row: MembershipRow) -> MembershipOut:
    return MembershipOut(id=str(row.id), name=row.name, role=row.role)


def _admin_user(entry: AdminUserEntry) -> AdminUserOut:
    user = entry.user
    return AdminUserOut(
        id=str(user.id),
        username=user.username,
        display_name=user.display_name,
        email=user.email,
        avatar_url=user.avatar_url,
        is_admin=user.is_admin,
        is_owner=user.is_owner,
        suspended_at=rfc3339_or_none(user.suspended_at),
        suspended_reason=user.suspended_reason,
        created_at=rfc3339(user.created_at),
        groups=[_membership(g) for g in entry.groups],
        communities=[_membership(c) for c in entry.communities],
    )


def _user_id(value: str) -> UserId:
    return UserId(parse_uuid(value, "user id"))


@get("/api/admin/users", responses=errors(403))
async def list_admin_users(
    ctx: CtxDep,
    actor: ActorDep,
    search: FromQuery[str | None] = None,
    limit: Annotated[str | None, integer_query(None, None, "clamped to 1-100")] = None,
    offset: Annotated[str | None, integer_query(0, MAX_OFFSET)] = None,
) -> list[AdminUserOut]:
    """``limit`` is clamped to 1..100 (default 50); a negative ``offset`` is a 400."""
    wanted = parse_int(limit, "limit", default=50, low=1, high=100, clamp=True)
    skip = parse_int(offset, "offset", default=0, low=0, high=MAX_OFFSET)
    entries = await admin_users_service.list_users(
        ctx, actor, search=search, limit=wanted, offset=skip
    )
    return [_admin_user(e) for e in entries]


@post("/api/admin/users/{user_id:str}/suspend", status_code=200, responses=errors(403, 404))
async def post_suspend_user(
    ctx: CtxDep, actor: ActorDep, user_id: FromPath[str], data: JSONBody[SuspendIn]
) -> Response[bytes]:
    await admin_users_service.suspend_user(ctx, actor, _user_id(user_id), data.reason)
    return empty()


@post("/api/admin/users/{user_id:str}/unsuspend", status_code=200, responses=errors(403, 404))
async def post_unsuspend_user(
    ctx: CtxDep, actor: ActorDep, user_id: FromPath[str]
) -> Response[bytes]:
    await admin_users_service.unsuspend_user(ctx, actor, _user_id(user_id))
    return empty()


@delete("/api/admin/users/{user_id:str}", status_code=200, responses=errors(403, 404))
async def delete_admin_user(
    ctx: CtxDep, actor: ActorDep, user_id: FromPath[str]
) -> Response[bytes]:
    await admin_users_service.delete_user(ctx, actor, _user_id(user_id))
    return empty()


@put("/api/admin/users/{user_id:str}/admin", status_code=200, responses=errors(403, 404))
async def put_user_admin(
    ctx: CtxDep, actor: ActorDep, user_id: FromPath[str], data: JSONBody[SetAdminIn]
) -> Response[bytes]:
    await admin_users_service.set_admin(ctx, actor, _user_id(user_id), data.is_admin)
    return empty()


@put("/api/admin/users/{user_id:str}/password", status_code=200, responses=errors(403, 404))
async def put_user_password(
    ctx: CtxDep, actor: ActorDep, user_id: FromPath[str], data: JSONBody[ResetPasswordIn]
) -> Response[bytes]:
    await admin_users_service.reset_password(ctx, actor, _user_id(user_id), data.new_password)
    return empty()


HANDLERS = [
    list_admin_users,
    post_suspend_user,
    post_unsuspend_user,
    delete_admin_user,
    put_user_admin,
    put_user_password,
]
