"""Community invites (inside the gate and by code) and group invites (grp-admin+ and by code).

In the World, C lets only admins create invites (``who_can_create_invites: admin``); G is
public, owned by ``community_owner`` (group ``owner``), with every community member in it as
``member``; the instance owner acts there as group admin, instance admins have no role."""

from __future__ import annotations

from tests.api.authz import Case
from tests.api.community_authz import gate, signed_in

COMMUNITY_INVITES = "/api/communities/{community_id:str}/invites"
COMMUNITY_INVITE = "/api/communities/{community_id:str}/invites/{invite_id:str}"
BY_CODE = "/api/community-invites/{code:str}"
GROUP_INVITES = "/api/groups/{group_id:str}/invites"
GROUP_INVITE = "/api/groups/{group_id:str}/invites/{invite_id:str}"
GROUP_BY_CODE = "/api/invites/{code:str}"

# grp-admin+ of G: its owner, and the instance owner
GROUP_ADMINS = {"community_owner", "instance_owner"}


def group_admin(status: int, denied: int = 403, **overrides: int) -> dict[str, int]:
    expect = signed_in(denied)
    for role in GROUP_ADMINS:
        expect[role] = status
    expect.update(overrides)
    return expect


CASES = [
    # -- community invites, inside the gate ---------------------------------------------------
    Case(
        "GET",
        COMMUNITY_INVITES,
        "/api/communities/{community}/invites",
        gate(200, at_least="admin"),
    ),
    Case(
        "GET",
        COMMUNITY_INVITES,
        "/api/communities/not-a-uuid/invites",
        signed_in(400),
        note="a malformed community id",
    ),
    Case(
        "POST",
        COMMUNITY_INVITES,
        "/api/communities/{community}/invites",
        gate(200, at_least="admin"),
        body={"max_uses": 5, "expires_in_hours": 24},
        note="policy who_can_create_invites=admin",
    ),
    Case(
        "POST",
        COMMUNITY_INVITES,
        "/api/communities/{community}/invites",
        gate(400, at_least="admin"),
        body={"max_uses": None, "expires_in_hours": 0},
        note="expires_in_hours out of range",
    ),
    Case(
        "POST",
        COMMUNITY_INVITES,
        "/api/communities/{community}/invites",
        gate(400, at_least="admin"),
        body={"max_uses": 0},
        note="max_uses below 1 (ours)",
    ),
    Case(
        "DELETE",
        COMMUNITY_INVITE,
        "/api/communities/{community}/invites/{community_invite_id}",
        gate(200, at_least="admin"),
    ),
    Case(
        "DELETE",
        COMMUNITY_INVITE,
        "/api/communities/{community}/invites/{random}",
        gate(404, at_least="admin"),
        note="unknown invite",
    ),
    Case(
        "DELETE",
        COMMUNITY_INVITE,
        "/api/communities/{community}/invites/{group_invite_id}",
        gate(404, at_least="admin"),
        note="not a community invite",
    ),
    # -- community invites by code ------------------------------------------------------------
    Case("GET", BY_CODE, "/api/community-invites/{community_invite_code}", signed_in(200)),
    Case("GET", BY_CODE, "/api/community-invites/NoSuchCode00", signed_in(404), note="unknown"),
    Case("GET", BY_CODE, "/api/community-invites/" + "x" * 101, signed_in(400), note="too long"),
    Case(
        "POST",
        BY_CODE + "/accept",
        "/api/community-invites/{community_invite_code}/accept",
        signed_in(409, outsider=200, banned=403, instance_admin=200, instance_owner=200),
        note="members: already a member; banned: 403",
    ),
    Case(
        "POST",
        BY_CODE + "/accept",
        "/api/community-invites/NoSuchCode00/accept",
        signed_in(404),
        note="unknown",
    ),
    # -- group invites --------------------------------------------------------------------------
    Case("GET", GROUP_INVITES, "/api/groups/{group}/invites", group_admin(200)),
    Case(
        "GET",
        GROUP_INVITES,
        "/api/groups/{random}/invites",
        signed_in(403, instance_owner=404),
        note="unknown group: 403 (only the instance owner learns it does not exist)",
    ),
    Case("POST", GROUP_INVITES, "/api/groups/{group}/invites", group_admin(200), body={}),
    Case(
        "POST",
        GROUP_INVITES,
        "/api/groups/{group}/invites",
        group_admin(400),
        body={"max_uses": -1, "expires_in_hours": 5},
        note="max_uses below 1 (ours)",
    ),
    Case(
        "POST",
        GROUP_INVITES,
        "/api/groups/{group}/invites",
        group_admin(400),
        body={"expires_in_hours": 8761},
        note="expires_in_hours out of range",
    ),
    Case("DELETE", GROUP_INVITE, "/api/groups/{group}/invites/{group_invite_id}", group_admin(200)),
    Case(
        "DELETE",
        GROUP_INVITE,
        "/api/groups/{group}/invites/{random}",
        group_admin(404),
        note="unknown invite",
    ),
    Case("GET", GROUP_BY_CODE, "/api/invites/{group_invite_code}", signed_in(200)),
    Case("GET", GROUP_BY_CODE, "/api/invites/NoSuchCode00", signed_in(404), note="unknown"),
    Case("GET", GROUP_BY_CODE, "/api/invites/" + "x" * 101, signed_in(404), note="too long"),
    Case(
        "POST",
        GROUP_BY_CODE + "/accept",
        "/api/invites/{group_invite_code}/accept",
        signed_in(409, outsider=400, banned=400, instance_admin=400, instance_owner=200),
        note="group members: 409; not in the community: 400; instance owner exempt",
    ),
    Case(
        "POST",
        GROUP_BY_CODE + "/accept",
        "/api/invites/NoSuchCode00/accept",
        signed_in(404),
        note="unknown",
    ),
]
