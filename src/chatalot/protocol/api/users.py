"""User shapes shared by auth, account and user endpoints."""

from __future__ import annotations

import msgspec


class UserPublic(msgspec.Struct, omit_defaults=True):
    """The original's UserPublic: voice_background_url, bio and pronouns are omitted when null;
    every other key is always present."""

    id: str
    username: str
    display_name: str
    avatar_url: str | None
    banner_url: str | None
    status: str
    custom_status: str | None
    is_admin: bool
    is_owner: bool
    created_at: str
    voice_background_url: str | None = None
    bio: str | None = None
    pronouns: str | None = None
