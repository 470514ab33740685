"""Checking an access token, for the HTTP routes (api/auth.py) and the WebSocket (realtime/),
and the one database check a token gets: on its first request to this process."""

from __future__ import annotations

from chatalot.context import Ctx
from chatalot.ids import UserId
from chatalot.repositories import sessions as sessions_repo
from chatalot.security.tokens import AccessClaims, InvalidToken
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


async def verify_token(ctx: Ctx, token: str) -> AccessClaims | None:
    """A valid, unexpired access token of a user who is not suspended and whose session has
    not ended; the database is asked once per new token. None when refused."""
    first_sight = not ctx.tokens.is_cached(token)
    try:
        claims = ctx.tokens.verify_access_token(token)
    except InvalidToken:
        return None
    if ctx.suspensions.is_suspended(claims.user_id):
        return None
    if claims.session_id is not None and ctx.revoked_sessions.is_revoked(claims.session_id):
        return None
    if first_sight and not await check_token(ctx, claims):
        ctx.tokens.forget(token)
        return None
    return claims
