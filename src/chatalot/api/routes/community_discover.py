"""`GET /api/communities/discover`: discoverable communities (any signed-in user).

The path is static, so Litestar routes it here before ``/api/communities/{community_id:str}``.
"""

from __future__ import annotations

from typing import Annotated

from litestar import get

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import integer_query
from chatalot.api.params import parse_int
from chatalot.protocol.api.admin_communities import DiscoverCommunityOut
from chatalot.services import community_discover as community_discover_service

MAX_OFFSET = 1_000_000_000


@get("/api/communities/discover")
async def list_discover_communities(
    ctx: CtxDep,
    actor: ActorDep,
    limit: Annotated[str | None, integer_query(1, 100)] = None,
    offset: Annotated[str | None, integer_query(0, MAX_OFFSET)] = None,
) -> list[DiscoverCommunityOut]:
    """Biggest first, then by name; ``limit`` 1..100 (default 50), ``offset`` >= 0."""
    rows = await community_discover_service.discover_communities(
        ctx,
        actor,
        limit=parse_int(limit, "limit", default=50, low=1, high=100),
        offset=parse_int(offset, "offset", default=0, low=0, high=MAX_OFFSET),
    )
    return [
        DiscoverCommunityOut(
            id=str(r.id),
            name=r.name,
            description=r.description,
            icon_url=r.icon_url,
            banner_url=r.banner_url,
            member_count=r.member_count,
            is_member=r.is_member,
        )
        for r in rows
    ]


HANDLERS = [list_discover_communities]
