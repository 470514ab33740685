"""`/api/users/*` request and response bodies (search and lookup return UserPublic, from
protocol/api/users.py)."""

from __future__ import annotations

import msgspec


class BlockIn(msgspec.Struct):
    user_id: str


class BlockedUserOut(msgspec.Struct):
    blocked_id: str
    created_at: str
