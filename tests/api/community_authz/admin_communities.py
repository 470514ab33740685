"""/api/admin/communities (instance staff) and /api/communities/discover (anyone signed in)."""

from __future__ import annotations

from tests.api.authz import Case
from tests.api.community_authz import ROLES, signed_in


def staff_only(status: int) -> dict[str, int]:
    """Instance admins and the owner get ``status``; every other signed-in role 403."""
    return {
        **dict.fromkeys(ROLES, 403),
        "anonymous": 401,
        "instance_admin": status,
        "instance_owner": status,
    }


CASES = [
    Case("GET", "/api/admin/communities", "/api/admin/communities", staff_only(200)),
    Case(
        "GET",
        "/api/admin/communities",
        "/api/admin/communities?search=" + "x" * 257,
        staff_only(400),
        note="an over-long search is a 400 for staff, still a 403 for everyone else",
    ),
    Case(
        "GET",
        "/api/admin/communities",
        "/api/admin/communities?limit=0",
        signed_in(400),
        note="limit/offset are parsed before the admin check (as in /api/admin/users)",
    ),
    Case("GET", "/api/communities/discover", "/api/communities/discover", signed_in(200)),
    Case(
        "GET",
        "/api/communities/discover",
        "/api/communities/discover?limit=101",
        signed_in(400),
    ),
]
