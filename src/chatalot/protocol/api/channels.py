"""Channel and DM shapes (spec rest-api 2.7, 2.12 and 3). Request bodies (``...In``) are added
next to the routes that take them."""

from __future__ import annotations

from typing import Annotated

import msgspec

from chatalot.protocol.api.constraints import UUID, documented, text
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


# -- request bodies ------------------------------------------------------------------------

_CHANNEL_NAME = text(64, required=True)
_TOPIC = text(512, multiline=True)
_VOICE_BACKGROUND = documented(
    "The URL of an image uploaded to this server (like `/api/group-assets/<id>_voicebg.png`), "
    '`""` to clear it, or (when the instance allows external images) an http(s) URL; at most '
    "2048 bytes.",
    pattern=(
        "^(/api/(avatars|group-assets|community-assets)/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-"
        "[0-9a-f]{4}-[0-9a-f]{12}(_[a-z]{1,16})?\\.(png|jpg|jpeg|webp|gif)(\\?v=[0-9]{1,20})?)?$"
    ),
)


class CreateChannelIn(msgspec.Struct):
    """POST /api/channels (and the original's CreateChannelRequest)."""

    name: Annotated[str, _CHANNEL_NAME]
    channel_type: Annotated[str, documented(enum=["text", "voice", "gallery"])]
    topic: Annotated[str, _TOPIC] | None = None
    group_id: Annotated[str, UUID] | None = None
    discoverable: bool = True


class UpdateChannelIn(msgspec.Struct):
    """PATCH /api/channels/{id}: every field optional; ``null``/absent = unchanged."""

    name: Annotated[str, _CHANNEL_NAME] | None = None
    topic: Annotated[str, _TOPIC] | None = None
    read_only: bool | None = None
    slow_mode_seconds: Annotated[int, documented(minimum=0, maximum=86400)] | None = None
    message_ttl_seconds: (
        Annotated[
            int,
            documented("Seconds new messages live; 0 clears the TTL.", minimum=0, maximum=2592000),
        ]
        | None
    ) = None
    discoverable: bool | None = None
    archived: bool | None = None
    voice_background: Annotated[str, _VOICE_BACKGROUND] | None = None


class ChannelRoleIn(msgspec.Struct):
    role: Annotated[str, documented(enum=["admin", "moderator", "member"])]


class ChannelBanIn(msgspec.Struct):
    reason: Annotated[str, text(500, multiline=True)] | None = None


class TransferChannelOwnershipIn(msgspec.Struct):
    new_owner_id: Annotated[str, UUID]


class CreateDmIn(msgspec.Struct):
    target_user_id: Annotated[str, UUID]
