"""/api/channels/{channel_id}/sender-keys: channel members only (no bypass for instance staff:
a distribution holds the key to the member's messages)."""

from __future__ import annotations

from tests.api.authz import Case
from tests.api.community_authz import signed_in

POST = "/api/channels/{channel_id:str}/sender-keys"
BODY = {"chain_id": 7, "distribution": {"chain_id": 7, "iteration": 0, "chain_key": [1] * 32}}

# Members of the public group's channel: everyone in the community except the banned user.
CHANNEL_MEMBERS = signed_in(200, outsider=403, banned=403, instance_admin=403, instance_owner=403)
ONLY_OWNER = {**signed_in(403), "community_owner": 200}
DM_MEMBERS = {**signed_in(403), "member": 200}

CASES = [
    Case("POST", POST, "/api/channels/{channel}/sender-keys", CHANNEL_MEMBERS, body=BODY),
    Case(
        "POST",
        POST,
        "/api/channels/{private_channel}/sender-keys",
        ONLY_OWNER,
        body=BODY,
        note="private group channel",
    ),
    Case("POST", POST, "/api/channels/{dm_channel}/sender-keys", DM_MEMBERS, body=BODY, note="DM"),
    Case(
        "POST",
        POST,
        "/api/channels/{random}/sender-keys",
        signed_in(403),
        body=BODY,
        note="unknown channel: 403, not 404",
    ),
    Case(
        "POST",
        POST,
        "/api/channels/not-a-uuid/sender-keys",
        signed_in(400),
        body=BODY,
        note="bad channel id",
    ),
    Case(
        "POST",
        POST,
        "/api/channels/{channel}/sender-keys",
        signed_in(400),
        body={"chain_id": "seven", "distribution": {}},
        note="chain_id not a number",
    ),
    Case(
        "POST",
        POST,
        "/api/channels/{channel}/sender-keys",
        signed_in(400),
        body={"chain_id": 2**63, "distribution": {}},
        note="chain_id beyond int64",
    ),
    Case(
        "POST",
        POST,
        "/api/channels/{channel}/sender-keys",
        {
            **CHANNEL_MEMBERS,
            **{r: 400 for r, s in CHANNEL_MEMBERS.items() if s == 200},
        },
        body={"chain_id": 1, "distribution": "x" * 70_000},
        note="distribution over 64 KB: 400 for members, 403 for everyone else",
    ),
    Case("GET", POST, "/api/channels/{channel}/sender-keys", CHANNEL_MEMBERS),
    Case(
        "GET",
        POST,
        "/api/channels/{private_channel}/sender-keys",
        ONLY_OWNER,
        note="private group channel",
    ),
    Case("GET", POST, "/api/channels/{dm_channel}/sender-keys", DM_MEMBERS, note="DM"),
    Case(
        "GET",
        POST,
        "/api/channels/{random}/sender-keys",
        signed_in(403),
        note="unknown channel",
    ),
    Case(
        "GET",
        POST,
        "/api/channels/bad/sender-keys",
        signed_in(400),
        note="bad channel id",
    ),
]
