"""/api/channels/{channel_id}/messages and .../messages/{message_id}/history: channel members
only (instance staff who are not members: 403, as for every channel read)."""

from __future__ import annotations

from tests.api.authz import Case
from tests.api.community_authz import signed_in

LIST = "/api/channels/{channel_id:str}/messages"
HISTORY = "/api/channels/{channel_id:str}/messages/{message_id:str}/history"

CHANNEL_MEMBERS = signed_in(200, outsider=403, banned=403, instance_admin=403, instance_owner=403)
ONLY_OWNER = {**signed_in(403), "community_owner": 200}
DM_MEMBERS = {**signed_in(403), "member": 200}  # the DM is between member and target
MEMBERS_404 = {r: (404 if s == 200 else s) for r, s in CHANNEL_MEMBERS.items()}

CASES = [
    Case("GET", LIST, "/api/channels/{channel}/messages", CHANNEL_MEMBERS),
    Case("GET", LIST, "/api/channels/{private_channel}/messages", ONLY_OWNER, note="private"),
    Case("GET", LIST, "/api/channels/{dm_channel}/messages", DM_MEMBERS, note="DM"),
    Case("GET", LIST, "/api/channels/{random}/messages", signed_in(403), note="unknown channel"),
    Case("GET", LIST, "/api/channels/bad/messages", signed_in(400), note="bad channel id"),
    Case(
        "GET",
        LIST,
        "/api/channels/{channel}/messages?before={random}&limit=10",
        CHANNEL_MEMBERS,
        note="unknown before: empty page",
    ),
    Case(
        "GET",
        LIST,
        "/api/channels/{channel}/messages?before=nope",
        signed_in(400),
        note="bad before id (checked before membership)",
    ),
    Case(
        "GET",
        LIST,
        "/api/channels/{channel}/messages?limit=-1",
        signed_in(400),
        note="bad limit (checked before membership)",
    ),
    Case(
        "GET",
        HISTORY,
        "/api/channels/{channel}/messages/{random}/history",
        MEMBERS_404,
        note="unknown message: 404 for members",
    ),
    Case(
        "GET",
        HISTORY,
        "/api/channels/{dm_channel}/messages/{random}/history",
        {**signed_in(403), "member": 404},
        note="DM",
    ),
    Case(
        "GET",
        HISTORY,
        "/api/channels/bad/messages/{random}/history",
        signed_in(400),
        note="bad channel id",
    ),
    Case(
        "GET",
        HISTORY,
        "/api/channels/{channel}/messages/bad/history",
        signed_in(400),
        note="bad message id",
    ),
]
