"""`/api/account/*`: the caller's own account (profile, password, preferences, recovery code,
deletion). Images are in routes/avatars.py, sessions in routes/sessions.py."""

from __future__ import annotations

from litestar import Response, delete, get, post, put
from litestar.params import JSONBody

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import errors
from chatalot.api.responses import empty
from chatalot.api.shapes import user_public
from chatalot.protocol.api.account import (
    DeleteAccountIn,
    PasswordIn,
    PreferencesIn,
    PreferencesOut,
    ProfileIn,
)
from chatalot.protocol.api.auth import RecoveryCodeOut
from chatalot.protocol.api.users import UserPublic
from chatalot.services import accounts as accounts_service


@get("/api/account/me")
async def get_me(ctx: CtxDep, actor: ActorDep) -> UserPublic:
    return user_public(await accounts_service.get_me(ctx, actor))


@put("/api/account/password", status_code=200)
async def put_password(ctx: CtxDep, actor: ActorDep, data: JSONBody[PasswordIn]) -> Response[bytes]:
    await accounts_service.change_password(ctx, actor, data.current_password, data.new_password)
    return empty()


@put("/api/account/profile", status_code=200, responses=errors(404))
async def put_profile(ctx: CtxDep, actor: ActorDep, data: JSONBody[ProfileIn]) -> UserPublic:
    return user_public(await accounts_service.update_profile(ctx, actor, data))


@delete("/api/account", status_code=200)
async def delete_account(
    ctx: CtxDep, actor: ActorDep, data: JSONBody[DeleteAccountIn]
) -> Response[bytes]:
    await accounts_service.delete_account(ctx, actor, data.password)
    return empty()


@post("/api/account/regenerate-recovery-code", status_code=200)
async def post_regenerate_recovery_code(ctx: CtxDep, actor: ActorDep) -> RecoveryCodeOut:
    return RecoveryCodeOut(
        recovery_code=await accounts_service.regenerate_recovery_code(ctx, actor)
    )


@get("/api/account/preferences")
async def get_preferences(ctx: CtxDep, actor: ActorDep) -> PreferencesOut:
    return PreferencesOut(preferences=await accounts_service.get_preferences(ctx, actor))


@put("/api/account/preferences", status_code=200)
async def put_preferences(
    ctx: CtxDep, actor: ActorDep, data: JSONBody[PreferencesIn]
) -> PreferencesOut:
    merged = await accounts_service.update_preferences(ctx, actor, data.preferences)
    return PreferencesOut(preferences=merged)


HANDLERS = [
    get_me,
    put_password,
    put_profile,
    delete_account,
    post_regenerate_recovery_code,
    get_preferences,
    put_preferences,
]
