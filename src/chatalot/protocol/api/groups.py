"""Group shapes (spec rest-api 2.6 and 3): groups, their members, channels and invites."""

from __future__ import annotations

from typing import Annotated

import msgspec

from chatalot.protocol.api.constraints import UUID, documented, text


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


# -- request bodies ----------------------------------------------------------------------------

_VISIBILITY = documented(enum=["public", "private"])
_HEX_COLOR = documented(
    'A colour as `#rgb` or `#rrggbb`, or `""` to clear it.',
    pattern="^(#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6})?$",
)
_GROUP_IMAGE_URL = documented(
    'The URL of an image uploaded to this server (`/api/group-assets/...`), `""` to clear it, '
    "or (when the instance allows external images) an http(s) URL; at most 2048 bytes.",
    pattern="^(/api/group-assets/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    "(_[a-z]{1,16})?\\.(png|jpg|jpeg|webp|gif)(\\?v=[0-9]{1,20})?)?$",
)


class CreateGroupIn(msgspec.Struct):
    community_id: Annotated[str, UUID]
    name: Annotated[str, text(64, required=True)]
    description: Annotated[str, text(2048, multiline=True)] | None = None
    visibility: Annotated[str, _VISIBILITY] | None = None
    assigned_member_id: Annotated[str, UUID] | None = None


class UpdateGroupIn(msgspec.Struct):
    """Every field optional; null (or absent) changes nothing, ``""`` clears ``description``,
    ``icon_url``, ``banner_url`` and ``accent_color``."""

    name: Annotated[str, text(64, required=True)] | None = None
    description: Annotated[str, text(2048, multiline=True)] | None = None
    visibility: Annotated[str, _VISIBILITY] | None = None
    discoverable: bool | None = None
    allow_invites: bool | None = None
    icon_url: Annotated[str, _GROUP_IMAGE_URL] | None = None
    banner_url: Annotated[str, _GROUP_IMAGE_URL] | None = None
    accent_color: Annotated[str, _HEX_COLOR] | None = None


class TransferGroupOwnershipIn(msgspec.Struct):
    new_owner_id: Annotated[str, UUID]


class CreateGroupChannelIn(msgspec.Struct):
    """The original's CreateChannelRequest; ``group_id`` and ``discoverable`` are ignored (the
    channel is always in this group and discoverable)."""

    name: Annotated[str, text(64, required=True)]
    channel_type: Annotated[str, documented(enum=["text", "voice", "gallery"])]
    topic: Annotated[str, text(512, multiline=True)] | None = None
    group_id: Annotated[str, UUID] | None = None
    discoverable: bool = True


class UpdateGroupChannelIn(msgspec.Struct):
    """Every field optional; ``""`` clears ``topic`` and ``voice_background``;
    ``message_ttl_seconds`` is accepted and ignored (as in the original)."""

    name: Annotated[str, text(64, required=True)] | None = None
    topic: Annotated[str, text(512, multiline=True)] | None = None
    read_only: bool | None = None
    slow_mode_seconds: Annotated[int, documented(minimum=0, maximum=86400)] | None = None
    message_ttl_seconds: Annotated[int, documented(minimum=0, maximum=2_592_000)] | None = None
    discoverable: bool | None = None
    archived: bool | None = None
    voice_background: Annotated[str, _GROUP_IMAGE_URL] | None = None


class CreateGroupInviteIn(msgspec.Struct):
    max_uses: Annotated[int, documented(minimum=1, maximum=2_147_483_647)] | None = None
    expires_in_hours: Annotated[int, documented(minimum=1, maximum=8760)] | None = None


# -- invite by code ----------------------------------------------------------------------------


class GroupInviteInfoOut(msgspec.Struct):
    """``GET /api/invites/{code}``: a group that is not discoverable shows as ``Private Group``
    with no description."""

    group_name: str
    group_description: str | None
    member_count: int
    code: str


class AcceptGroupInviteOut(msgspec.Struct):
    group_id: str
    group_name: str
