"""`/api/admin/*` request and response bodies (user management, registration invites, audit
log). Every key of every response is always present (the original omits none here)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from chatalot.protocol.api.constraints import PASSWORD, documented, text


class MembershipOut(msgspec.Struct):
    id: str
    name: str
    role: str


class AdminUserOut(msgspec.Struct):
    """The original's AdminUserResponse (the only shape that carries an e-mail address)."""

    id: str
    username: str
    display_name: str
    email: str
    avatar_url: str | None
    is_admin: bool
    is_owner: bool
    suspended_at: str | None
    suspended_reason: str | None
    created_at: str
    groups: list[MembershipOut]
    communities: list[MembershipOut]


class SuspendIn(msgspec.Struct):
    reason: Annotated[str, text(500)] | None = None


class SetAdminIn(msgspec.Struct):
    is_admin: bool


class ResetPasswordIn(msgspec.Struct):
    new_password: Annotated[str, PASSWORD]


class CreateInviteIn(msgspec.Struct):
    max_uses: Annotated[int, documented(minimum=1, maximum=1_000_000)] | None = None
    expires_in_hours: Annotated[int, documented(minimum=1, maximum=8760)] | None = None


class RegistrationInviteOut(msgspec.Struct):
    id: str
    code: str
    created_by: str | None
    max_uses: int | None
    used_count: int
    expires_at: str | None
    created_at: str


class AuditEntryOut(msgspec.Struct):
    id: str
    user_id: str | None
    action: str
    ip_address: str | None
    user_agent: str | None
    metadata: dict[str, Any] | None
    created_at: str


class AuditLogOut(msgspec.Struct):
    entries: list[AuditEntryOut]
    total: int
    page: int
    per_page: int
