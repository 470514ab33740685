"""Instance health for monitoring (`GET /api/health`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from chatalot.context import Ctx
from chatalot.repositories import health as health_repo

log = logging.getLogger("chatalot_server.health")


@dataclass(frozen=True, slots=True)
class Health:
    status: str  # "ok" | "degraded"
    version: str
    uptime_secs: int
    db_healthy: bool


async def check_health(ctx: Ctx) -> Health:
    """Always answers: a database that is down or saturated makes the status "degraded"."""
    try:
        async with ctx.db.connection() as conn:
            db_healthy = await health_repo.select_one(conn)
    except Exception as err:  # health never fails: any database problem means "degraded"
        log.warning("Health check: database unavailable (%s)", type(err).__name__)
        db_healthy = False
    uptime = int(ctx.clock.monotonic() - ctx.started_monotonic)
    return Health(
        status="ok" if db_healthy else "degraded",
        version=ctx.version,
        uptime_secs=max(uptime, 0),
        db_healthy=db_healthy,
    )
