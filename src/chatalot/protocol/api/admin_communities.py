"""`GET /api/admin/communities` (instance admins) and `GET /api/communities/discover`."""

from __future__ import annotations

import msgspec


class AdminCommunityOut(msgspec.Struct):
    """One community as instance admins see it: every key always present."""

    id: str
    name: str
    description: str | None
    owner_id: str | None
    owner_username: str | None  # null when the owner's account is gone
    member_count: int
    group_count: int
    channel_count: int
    discoverable: bool
    created_at: str


class AdminCommunityListOut(msgspec.Struct):
    communities: list[AdminCommunityOut]
    total: int


class DiscoverCommunityOut(msgspec.Struct):
    """One entry of the community discover list: every key always present."""

    id: str
    name: str
    description: str | None
    icon_url: str | None
    banner_url: str | None
    member_count: int
    is_member: bool
