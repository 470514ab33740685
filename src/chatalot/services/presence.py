"""Who hears about a user's presence: their community mates (every user sharing at least one
community with them, at most ``MAX_MATES``, as the original). Presence itself is not stored in
the database; the realtime layer keeps it (realtime/presence.py)."""

from __future__ import annotations

from chatalot.context import Ctx
from chatalot.ids import UserId
from chatalot.repositories import memberships as memberships_repo

MAX_MATES = 5000


async def community_mates(ctx: Ctx, user_id: UserId) -> list[UserId]:
    async with ctx.db.connection() as conn:
        return await memberships_repo.list_community_mates(conn, user_id, limit=MAX_MATES)
