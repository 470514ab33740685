"""/api/dms: any signed-in user; creating needs a shared community (instance owner exempt).
{dm_channel} already joins ``member`` and ``target``."""

from __future__ import annotations

from tests.api.authz import Case
from tests.api.community_authz import signed_in

CASES = [
    Case("GET", "/api/dms", "/api/dms", signed_in(200)),
    Case(
        "POST",
        "/api/dms",
        "/api/dms",
        signed_in(200, outsider=403, banned=403, instance_admin=403),
        body={"target_user_id": "{target}"},
        note="members share the community; the instance owner needs none",
    ),
    Case(
        "POST",
        "/api/dms",
        "/api/dms",
        signed_in(400),
        body={"target_user_id": "{me}"},
        note="oneself",
    ),
    Case(
        "POST",
        "/api/dms",
        "/api/dms",
        signed_in(404),
        body={"target_user_id": "{random}"},
        note="unknown user",
    ),
    Case(
        "POST",
        "/api/dms",
        "/api/dms",
        signed_in(400),
        body={"target_user_id": "not-a-uuid"},
        note="malformed id",
    ),
]
