"""/api/communities/{cid}/channels/{chid}/timeout|warn|warnings: community moderators and
above (and instance staff), in a channel of that community. ``timed_out`` has an active
timeout in {channel}."""

from __future__ import annotations

from tests.api.authz import Case
from tests.api.community_authz import gate, signed_in

BASE = "/api/communities/{community_id:str}/channels/{channel_id:str}"
HERE = "/api/communities/{community}/channels/{channel}"

CASES = [
    Case(
        "POST",
        f"{BASE}/timeout",
        f"{HERE}/timeout",
        gate(200, at_least="moderator"),
        body={"user_id": "{target}", "duration_seconds": 600, "reason": "calm"},
    ),
    Case(
        "POST",
        f"{BASE}/timeout",
        f"{HERE}/timeout",
        gate(400, at_least="moderator"),
        body={"user_id": "{target}", "duration_seconds": 5},
        note="duration out of range",
    ),
    Case(
        "POST",
        f"{BASE}/timeout",
        f"{HERE}/timeout",
        gate(403, staff=200),
        body={"user_id": "{community_owner}", "duration_seconds": 600},
        note="nobody at or above the caller's level",
    ),
    Case(
        "POST",
        f"{BASE}/timeout",
        "/api/communities/{community}/channels/{private_channel}/timeout",
        gate(400, at_least="moderator"),
        body={"user_id": "{target}", "duration_seconds": 600},
        note="target not in that channel",
    ),
    Case(
        "POST",
        f"{BASE}/timeout",
        "/api/communities/{community}/channels/{dm_channel}/timeout",
        gate(404, at_least="moderator"),
        body={"user_id": "{target}", "duration_seconds": 600},
        note="not a channel of this community",
    ),
    Case(
        "POST",
        f"{BASE}/timeout",
        "/api/communities/{random}/channels/{channel}/timeout",
        signed_in(403, instance_admin=404, instance_owner=404),
        body={"user_id": "{target}", "duration_seconds": 600},
        note="unknown community: the gate, then 404 for staff",
    ),
    Case(
        "DELETE",
        f"{BASE}/timeout/{{user_id:str}}",
        f"{HERE}/timeout/{{timed_out}}",
        gate(200, at_least="moderator"),
    ),
    Case(
        "DELETE",
        f"{BASE}/timeout/{{user_id:str}}",
        f"{HERE}/timeout/{{target}}",
        gate(404, at_least="moderator"),
        note="no active timeout",
    ),
    Case(
        "DELETE",
        f"{BASE}/timeout/{{user_id:str}}",
        "/api/communities/not-a-uuid/channels/{channel}/timeout/{target}",
        signed_in(400),
        note="malformed community id",
    ),
    Case(
        "POST",
        f"{BASE}/warn",
        f"{HERE}/warn",
        gate(200, at_least="moderator"),
        body={"user_id": "{target}", "reason": "be nice"},
    ),
    Case(
        "POST",
        f"{BASE}/warn",
        f"{HERE}/warn",
        gate(400, at_least="moderator"),
        body={"user_id": "{target}", "reason": ""},
        note="empty reason",
    ),
    Case(
        "GET",
        f"{BASE}/warnings/{{user_id:str}}",
        f"{HERE}/warnings/{{target}}",
        gate(200, at_least="moderator"),
    ),
    Case(
        "GET",
        f"{BASE}/warnings/{{user_id:str}}",
        "/api/communities/{community}/channels/{random}/warnings/{target}",
        gate(404, at_least="moderator"),
        note="unknown channel",
    ),
]
