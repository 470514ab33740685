"""Groups, their members and channels.

In the World, G is public, owned by ``community_owner`` (group ``owner``), with every
community member in it as ``member``; PG is private and not discoverable, with only
``community_owner`` in it. The instance owner acts in every group as group admin (owner only
where they own it); instance admins have no role in groups. C lets only admins create groups.
An unknown group id is a 403 for everyone but the instance owner (404)."""

from __future__ import annotations

from tests.api.authz import Case
from tests.api.community_authz import signed_in

GROUP = "/api/groups/{group_id:str}"
CHANNEL = "/api/groups/{group_id:str}/channels/{channel_id:str}"
COMMUNITY_MEMBERS = ("community_owner", "community_admin", "moderator", "member", "timed_out")


def any_group_role(status: int, **overrides: int) -> dict[str, int]:
    """G: every community member and the instance owner."""
    expect = signed_in(403)
    for role in (*COMMUNITY_MEMBERS, "instance_owner"):
        expect[role] = status
    expect.update(overrides)
    return expect


def group_admin(status: int, **overrides: int) -> dict[str, int]:
    return signed_in(403, community_owner=status, instance_owner=status, **overrides)


def community_creators(status: int, **overrides: int) -> dict[str, int]:
    """POST /api/groups in C (policy admin; membership required, also of the instance owner)."""
    return signed_in(403, community_owner=status, community_admin=status, **overrides)


UNKNOWN = signed_in(403, instance_owner=404)

