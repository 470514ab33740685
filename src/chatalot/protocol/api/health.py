"""`GET /api/health`."""

from __future__ import annotations

import msgspec


class HealthOut(msgspec.Struct, frozen=True):
    status: str
    version: str
    uptime_secs: int
    db_healthy: bool
