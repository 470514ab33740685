"""`/api/account/*` request and response bodies (profile, password, deletion, preferences,
images). UserPublic lives in protocol/api/users.py; sessions in protocol/api/sessions.py."""

from __future__ import annotations

from typing import Any

import msgspec


class PasswordIn(msgspec.Struct):
    current_password: str
    new_password: str


class ProfileIn(msgspec.Struct):
    """Every field optional; ``null`` or absent = unchanged, ``""`` clears where allowed."""

    display_name: str | None = None
    avatar_url: str | None = None
    banner_url: str | None = None
    custom_status: str | None = None
    bio: str | None = None
    pronouns: str | None = None


class DeleteAccountIn(msgspec.Struct):
    password: str


class PreferencesIn(msgspec.Struct):
    preferences: Any  # required; must be a JSON object (checked by the service)


class PreferencesOut(msgspec.Struct):
    preferences: Any


class VoiceBackgroundOut(msgspec.Struct):
    url: str
