"""`/api/account/sessions` and `/api/account/logout-all`."""

from __future__ import annotations

import msgspec


class SessionOut(msgspec.Struct):
    id: str
    device_name: str | None
    ip_address: str | None
    created_at: str
    expires_at: str
    current: bool  # ours: the session the request's token belongs to


class LogoutAllOut(msgspec.Struct):
    revoked_count: int
