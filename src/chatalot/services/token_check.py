"""The one database check an access token gets: on its first request to this process."""

from __future__ import annotations

from chatalot.context import Ctx
from chatalot.ids import UserId
from chatalot.repositories import sessions as sessions_repo
from chatalot.security.tokens import AccessClaims
from chatalot.services.suspensions import account_usable


async def check_token(ctx: Ctx, claims: AccessClaims) -> bool:
    """False when the token's account no longer exists or is suspended, or its session (the
    ``sid`` chain) has ended; the in-memory registries are corrected to match."""
    async with ctx.db.connection() as conn:
        if not await account_usable(conn, ctx.suspensions, UserId(claims.user_id)):
            return False
        if claims.session_id is None:
            return True
        if await sessions_repo.exists_live_family(conn, claims.session_id):
            return True
    ctx.revoked_sessions.mark([claims.session_id])
    return False
