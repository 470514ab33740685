"""The one database check an access token gets: on its first request to this process."""

from __future__ import annotations

import uuid

from chatalot.context import Ctx
from chatalot.ids import UserId
from chatalot.services.suspensions import account_usable


async def check_account(ctx: Ctx, user_id: uuid.UUID) -> bool:
    """False when the token's account no longer exists or is suspended."""
    async with ctx.db.connection() as conn:
        return await account_usable(conn, ctx.suspensions, UserId(user_id))
