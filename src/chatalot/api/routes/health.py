"""GET /api/health: public; always 200, "degraded" when the database does not answer."""

from __future__ import annotations

from litestar import get

from chatalot.api.deps import CtxDep
from chatalot.protocol.api.health import HealthOut
from chatalot.services.health import check_health


@get("/api/health")
async def get_health(ctx: CtxDep) -> HealthOut:
    health = await check_health(ctx)
    return HealthOut(
        status=health.status,
        version=health.version,
        uptime_secs=health.uptime_secs,
        db_healthy=health.db_healthy,
    )


HANDLERS = [get_health]
