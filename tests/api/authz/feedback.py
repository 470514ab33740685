"""/api/feedback: any signed-in user (multipart)."""

from __future__ import annotations

from tests.api.authz import Case, any_user

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16

CASES = [
    Case(
        "POST",
        "/api/feedback",
        "/api/feedback",
        any_user(200),
        data={"title": "Matrix", "description": "Authorization matrix", "category": "other"},
        files={"screenshot": ("s.png", PNG, "image/png")},
        note="GitHub is not configured in tests: stored only",
    ),
]
