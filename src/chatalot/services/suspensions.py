"""Which users are suspended, known to every server process without a query per request.

Each process holds the set in memory: loaded at startup, changed at once by the process that
suspends (after commit), and by every other process through the ``chatalot_suspension``
notification (sent inside the suspending transaction, so only committed changes travel). After
the notification connection is re-established the whole set is reloaded.
"""

from __future__ import annotations

import logging
import uuid

from chatalot.db.database import Conn
from chatalot.ids import UserId
from chatalot.repositories import users as users_repo

log = logging.getLogger("chatalot_server")

CHANNEL = "chatalot_suspension"


class SuspensionRegistry:
    def __init__(self) -> None:
        self._suspended: set[uuid.UUID] = set()

    def is_suspended(self, user_id: uuid.UUID) -> bool:
        return user_id in self._suspended

    def mark(self, user_id: uuid.UUID, suspended: bool) -> None:
        if suspended:
            self._suspended.add(user_id)
        else:
            self._suspended.discard(user_id)

    async def reload(self, conn: Conn) -> int:
        ids = await users_repo.list_suspended_user_ids(conn)
        self._suspended = set(ids)
        return len(ids)

    def on_notification(self, payload: str) -> None:
        """Payload ``<uuid>:1`` (suspended) or ``<uuid>:0`` (lifted)."""
        raw_id, _, flag = payload.partition(":")
        try:
            user_id = uuid.UUID(raw_id)
        except ValueError:
            log.warning("Ignoring malformed suspension notification %r", payload)
            return
        self.mark(user_id, flag == "1")


def notification_payload(user_id: UserId, suspended: bool) -> str:
    return f"{user_id}:{1 if suspended else 0}"


async def account_usable(conn: Conn, registry: SuspensionRegistry, user_id: UserId) -> bool:
    """The database's word on a token's account, asked once per new token: False when the
    account was deleted or is suspended (the in-memory set is corrected to match). Catches what
    the in-memory set cannot know after a restart, e.g. a deleted account's token."""
    state = await users_repo.select_account_state(conn, user_id)
    if state is None:
        return False
    _, suspended = state
    registry.mark(user_id, suspended)
    return not suspended
