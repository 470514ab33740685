"""Ctx: what every service gets (database, settings, clock, security services, caches).
Built once per process in server.py (tests build their own).

A plain class on purpose: the HTTP framework injects it as an opaque object (a dataclass would
be introspected field by field as if it were client input)."""

from __future__ import annotations

from chatalot.clock import Clock
from chatalot.config import Settings
from chatalot.db.database import Database
from chatalot.ratelimit import LocalRateLimiter, RateLimiter
from chatalot.realtime.broker import Broker, LocalBroker
from chatalot.realtime.hub import Hub
from chatalot.realtime.suspension import ClosingSuspensionRegistry
from chatalot.security.passwords import PasswordHasher
from chatalot.security.tokens import TokenService
from chatalot.services.instance_settings import InstanceSettingsCache
from chatalot.services.push_delivery import PushDelivery
from chatalot.services.revoked_sessions import RevokedSessions
from chatalot.services.suspensions import SuspensionRegistry
from chatalot.storage import BlobStore, LocalBlobStore


class Ctx:
    __slots__ = (
        "broker",
        "clock",
        "db",
        "hub",
        "instance",
        "limiter",
        "passwords",
        "push",
        "revoked_sessions",
        "settings",
        "started_monotonic",
        "storage",
        "suspensions",
        "tokens",
        "version",
    )

    def __init__(
        self,
        *,
        db: Database,
        settings: Settings,
        clock: Clock,
        started_monotonic: float,
        version: str,
        tokens: TokenService,
        passwords: PasswordHasher,
        suspensions: SuspensionRegistry | None = None,
        instance: InstanceSettingsCache | None = None,
        limiter: RateLimiter | None = None,
        revoked_sessions: RevokedSessions | None = None,
        hub: Hub | None = None,
        broker: Broker | None = None,
        storage: BlobStore | None = None,
        push: PushDelivery | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.started_monotonic = started_monotonic
        self.version = version
        self.tokens = tokens
        self.passwords = passwords
        # The live WebSocket sessions of this process and the way events reach every process
        # (realtime/). The broker is not the Database's sink unless the caller makes it so
        # (server.py does; tests choose).
        self.hub = hub or (broker.hub if broker is not None else Hub())
        self.broker = broker or LocalBroker(self.hub)
        self.suspensions = suspensions or ClosingSuspensionRegistry(self.hub)
        self.instance = instance or InstanceSettingsCache()
        self.limiter = limiter or LocalRateLimiter()
        self.revoked_sessions = revoked_sessions or RevokedSessions()
        # Where uploaded files, thumbnails, avatars, assets and emoji live (storage/).
        self.storage: BlobStore = storage or LocalBlobStore(settings.file_storage_path)
        # Web Push: the VAPID key, outbound pools and background sends (services/push_delivery).
        self.push = push or PushDelivery(settings)

    @property
    def registration_mode(self) -> str:
        """The admin's choice (instance settings) if made, else REGISTRATION_MODE."""
        return self.instance.values.registration_mode or self.settings.registration_mode
