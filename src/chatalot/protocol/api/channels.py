"""Channel and DM shapes (spec rest-api 2.7, 2.12 and 3). Request bodies (``...In``) are added
next to the routes that take them."""

from __future__ import annotations

import msgspec

from chatalot.protocol.api.users import UserPublic


class ChannelOut(msgspec.Struct, omit_defaults=True):
    """The original's ChannelResponse: ``voice_background`` is omitted when null; every other
    key is always present. ``message_ttl_seconds`` is never shown."""

    id: str
    name: str | None
    channel_type: str
    topic: str | None
    created_by: str | None
    created_at: str
    group_id: str | None
    read_only: bool
    slow_mode_seconds: int
    discoverable: bool
    archived: bool
    voice_background: str | None = None


class ChannelMemberOut(msgspec.Struct):
    user_id: str
    username: str
    display_name: str
    avatar_url: str | None
    role: str
    joined_at: str


class DmChannelOut(msgspec.Struct):
    channel: ChannelOut
    other_user: UserPublic
