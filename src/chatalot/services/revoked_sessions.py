"""Which sessions (refresh-token chains) have ended, known to every server process, so that an
access token naming an ended session (its ``sid`` claim) stops working at once rather than at
its expiry, up to 15 minutes later.

Each process keeps the chains ended within an access token's lifetime in memory. The process
that ends a session marks it after commit (``Tx.on_commit``); every process, that one included,
also hears the ``chatalot_session_revoked`` notification that the revoking statement sends inside
its transaction (repositories/sessions.py); after the notification connection is re-established
the recent ones are reloaded from the database. A token seen for the first time by a process is
also checked against the database once (services/token_check.py), which covers anything a
process missed while it was not running.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from chatalot.db.database import Conn
from chatalot.repositories import sessions as sessions_repo
from chatalot.security.tokens import ACCESS_TOKEN_SECONDS, LEEWAY_SECONDS

log = logging.getLogger("chatalot_server")

CHANNEL = sessions_repo.SESSION_REVOKED_CHANNEL
# An ended chain must be remembered while an access token issued before the end can be valid.
REMEMBER_SECONDS = ACCESS_TOKEN_SECONDS + LEEWAY_SECONDS + 60


class RevokedSessions:
    def __init__(self) -> None:
        self._ended: dict[uuid.UUID, float] = {}  # family id -> monotonic time it was learnt

    def is_revoked(self, family_id: uuid.UUID) -> bool:
        return family_id in self._ended

    def mark(self, family_ids: Iterable[uuid.UUID]) -> None:
        now = time.monotonic()
        for family_id in family_ids:
            self._ended.pop(family_id, None)  # re-inserted last: the dict stays in time order
            self._ended[family_id] = now
        self._forget_older_than(now - REMEMBER_SECONDS)

    def _forget_older_than(self, cutoff: float) -> None:
        while self._ended:
            oldest = next(iter(self._ended))
            if self._ended[oldest] >= cutoff:
                return
            del self._ended[oldest]

    def __len__(self) -> int:
        return len(self._ended)

    def on_notification(self, payload: str) -> None:
        """Payload: the ended chain's id."""
        try:
            family_id = uuid.UUID(payload)
        except ValueError:
            log.warning("Ignoring malformed session notification %r", payload)
            return
        self.mark([family_id])

    async def reload(self, conn: Conn, now: datetime) -> int:
        """Adds every chain ended within the remembered period (after a reconnect)."""
        since = now - timedelta(seconds=REMEMBER_SECONDS)
        ids = await sessions_repo.list_families_revoked_since(conn, since)
        self.mark(ids)
        return len(ids)
