"""Pinned messages over REST: ``GET /api/channels/{id}/pins``. Bytes are arrays of ints
(0-255)."""

from __future__ import annotations

import msgspec


class PinnedMessageOut(msgspec.Struct):
    """The original's PinnedMessageResponse: every key always present (no reactions or thread
    fields). ``pinned_by`` is null once the user who pinned it has been deleted."""

    id: str
    channel_id: str
    sender_id: str | None
    ciphertext: list[int]
    nonce: list[int]
    message_type: str
    reply_to_id: str | None
    sender_key_id: str | None
    edited_at: str | None
    created_at: str
    pinned_by: str | None
    pinned_at: str
