"""`/api/account/*` request and response bodies (profile, password, deletion, preferences,
images). UserPublic lives in protocol/api/users.py; sessions in protocol/api/sessions.py."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from chatalot.protocol.api.constraints import (
    DISPLAY_NAME,
    IMAGE_URL,
    PASSWORD,
    PREFERENCES,
    text,
)


class PasswordIn(msgspec.Struct):
    current_password: str
    new_password: Annotated[str, PASSWORD]


class ProfileIn(msgspec.Struct):
    """Every field optional; ``null`` or absent = unchanged, ``""`` clears where allowed."""

    display_name: Annotated[str, DISPLAY_NAME] | None = None
    avatar_url: Annotated[str, IMAGE_URL] | None = None
    banner_url: Annotated[str, IMAGE_URL] | None = None
    custom_status: Annotated[str, text(128)] | None = None
    bio: Annotated[str, text(500, multiline=True)] | None = None
    pronouns: Annotated[str, text(50)] | None = None


class DeleteAccountIn(msgspec.Struct):
    password: str


class PreferencesIn(msgspec.Struct):
    # required; must be a JSON object (checked by the service)
    preferences: Annotated[Any, PREFERENCES]


class PreferencesOut(msgspec.Struct):
    preferences: Any


class VoiceBackgroundOut(msgspec.Struct):
    url: str
