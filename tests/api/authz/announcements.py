"""/api/announcements and its /api/account aliases (any user), /api/admin/announcements
(instance admins)."""

from __future__ import annotations

from tests.api.authz import Case, admin_only, any_user

CASES = [
    Case("GET", "/api/announcements", "/api/announcements", any_user(200)),
    Case("GET", "/api/account/announcements", "/api/account/announcements", any_user(200)),
    Case(
        "POST",
        "/api/announcements/{announcement_id:str}/dismiss",
        "/api/announcements/{random}/dismiss",
        any_user(404),
        note="an unknown announcement is a 404 (the original: 500)",
    ),
    Case(
        "POST",
        "/api/account/announcements/{announcement_id:str}/dismiss",
        "/api/account/announcements/{random}/dismiss",
        any_user(404),
    ),
    Case(
        "POST",
        "/api/admin/announcements",
        "/api/admin/announcements",
        admin_only(200),
        body={"title": "Maintenance", "body": "Tonight at 22:00"},
    ),
    Case(
        "POST",
        "/api/admin/announcements",
        "/api/admin/announcements",
        admin_only(400),
        body={"title": "", "body": "x"},
        note="a bad body is a 400 for admins, still a 403 for everyone else",
    ),
    Case("GET", "/api/admin/announcements", "/api/admin/announcements", admin_only(200)),
]
