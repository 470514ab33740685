"""/api/reports (any user) and /api/admin/reports (instance admins)."""

from __future__ import annotations

from tests.api.authz import Case, admin_only, any_user

CASES = [
    Case(
        "POST",
        "/api/reports",
        "/api/reports",
        any_user(200),
        body={"report_type": "user", "target_id": "{other}", "reason": "spam"},
    ),
    Case("GET", "/api/admin/reports", "/api/admin/reports", admin_only(200)),
    Case(
        "GET",
        "/api/admin/reports",
        "/api/admin/reports?status=bogus",
        admin_only(400),
        note="a bad filter is a 400 for admins, still a 403 for everyone else",
    ),
    Case(
        "POST",
        "/api/admin/reports/{report_id:str}/review",
        "/api/admin/reports/{random}/review",
        admin_only(404),
        body={"status": "resolved", "admin_notes": None},
    ),
]
