"""/api/admin: user management, registration invites, audit log, instance settings.

Targets are chosen so that admin and owner both have something meaningful to do: acting on
{user} succeeds for both; acting on {owner} is refused for admins (403) and is self-targeting
for the owner (400); acting on {admin} is self-targeting for the admin (400)."""

from __future__ import annotations

from tests.api.authz import Case, admin_only, owner_only

NEW_PASSWORD = "N3w-Password!"

CASES = [
    Case("GET", "/api/admin/users", "/api/admin/users", admin_only(200)),
    Case(
        "POST",
        "/api/admin/users/{user_id:str}/suspend",
        "/api/admin/users/{other}/suspend",
        admin_only(200),
        body={"reason": "spam"},
        note="role 'other' targets itself but is refused as a plain user first",
    ),
    Case(
        "POST",
        "/api/admin/users/{user_id:str}/suspend",
        "/api/admin/users/{owner}/suspend",
        admin_only(403, owner=400),
        body={"reason": None},
        note="admins never act on the owner; the owner cannot suspend itself",
    ),
    Case(
        "POST",
        "/api/admin/users/{user_id:str}/suspend",
        "/api/admin/users/{admin}/suspend",
        admin_only(400),
        body={},
        note="admin: self; owner: admins must be demoted first",
    ),
    Case(
        "POST",
        "/api/admin/users/{user_id:str}/unsuspend",
        "/api/admin/users/{suspended}/unsuspend",
        admin_only(200),
        body={},
    ),
    Case(
        "DELETE",
        "/api/admin/users/{user_id:str}",
        "/api/admin/users/{other}",
        admin_only(200),
    ),
    Case(
        "DELETE",
        "/api/admin/users/{user_id:str}",
        "/api/admin/users/{owner}",
        admin_only(403, owner=400),
    ),
    Case(
        "DELETE",
        "/api/admin/users/{user_id:str}",
        "/api/admin/users/{random}",
        admin_only(404),
    ),
    Case(
        "PUT",
        "/api/admin/users/{user_id:str}/admin",
        "/api/admin/users/{user}/admin",
        owner_only(200),
        body={"is_admin": True},
    ),
    Case(
        "PUT",
        "/api/admin/users/{user_id:str}/admin",
        "/api/admin/users/{admin}/admin",
        owner_only(200),
        body={"is_admin": False},
    ),
    Case(
        "PUT",
        "/api/admin/users/{user_id:str}/password",
        "/api/admin/users/{other}/password",
        admin_only(200),
        body={"new_password": NEW_PASSWORD},
    ),
    Case(
        "PUT",
        "/api/admin/users/{user_id:str}/password",
        "/api/admin/users/{admin}/password",
        admin_only(400, owner=200),
        body={"new_password": NEW_PASSWORD},
        note="admin: self; only the owner resets an admin's password",
    ),
    Case(
        "PUT",
        "/api/admin/users/{user_id:str}/password",
        "/api/admin/users/{owner}/password",
        admin_only(403, owner=400),
        body={"new_password": NEW_PASSWORD},
    ),
    Case("GET", "/api/admin/invites", "/api/admin/invites", admin_only(200)),
    Case(
        "POST",
        "/api/admin/invites",
        "/api/admin/invites",
        admin_only(200),
        body={"max_uses": 5, "expires_in_hours": 24},
    ),
    Case(
        "DELETE",
        "/api/admin/invites/{invite_id:str}",
        "/api/admin/invites/{random}",
        admin_only(404),
    ),
    Case("GET", "/api/admin/audit-log", "/api/admin/audit-log", admin_only(200)),
    Case("GET", "/api/admin/settings", "/api/admin/settings", admin_only(200)),
    Case(
        "PUT",
        "/api/admin/settings",
        "/api/admin/settings",
        admin_only(200),
        body={"max_pins_per_channel": "60"},
    ),
]
