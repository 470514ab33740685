"""Messages over REST (read only): ``GET /api/channels/{id}/messages`` and the edit history.
Bytes are arrays of ints (0-255)."""

from __future__ import annotations

import msgspec


class ReactionOut(msgspec.Struct):
    emoji: str
    user_ids: list[str]


class MessageOut(msgspec.Struct, omit_defaults=True):
    """The original's MessageResponse: ``reactions`` omitted when none, ``thread_id`` when
    null, ``thread_reply_count`` / ``thread_last_reply_at`` unless the message has replies;
    every other key always present."""

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
    reactions: list[ReactionOut] | None = None
    thread_id: str | None = None
    thread_reply_count: int | None = None
    thread_last_reply_at: str | None = None


class MessageEditOut(msgspec.Struct):
    """One edit: the content BEFORE that edit."""

    id: str
    old_ciphertext: list[int]
    old_nonce: list[int]
    edited_at: str
