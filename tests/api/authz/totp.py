"""/api/totp/*: the caller's own two-factor settings (fresh users have 2FA off)."""

from __future__ import annotations

from tests.api.authz import Case, any_user

CASES = [
    Case("POST", "/api/totp/setup", "/api/totp/setup", any_user(200), body={}),
    Case(
        "POST",
        "/api/totp/verify",
        "/api/totp/verify",
        any_user(400),
        body={"code": "000000"},
        note="no secret set up yet",
    ),
    Case(
        "POST",
        "/api/totp/disable",
        "/api/totp/disable",
        any_user(400),
        body={"code": "000000"},
        note="2FA is not enabled",
    ),
    Case(
        "POST",
        "/api/totp/regenerate-backup-codes",
        "/api/totp/regenerate-backup-codes",
        any_user(400),
        body={"code": "000000"},
        note="2FA is not enabled",
    ),
]
