"""`/api/account/sessions`, `/api/account/logout-all`: the caller's signed-in devices."""

from __future__ import annotations

from litestar import Response, delete, get, post
from litestar.params import FromPath

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import errors
from chatalot.api.params import parse_uuid
from chatalot.api.responses import empty
from chatalot.protocol.api.sessions import LogoutAllOut, SessionOut
from chatalot.protocol.time import rfc3339
from chatalot.services import sessions as sessions_service


@get("/api/account/sessions")
async def list_sessions(ctx: CtxDep, actor: ActorDep) -> list[SessionOut]:
    rows = await sessions_service.list_sessions(ctx, actor)
    return [
        SessionOut(
            id=str(r.id),
            device_name=r.device_name,
            ip_address=r.ip_address,
            created_at=rfc3339(r.created_at),
            expires_at=rfc3339(r.expires_at),
            current=r.family_id == actor.session_id,
        )
        for r in rows
    ]


@delete("/api/account/sessions/{session_id:str}", status_code=200, responses=errors(404))
async def delete_session(
    ctx: CtxDep, actor: ActorDep, session_id: FromPath[str]
) -> Response[bytes]:
    await sessions_service.revoke_session(ctx, actor, parse_uuid(session_id, "session id"))
    return empty()


@post("/api/account/logout-all", status_code=200)
async def post_logout_all(ctx: CtxDep, actor: ActorDep) -> LogoutAllOut:
    return LogoutAllOut(revoked_count=await sessions_service.logout_all(ctx, actor))


HANDLERS = [list_sessions, delete_session, post_logout_all]
