"""Ctx: what every service gets (database, settings, clock, process facts). Built in app.py.

A plain class on purpose: the HTTP framework injects it as an opaque object (a dataclass would
be introspected field by field as if it were client input)."""

from __future__ import annotations

from chatalot.clock import Clock
from chatalot.config import Settings
from chatalot.db.database import Database


class Ctx:
    __slots__ = ("clock", "db", "settings", "started_monotonic", "version")

    def __init__(
        self,
        *,
        db: Database,
        settings: Settings,
        clock: Clock,
        started_monotonic: float,
        version: str,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.started_monotonic = started_monotonic
        self.version = version
