"""`/api/users/*` request and response bodies (search and lookup return UserPublic, from
protocol/api/users.py)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from chatalot.protocol.api.constraints import UUID


class BlockIn(msgspec.Struct):
    user_id: Annotated[str, UUID]


class BlockedUserOut(msgspec.Struct):
    blocked_id: str
    created_at: str
