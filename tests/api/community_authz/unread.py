"""Unread counts and read cursors."""

from __future__ import annotations

from tests.api.authz import Case
from tests.api.community_authz import gate, signed_in

CURSORS = "/api/channels/{channel_id:str}/read-cursors"

CASES = [
    Case("GET", "/api/channels/unread", "/api/channels/unread", signed_in(200)),
    Case(
        "GET",
        CURSORS,
        "/api/channels/{channel}/read-cursors",
        gate(200),
        note="channel members; instance staff too",
    ),
    Case(
        "GET",
        CURSORS,
        "/api/channels/{random}/read-cursors",
        signed_in(403, instance_admin=404, instance_owner=404),
    ),
    Case("GET", CURSORS, "/api/channels/not-a-uuid/read-cursors", signed_in(400)),
]
