"""Finding other users: search by name and lookup by id.

Who can see whom: the instance owner sees everyone; everybody else sees themselves and the
users they share a community with. Anyone else is "not found" (existence stays private).

Differences from the original, on purpose: ``%``, ``_`` and ``\\`` in a search are matched
literally for everyone (the original let non-owners use them as wildcards), and results are
always ordered by username.
"""

from __future__ import annotations

import uuid

from chatalot.context import Ctx
from chatalot.db.database import Conn
from chatalot.errors import Invalid, NotFound
from chatalot.ids import UserId
from chatalot.repositories import user_search as search_repo
from chatalot.repositories import users as users_repo
from chatalot.repositories.users import UserRow
from chatalot.services.actor import Actor

MAX_RESULTS = 20
QUERY_BYTES = (2, 256)


async def search_users(ctx: Ctx, actor: Actor, query: str | None) -> list[UserRow]:
    """Up to 20 visible users whose username or display name contains ``query``."""
    low, high = QUERY_BYTES
    if query is None or not low <= len(query.encode()) <= high:
        raise Invalid("search query must be 2-256 characters")
    if "\x00" in query:
        return []  # no name contains NUL (PostgreSQL text cannot even hold one)
    async with ctx.db.connection() as conn:
        if actor.is_owner:
            return await search_repo.list_users_matching(conn, query, limit=MAX_RESULTS)
        return await search_repo.list_community_peers_matching(
            conn, actor.user_id, query, limit=MAX_RESULTS
        )


async def access_user(conn: Conn, actor: Actor, user_id: uuid.UUID) -> UserRow:
    """The user if the caller may see them (self, shared community, or instance owner);
    NotFound("user not found") otherwise."""
    target = UserId(user_id)
    user = await users_repo.select_user(conn, target)
    if user is None:
        raise NotFound("user not found")
    if actor.is_owner or target == actor.user_id:
        return user
    if not await search_repo.exists_shared_community(conn, user_a=actor.user_id, user_b=target):
        raise NotFound("user not found")
    return user


async def get_user(ctx: Ctx, actor: Actor, user_id: uuid.UUID) -> UserRow:
    async with ctx.db.connection() as conn:
        return await access_user(conn, actor, user_id)
