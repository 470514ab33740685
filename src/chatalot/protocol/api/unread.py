"""Unread counts and read cursors."""

from __future__ import annotations

import msgspec


class UnreadCountOut(msgspec.Struct):
    channel_id: str
    unread_count: int


class ReadCursorOut(msgspec.Struct):
    user_id: str
    last_read_message_id: str | None
    last_read_at: str
