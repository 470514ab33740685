"""`/api/account/sessions` and `/api/account/logout-all`."""

from __future__ import annotations

import msgspec


class SessionOut(msgspec.Struct):
    id: str
    device_name: str | None
    ip_address: str | None
    created_at: str
    expires_at: str


class LogoutAllOut(msgspec.Struct):
    revoked_count: int
