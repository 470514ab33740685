"""Community and group images, custom emoji and their public image routes
(services/assets.py, services/emojis.py).

Community icon, banner and emoji: community managers (owner, admin, instance staff). Group
icon, banner and channel voice backgrounds: group admins (in G: ``community_owner`` and the
instance owner). The image routes are public: every caller gets the same answer."""

from __future__ import annotations

from tests.api.authz import Case
from tests.api.authz.account import PNG
from tests.api.community_authz import ROLES, gate, signed_in

C = "/api/communities/{community_id:str}"
G = "/api/groups/{group_id:str}"
VOICE_BG = G + "/channels/{channel_id:str}/voice-background"


def public(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


def group_admin(status: int, **overrides: int) -> dict[str, int]:
    return signed_in(403, community_owner=status, instance_owner=status, **overrides)


UNKNOWN_GROUP = signed_in(403, instance_owner=404)
MISSING_COMMUNITY = gate(403, staff=404)


def _image(field: str) -> dict[str, tuple[str, bytes, str]]:
    return {field: ("a.png", PNG, "image/png")}


CASES = [
    # -- community images
    Case(
        "POST",
        C + "/icon",
        "/api/communities/{community}/icon",
        gate(200, at_least="admin"),
        files=_image("icon"),
    ),
    Case(
        "POST",
        C + "/icon",
        "/api/communities/{community}/icon",
        gate(400, at_least="admin"),
        files={"icon": ("a.png", b"MZ\x90\x00", "image/png")},
        note="an executable named .png",
    ),
    Case(
        "POST",
        C + "/icon",
        "/api/communities/{random}/icon",
        MISSING_COMMUNITY,
        files=_image("icon"),
        note="missing community",
    ),
    Case(
        "POST",
        C + "/banner",
        "/api/communities/{community}/banner",
        gate(200, at_least="admin"),
        files=_image("banner"),
    ),
    Case(
        "GET",
        "/api/community-assets/{filename:str}",
        "/api/community-assets/{community}_icon.png",
        public(404),
        note="public; no icon uploaded",
    ),
    Case(
        "GET",
        "/api/community-assets/{filename:str}",
        "/api/community-assets/..png",
        public(400),
        note="unsafe name",
    ),
    # -- custom emoji
    Case(
        "POST",
        C + "/emojis",
        "/api/communities/{community}/emojis",
        gate(200, at_least="admin"),
        files={"file": ("e.png", PNG, "image/png")},
        data={"shortcode": "matrix"},
    ),
    Case(
        "POST",
        C + "/emojis",
        "/api/communities/{community}/emojis",
        gate(400, at_least="admin"),
        files={"file": ("e.png", PNG, "image/png")},
        data={"shortcode": "x"},
        note="shortcode too short",
    ),
    Case(
        "POST",
        C + "/emojis",
        "/api/communities/{random}/emojis",
        MISSING_COMMUNITY,
        files={"file": ("e.png", PNG, "image/png")},
        data={"shortcode": "matrix"},
        note="missing community",
    ),
    Case(
        "DELETE",
        C + "/emojis/{emoji_id:str}",
        "/api/communities/{community}/emojis/{random}",
        gate(404, at_least="admin"),
        note="unknown emoji",
    ),
    Case(
        "DELETE",
        C + "/emojis/{emoji_id:str}",
        "/api/communities/{community}/emojis/nope",
        signed_in(400),
        note="malformed emoji id",
    ),
    Case("GET", "/api/emojis/{emoji_id:str}", "/api/emojis/{random}", public(404)),
    Case(
        "GET",
        "/api/emojis/{emoji_id:str}",
        "/api/emojis/not-a-uuid",
        public(400),
        note="malformed id",
    ),
    # -- group images
    Case("POST", G + "/icon", "/api/groups/{group}/icon", group_admin(200), files=_image("icon")),
    Case(
        "POST",
        G + "/icon",
        "/api/groups/{random}/icon",
        UNKNOWN_GROUP,
        files=_image("icon"),
        note="unknown group",
    ),
    Case(
        "POST",
        G + "/banner",
        "/api/groups/{group}/banner",
        group_admin(200),
        files=_image("banner"),
    ),
    Case(
        "POST",
        G + "/banner",
        "/api/groups/{private_group}/banner",
        signed_in(403, community_owner=200, instance_owner=200),
        files=_image("banner"),
        note="private group",
    ),
    Case(
        "POST",
        VOICE_BG,
        "/api/groups/{group}/channels/{channel}/voice-background",
        group_admin(200),
        files=_image("background"),
    ),
    Case(
        "POST",
        VOICE_BG,
        "/api/groups/{group}/channels/{private_channel}/voice-background",
        group_admin(403),
        files=_image("background"),
        note="another group's channel",
    ),
    Case(
        "POST",
        VOICE_BG,
        "/api/groups/{group}/channels/{random}/voice-background",
        group_admin(404),
        files=_image("background"),
        note="unknown channel",
    ),
    Case(
        "GET",
        "/api/group-assets/{filename:str}",
        "/api/group-assets/{group}_icon.png",
        public(404),
        note="public; no icon uploaded",
    ),
]
