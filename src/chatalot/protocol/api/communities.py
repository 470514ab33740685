"""Community shapes (spec rest-api 2.5 and 3). Request bodies (``...In``) are added next to the
routes that take them."""

from __future__ import annotations

from typing import Any

import msgspec


class CommunityOut(msgspec.Struct, omit_defaults=True):
    """The original's CommunityResponse: ``welcome_message`` is omitted when null; every other
    key is always present."""

    id: str
    name: str
    description: str | None
    icon_url: str | None
    owner_id: str | None
    created_at: str
    member_count: int
    who_can_create_groups: str
    who_can_create_invites: str
    discoverable: bool
    banner_url: str | None
    community_theme: dict[str, Any] | None
    welcome_message: str | None = None


class CommunityMemberOut(msgspec.Struct):
    user_id: str
    username: str
    display_name: str
    avatar_url: str | None
    role: str
    nickname: str | None
    joined_at: str


class CommunityInviteOut(msgspec.Struct):
    id: str
    code: str
    community_id: str
    max_uses: int | None
    used_count: int
    expires_at: str | None
    created_at: str