CASES = [
    Case("GET", "/api/groups", "/api/groups", signed_in(200)),
    Case("GET", "/api/groups/discover", "/api/groups/discover", signed_in(200)),
    Case(
        "POST",
        "/api/groups",
        "/api/groups",
        community_creators(200),
        body={"community_id": "{community}", "name": "New group", "description": "d"},
    ),
    Case(
        "POST",
        "/api/groups",
        "/api/groups",
        community_creators(200),
        body={"community_id": "{community}", "name": "Private", "visibility": "private"},
        note="private",
    ),
    Case(
        "POST",
        "/api/groups",
        "/api/groups",
        community_creators(200),
        body={"community_id": "{community}", "name": "Personal", "assigned_member_id": "{target}"},
        note="personal group",
    ),
    Case(
        "POST",
        "/api/groups",
        "/api/groups",
        community_creators(400),
        body={"community_id": "{community}", "name": "X", "visibility": "secret"},
        note="bad visibility",
    ),
    Case(
        "POST",
        "/api/groups",
        "/api/groups",
        signed_in(400),
        body={"community_id": "{community}", "name": "   "},
        note="blank name (checked first)",
    ),
    Case(
        "POST",
        "/api/groups",
        "/api/groups",
        signed_in(400),
        body={"community_id": "nope", "name": "X"},
        note="malformed community id",
    ),
    Case("GET", GROUP, "/api/groups/{group}", any_group_role(200)),
    Case(
        "GET",
        GROUP,
        "/api/groups/{private_group}",
        signed_in(403, community_owner=200, instance_owner=200),
        note="private group",
    ),
    Case("GET", GROUP, "/api/groups/{random}", UNKNOWN, note="unknown group"),
    Case("GET", GROUP, "/api/groups/not-a-uuid", signed_in(400), note="malformed id"),
    Case("PATCH", GROUP, "/api/groups/{group}", group_admin(200), body={"name": "Renamed"}),
    Case(
        "PATCH",
        GROUP,
        "/api/groups/{group}",
        group_admin(400),
        body={"accent_color": "#12345678"},
        note="8-digit colour (the original's 500)",
    ),
    Case(
        "PATCH",
        GROUP,
        "/api/groups/{group}",
        group_admin(200),
        body={"accent_color": "", "allow_invites": True},
        note="clear the colour; allow_invites needs a community moderator",
    ),
    Case("PATCH", GROUP, "/api/groups/{random}", UNKNOWN, body={}, note="unknown group"),
    Case(
        "DELETE",
        GROUP,
        "/api/groups/{group}",
        signed_in(403, community_owner=200),
        note="stored owner only (no instance bypass)",
    ),
    Case("DELETE", GROUP, "/api/groups/{random}", UNKNOWN, note="unknown group"),
    Case(
        "POST",
        GROUP + "/transfer-ownership",
        "/api/groups/{group}/transfer-ownership",
        signed_in(403, community_owner=200),
        body={"new_owner_id": "{member}"},
    ),
    Case(
        "POST",
        GROUP + "/transfer-ownership",
        "/api/groups/{group}/transfer-ownership",
        signed_in(403, community_owner=400),
        body={"new_owner_id": "{outsider}"},
        note="target not in the group",
    ),
    Case(
        "POST",
        GROUP + "/join",
        "/api/groups/{group}/join",
        any_group_role(200),
        note="public group: community members (idempotent) and the instance owner",
    ),
    Case(
        "POST",
        GROUP + "/join",
        "/api/groups/{private_group}/join",
        signed_in(403),
        note="private and not discoverable",
    ),
    Case("POST", GROUP + "/join", "/api/groups/{random}/join", UNKNOWN, note="unknown group"),
    Case(
        "POST",
        GROUP + "/leave",
        "/api/groups/{group}/leave",
        signed_in(
            403, community_owner=400, community_admin=200, moderator=200, member=200, timed_out=200
        ),
        note="owner cannot leave; non-members 403",
    ),
    Case("GET", GROUP + "/members", "/api/groups/{group}/members", any_group_role(200)),
    Case(
        "GET",
        GROUP + "/members",
        "/api/groups/{group}/members?limit=-5&offset=-1",
        any_group_role(200),
        note="limit and offset are clamped",
    ),
    Case(
        "GET",
        GROUP + "/members",
        "/api/groups/{group}/members?limit=abc",
        signed_in(400),
        note="not a number",
    ),
    Case("GET", GROUP + "/channels", "/api/groups/{group}/channels", any_group_role(200)),
    Case(
        "GET",
        GROUP + "/channels",
        "/api/groups/{random}/channels",
        UNKNOWN,
        note="unknown group",
    ),
    Case(
        "POST",
        GROUP + "/channels",
        "/api/groups/{group}/channels",
        group_admin(200),
        body={"name": "random", "channel_type": "voice"},
    ),
    Case(
        "POST",
        GROUP + "/channels",
        "/api/groups/{group}/channels",
        group_admin(400),
        body={"name": "dm", "channel_type": "dm"},
        note="bad channel type",
    ),
    Case(
        "PATCH",
        CHANNEL,
        "/api/groups/{group}/channels/{channel}",
        group_admin(200),
        body={"topic": "new topic", "slow_mode_seconds": 5},
    ),
    Case(
        "PATCH",
        CHANNEL,
        "/api/groups/{group}/channels/{channel}",
        group_admin(400),
        body={"slow_mode_seconds": 86401},
        note="slow mode out of range",
    ),
    Case(
        "PATCH",
        CHANNEL,
        "/api/groups/{group}/channels/{private_channel}",
        signed_in(403),
        body={"topic": "x"},
        note="channel of another group",
    ),
    Case(
        "PATCH",
        CHANNEL,
        "/api/groups/{group}/channels/{random}",
        group_admin(404),
        body={"topic": "x"},
        note="unknown channel",
    ),
    Case("DELETE", CHANNEL, "/api/groups/{group}/channels/{channel}", group_admin(200)),
    Case(
        "DELETE",
        CHANNEL,
        "/api/groups/{group}/channels/{dm_channel}",
        signed_in(403),
        note="a DM is not in the group",
    ),
    Case(
        "DELETE",
        CHANNEL,
        "/api/groups/{group}/channels/not-a-uuid",
        signed_in(400),
        note="malformed channel id",
    ),
]
