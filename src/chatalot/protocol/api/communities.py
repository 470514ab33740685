"""Community shapes (spec rest-api 2.5 and 3): responses, and the request bodies (``...In``) of
the community and member routes."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from chatalot.protocol.api.constraints import UUID, documented, text

_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


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


# -- request bodies ------------------------------------------------------------------------

_POLICY = documented(enum=["everyone", "moderator", "admin"])
_COMMUNITY_IMAGE_URL = documented(
    'The URL of an image uploaded to this server (`/api/community-assets/...`), `""` to clear '
    "it, or (when the instance allows external images) an http(s) URL; at most 2048 bytes.",
    pattern=f"^(/api/community-assets/{_UUID}(_[a-z]{{1,16}})?\\.(png|jpg|jpeg|webp|gif)"
    "(\\?v=[0-9]{1,20})?)?$",
)
THEME = documented(
    "A JSON object (at most 8 KB serialised) with only the keys accent, accentHover, "
    "bgPrimary, bgSecondary, bgTertiary, textPrimary, textSecondary (hex colours such as "
    "#ff0000) and customCss (at most 4096 bytes of CSS, sanitised); `null` clears the theme, "
    "absent leaves it unchanged.",
    type=["object", "null"],
    additionalProperties=False,
    properties={
        **{
            key: {
                "type": "string",
                "pattern": "^#([0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$",
            }
            for key in (
                "accent",
                "accentHover",
                "bgPrimary",
                "bgSecondary",
                "bgTertiary",
                "textPrimary",
                "textSecondary",
            )
        },
        "customCss": {"type": "string", "pattern": "^(--theme-[0-9]{1,3}: [0-9]{1,3}px)?$"},
    },
)


class CreateCommunityIn(msgspec.Struct):
    name: Annotated[str, text(64, required=True)]
    description: Annotated[str, text(2048, multiline=True)] | None = None


class UpdateCommunityIn(msgspec.Struct):
    """Every field optional; absent or ``null`` = unchanged, except ``community_theme``
    (``null`` clears it); ``""`` clears description, icon_url, banner_url, welcome_message."""

    name: Annotated[str, text(64, required=True)] | None = None
    description: Annotated[str, text(2048, multiline=True)] | None = None
    icon_url: Annotated[str, _COMMUNITY_IMAGE_URL] | None = None
    banner_url: Annotated[str, _COMMUNITY_IMAGE_URL] | None = None
    who_can_create_groups: Annotated[str, _POLICY] | None = None
    who_can_create_invites: Annotated[str, _POLICY] | None = None
    discoverable: bool | None = None
    # any JSON value: the service checks it (with the original's messages)
    community_theme: Annotated[Any, THEME] = msgspec.UNSET
    welcome_message: Annotated[str, text(2000, multiline=True)] | None = None


class TransferOwnershipIn(msgspec.Struct):
    new_owner_id: Annotated[str, UUID]


class SetMemberRoleIn(msgspec.Struct):
    role: Annotated[str, documented(enum=["member", "moderator", "admin"])]


class SetNicknameIn(msgspec.Struct):
    """``null``, ``""`` or blank clears the nickname."""

    nickname: Annotated[str, text(64)] | None = None


class BanMemberIn(msgspec.Struct):
    reason: Annotated[str, text(500)] | None = None


# -- more responses ------------------------------------------------------------------------


class CommunityBanOut(msgspec.Struct):
    """``created_at`` ends in ``Z`` (the original's only such timestamp)."""

    user_id: str
    username: str
    display_name: str
    reason: str | None
    created_at: str


class CustomEmojiOut(msgspec.Struct):
    id: str
    community_id: str
    shortcode: str
    url: str
    content_type: str
    uploaded_by: str | None
    created_at: str
