"""A user's sessions (one per signed-in device, i.e. one refresh-token chain): list, end one,
end all; and the two helpers every service uses to end sessions, so that the access tokens of
an ended session stop working at once on every server process (services/revoked_sessions.py)."""

from __future__ import annotations

import uuid

from chatalot.context import Ctx
from chatalot.db.database import Tx
from chatalot.errors import NotFound
from chatalot.ids import UserId
from chatalot.repositories import sessions as sessions_repo
from chatalot.repositories.sessions import Revoked, SessionRow
from chatalot.services.actor import Actor
from chatalot.services.audit import record_audit


async def end_session_chain(ctx: Ctx, tx: Tx, family_id: uuid.UUID, reason: str) -> int:
    """Ends one chain inside ``tx``; returns how many active tokens it had."""
    revoked = await sessions_repo.revoke_family(tx.conn, family_id, ctx.clock.now(), reason)
    _forget_after_commit(ctx, tx, revoked)
    return revoked.count


async def end_user_sessions(
    ctx: Ctx, tx: Tx, user_id: UserId, reason: str, *, keep_family: uuid.UUID | None = None
) -> int:
    """Ends every chain of the user (except ``keep_family``) inside ``tx``; returns how many
    active tokens they had."""
    revoked = await sessions_repo.revoke_user_sessions(
        tx.conn, user_id, ctx.clock.now(), reason, keep_family=keep_family
    )
    _forget_after_commit(ctx, tx, revoked)
    return revoked.count


def _forget_after_commit(ctx: Ctx, tx: Tx, revoked: Revoked) -> None:
    if revoked.family_ids:
        tx.on_commit(lambda: ctx.revoked_sessions.mark(revoked.family_ids))


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
        await end_session_chain(ctx, tx, row.family_id, "logout")
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
        count = await end_user_sessions(ctx, tx, actor.user_id, "logout_all")
        await record_audit(tx.conn, "logout_all", user_id=actor.user_id, meta=actor.meta)
    return count
