"""/api/channels/{channel_id}/messages/search: channel members only (instance staff who are not
members: 403, as for every read of messages); /api/messages/search: any signed-in user, over
the channels they are a member of. The query is checked before membership."""

from __future__ import annotations

from tests.api.authz import Case
from tests.api.community_authz import signed_in
from tests.api.community_authz.messages import CHANNEL_MEMBERS, DM_MEMBERS, ONLY_OWNER

IN_CHANNEL = "/api/channels/{channel_id:str}/messages/search"
EVERYWHERE = "/api/messages/search"

CASES = [
    Case("GET", IN_CHANNEL, "/api/channels/{channel}/messages/search?q=hello", CHANNEL_MEMBERS),
    Case(
        "GET",
        IN_CHANNEL,
        "/api/channels/{private_channel}/messages/search?q=hello",
        ONLY_OWNER,
        note="private",
    ),
    Case(
        "GET",
        IN_CHANNEL,
        "/api/channels/{dm_channel}/messages/search?q=hello",
        DM_MEMBERS,
        note="DM",
    ),
    Case(
        "GET",
        IN_CHANNEL,
        "/api/channels/{random}/messages/search?q=hello",
        signed_in(403),
        note="unknown channel",
    ),
    Case(
        "GET",
        IN_CHANNEL,
        "/api/channels/bad/messages/search?q=hello",
        signed_in(400),
        note="bad channel id",
    ),
    Case(
        "GET",
        IN_CHANNEL,
        "/api/channels/{channel}/messages/search?q=h",
        signed_in(400),
        note="query too short (checked before membership)",
    ),
    Case("GET", EVERYWHERE, "/api/messages/search?q=hello", signed_in(200)),
    Case("GET", EVERYWHERE, "/api/messages/search?q=h", signed_in(400), note="query too short"),
    Case(
        "GET",
        EVERYWHERE,
        "/api/messages/search?q=hello&limit=0",
        signed_in(400),
        note="bad limit",
    ),
]
