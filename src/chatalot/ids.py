"""Typed ids and their generators. Most rows get UUIDv7 (time-ordered) ids, as in the original."""

from __future__ import annotations

import os
import time
import uuid
from typing import NewType

UserId = NewType("UserId", uuid.UUID)
ChannelId = NewType("ChannelId", uuid.UUID)
MessageId = NewType("MessageId", uuid.UUID)
GroupId = NewType("GroupId", uuid.UUID)
CommunityId = NewType("CommunityId", uuid.UUID)
FileId = NewType("FileId", uuid.UUID)
SessionId = NewType("SessionId", uuid.UUID)


def uuid7() -> uuid.UUID:
    """A RFC 9562 version-7 UUID: 48-bit Unix milliseconds, then 74 random bits."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 62) & 0xFFF) << 64  # rand_a (12 bits)
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b (62 bits)
    return uuid.UUID(int=value)


def uuid4() -> uuid.UUID:
    return uuid.uuid4()
