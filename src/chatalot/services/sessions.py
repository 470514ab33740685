"""A user's sessions (one per signed-in device): list, end one, end all."""

from __future__ import annotations

import uuid

from chatalot.context import Ctx
from chatalot.errors import NotFound
from chatalot.repositories import sessions as sessions_repo
from chatalot.repositories.sessions import SessionRow
from chatalot.services.actor import Actor
from chatalot.services.audit import record_audit


async def list_sessions(ctx: Ctx, actor: Actor) -> list[SessionRow]:
    async with ctx.db.connection() as conn:
        return await sessions_repo.list_active_sessions(conn, actor.user_id, ctx.clock.now())


async def revoke_session(ctx: Ctx, actor: Actor, session_id: uuid.UUID) -> None:
    """Ends one of the caller's sessions (its whole refresh chain)."""
    now = ctx.clock.now()
    async with ctx.db.transaction("revoke_session") as tx:
        row = await sessions_repo.select_active_session(
            tx.conn, user_id=actor.user_id, session_id=session_id, now=now
        )
        if row is None:
            raise NotFound("session not found")
        await sessions_repo.revoke_family(tx.conn, row.family_id, now, "logout")
        await record_audit(
            tx.conn,
            "session_revoked",
            user_id=actor.user_id,
            meta=actor.meta,
            metadata={"session_id": str(session_id)},
        )


async def logout_all(ctx: Ctx, actor: Actor) -> int:
    """Ends every session of the caller, this one included; returns how many."""
    async with ctx.db.transaction("logout_all") as tx:
        count = await sessions_repo.revoke_user_sessions(
            tx.conn, actor.user_id, ctx.clock.now(), "logout_all"
        )
        await record_audit(tx.conn, "logout_all", user_id=actor.user_id, meta=actor.meta)
    return count
