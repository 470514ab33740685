"""Server -> client events (WebSocket frames pushed by the server), pure data.

Each event is a msgspec Struct tagged on ``type`` with the original's snake_case name, so
``msgspec.json.encode(event)`` gives the exact wire frame, e.g.
``{"type": "user_profile_updated", "user_id": "...", ...}``. Services hand events to
``tx.emit(event, to=...)``; they are published only after the transaction commits.

Keys are always present (``null`` when empty) unless a struct says otherwise.
Add new events at the end of this module, one class per frame.
"""

from __future__ import annotations

import msgspec


class UserProfileUpdated(msgspec.Struct, tag="user_profile_updated", tag_field="type"):
    """A user's public profile changed (profile edit, avatar/banner/voice background upload or
    removal). Delivered to everyone."""

    user_id: str
    display_name: str
    avatar_url: str | None
    banner_url: str | None
    voice_background_url: str | None
    custom_status: str | None
    bio: str | None
    pronouns: str | None
