"""`/api/users/*`: finding users, and the caller's blocks (`/api/reports` is routes/reports.py)."""

from __future__ import annotations

from typing import Annotated

from litestar import Response, get, post
from litestar.params import FromPath, JSONBody

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import described_query, errors, required_query
from chatalot.api.params import parse_uuid
from chatalot.api.responses import empty
from chatalot.api.shapes import user_public
from chatalot.protocol.api.users import UserPublic
from chatalot.protocol.api.users_api import BlockedUserOut, BlockIn
from chatalot.protocol.time import rfc3339
from chatalot.services import blocks as blocks_service
from chatalot.services import users as users_service

SEARCH_QUERY = described_query("2-256 bytes of UTF-8.", minLength=2, maxLength=256 // 4)


@get("/api/users/search", opt=required_query("q"))
async def search_users(
    ctx: CtxDep, actor: ActorDep, q: Annotated[str | None, SEARCH_QUERY] = None
) -> list[UserPublic]:
    return [user_public(u) for u in await users_service.search_users(ctx, actor, q)]


@get("/api/users/blocked")
async def list_blocked(ctx: CtxDep, actor: ActorDep) -> list[BlockedUserOut]:
    return [
        BlockedUserOut(blocked_id=str(b.blocked_id), created_at=rfc3339(b.created_at))
        for b in await blocks_service.list_blocked(ctx, actor)
    ]


@get("/api/users/{user_id:str}", responses=errors(404))
async def get_user(ctx: CtxDep, actor: ActorDep, user_id: FromPath[str]) -> UserPublic:
    user = await users_service.get_user(ctx, actor, parse_uuid(user_id, "user id"))
    return user_public(user)


@post("/api/users/block", status_code=200, responses=errors(404))
async def post_block(ctx: CtxDep, actor: ActorDep, data: JSONBody[BlockIn]) -> Response[bytes]:
    await blocks_service.block_user(ctx, actor, parse_uuid(data.user_id, "user id"))
    return empty()


@post("/api/users/unblock/{user_id:str}", status_code=200, responses=errors(404))
async def post_unblock(ctx: CtxDep, actor: ActorDep, user_id: FromPath[str]) -> Response[bytes]:
    await blocks_service.unblock_user(ctx, actor, parse_uuid(user_id, "user id"))
    return empty()


HANDLERS = [search_users, list_blocked, get_user, post_block, post_unblock]
