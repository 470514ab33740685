"""Instance admins' oversight of communities: every community on the instance, paged, with
its owner and sizes (ours beyond the original, which had none). Deleting one goes through
``DELETE /api/communities/{id}`` (services/communities.py), not here."""

from __future__ import annotations

from dataclasses import dataclass

from chatalot.context import Ctx
from chatalot.repositories import admin_communities as admin_communities_repo
from chatalot.repositories.admin_communities import AdminCommunityRow
from chatalot.services.actor import Actor
from chatalot.services.admin import check_text, require_admin, require_admin_claims

MAX_SEARCH_BYTES = 256


@dataclass(frozen=True, slots=True)
class AdminCommunityPage:
    communities: list[AdminCommunityRow]
    total: int


async def list_communities(
    ctx: Ctx, actor: Actor, *, search: str | None, limit: int, offset: int
) -> AdminCommunityPage:
    """Newest first; ``search`` (trimmed; empty: no filter) matches names containing it,
    literally and ignoring case. Two statements (page and total) besides the admin check."""
    require_admin_claims(actor)  # plain users: 403 without a database round trip
    query = (search or "").strip() or None
    async with ctx.db.transaction("admin_list_communities") as tx:
        await require_admin(tx.conn, actor)
        if query is not None:
            check_text(
                query,
                field="search",
                limit=MAX_SEARCH_BYTES,
                message=f"search must be at most {MAX_SEARCH_BYTES} characters",
            )
        rows = await admin_communities_repo.list_admin_communities(
            tx.conn, search=query, limit=limit, offset=offset
        )
        total = await admin_communities_repo.count_admin_communities(tx.conn, search=query)
    return AdminCommunityPage(rows, total)
