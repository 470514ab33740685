"""The community discover list: discoverable communities any signed-in user may look at and
join, biggest first (ours; the original had a discover list for groups only). Communities the
caller is banned from are left out."""

from __future__ import annotations

from chatalot.context import Ctx
from chatalot.repositories import community_discover as community_discover_repo
from chatalot.repositories.community_discover import DiscoverCommunityRow
from chatalot.services.actor import Actor


async def discover_communities(
    ctx: Ctx, actor: Actor, *, limit: int, offset: int
) -> list[DiscoverCommunityRow]:
    """One statement, outside a transaction (a plain read)."""
    async with ctx.db.connection() as conn:
        return await community_discover_repo.list_discoverable_communities(
            conn, actor.user_id, limit=limit, offset=offset
        )
