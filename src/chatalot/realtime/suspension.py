"""Suspension closes the user's live sockets at once, on every process.

``SuspensionRegistry`` (services/suspensions.py) learns of a suspension on every process: from
the suspending service after commit and from the ``chatalot_suspension`` notification, both
through ``mark``; after a reconnect of the notification listener, through ``reload``. This
registry closes the hub's sessions of a user who becomes suspended (``error unauthorized``,
then close 1008: the client tries to refresh its token, which fails, and it signs out)."""

from __future__ import annotations

import uuid

from chatalot.db.database import Conn
from chatalot.protocol import ws
from chatalot.realtime.hub import CLOSE_POLICY, Hub, frame_message
from chatalot.services.suspensions import SuspensionRegistry


class ClosingSuspensionRegistry(SuspensionRegistry):
    def __init__(self, hub: Hub) -> None:
        super().__init__()
        self.hub = hub

    def mark(self, user_id: uuid.UUID, suspended: bool) -> None:
        super().mark(user_id, suspended)
        if suspended:
            close_sessions(self.hub, user_id)

    async def reload(self, conn: Conn) -> int:
        count = await super().reload(conn)
        for user_id in self.hub.connected_users():
            if self.is_suspended(user_id):
                close_sessions(self.hub, user_id)
        return count


def close_sessions(hub: Hub, user_id: uuid.UUID) -> None:
    message = frame_message(ws.error(ws.UNAUTHORIZED))
    for conn in hub.sessions_of(user_id):
        conn.push(message)
    hub.close_user(user_id, CLOSE_POLICY, "account suspended")
