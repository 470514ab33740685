"""Group shapes (spec rest-api 2.6 and 3). Request bodies (``...In``) are added next to the
routes that take them."""

from __future__ import annotations

import msgspec


class GroupOut(msgspec.Struct):
    """The original's GroupResponse: every key always present."""

    id: str
    name: str
    description: str | None
    owner_id: str | None
    community_id: str
    created_at: str
    member_count: int
    visibility: str
    discoverable: bool
    assigned_member_id: str | None
    allow_invites: bool
    icon_url: str | None
    banner_url: str | None
    accent_color: str | None


class GroupMemberOut(msgspec.Struct):
    user_id: str
    username: str
    display_name: str
    avatar_url: str | None
    role: str
    joined_at: str


class GroupInviteOut(msgspec.Struct):
    """The original's InviteResponse (group invites)."""

    id: str
    code: str
    group_id: str
    max_uses: int | None
    used_count: int
    expires_at: str | None
    created_at: str
