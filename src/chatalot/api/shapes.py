"""Rows and service results -> wire models (the edge never returns a Row)."""

from __future__ import annotations

from chatalot.protocol.api.users import UserPublic
from chatalot.protocol.time import rfc3339
from chatalot.repositories.users import UserRow


def user_public(user: UserRow) -> UserPublic:
    return UserPublic(
        id=str(user.id),
        username=user.username,
        display_name=user.display_name,
        avatar_url=user.avatar_url,
        banner_url=user.banner_url,
        status=user.status,
        custom_status=user.custom_status,
        is_admin=user.is_admin,
        is_owner=user.is_owner,
        created_at=rfc3339(user.created_at),
        voice_background_url=user.voice_background_url,
        bio=user.bio,
        pronouns=user.pronouns,
    )
