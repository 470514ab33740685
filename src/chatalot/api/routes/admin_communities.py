"""`GET /api/admin/communities`: every community on the instance (instance admins)."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.params import FromQuery

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import errors, integer_query
from chatalot.api.params import parse_int
from chatalot.protocol.api.admin_communities import AdminCommunityListOut, AdminCommunityOut
from chatalot.protocol.time import rfc3339
from chatalot.repositories.admin_communities import AdminCommunityRow
from chatalot.services import admin_communities as admin_communities_service

MAX_OFFSET = 1_000_000_000


def _community(row: AdminCommunityRow) -> AdminCommunityOut:
    return AdminCommunityOut(
        id=str(row.id),
        name=row.name,
        description=row.description,
        owner_id=str(row.owner_id) if row.owner_id is not None else None,
        owner_username=row.owner_username,
        member_count=row.member_count,
        group_count=row.group_count,
        channel_count=row.channel_count,
        discoverable=row.discoverable,
        created_at=rfc3339(row.created_at),
    )


@get("/api/admin/communities", responses=errors(403))
async def list_admin_communities(
    ctx: CtxDep,
    actor: ActorDep,
    search: FromQuery[str | None] = None,
    limit: Annotated[str | None, integer_query(1, 100)] = None,
    offset: Annotated[str | None, integer_query(0, MAX_OFFSET)] = None,
) -> AdminCommunityListOut:
    """Newest first; ``limit`` 1..100 (default 50), ``offset`` >= 0 (else 400)."""
    result = await admin_communities_service.list_communities(
        ctx,
        actor,
        search=search,
        limit=parse_int(limit, "limit", default=50, low=1, high=100),
        offset=parse_int(offset, "offset", default=0, low=0, high=MAX_OFFSET),
    )
    return AdminCommunityListOut(
        communities=[_community(r) for r in result.communities], total=result.total
    )


HANDLERS = [list_admin_communities]
