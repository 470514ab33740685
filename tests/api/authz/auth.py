"""/api/auth, /api/health and the caller's sessions."""

from __future__ import annotations

from tests.api.authz import Case, any_user, public

CASES = [
    Case("GET", "/api/health", "/api/health", public(200)),
    Case("GET", "/api/auth/config", "/api/auth/config", public(200)),
    Case(
        "POST",
        "/api/auth/login",
        "/api/auth/login",
        public(401),
        body={"username": "nobody-here", "password": "Wrong-pass-1"},
    ),
    Case(
        "POST",
        "/api/auth/refresh",
        "/api/auth/refresh",
        public(401),
        body={"refresh_token": "00" * 32},
    ),
    Case(
        "POST",
        "/api/auth/recover",
        "/api/auth/recover",
        public(400),
        body={
            "username": "nobody-here",
            "recovery_code": "AAAA-BBBB-CCCC-DDDD",
            "new_password": "x",
        },
    ),
    Case(
        "POST",
        "/api/auth/register",
        "/api/auth/register",
        public(400),
        body={
            "username": "x",
            "email": "bad",
            "password": "p",
            "display_name": "",
            "identity_key": [],
            "signed_prekey": {"key_id": 1, "public_key": [], "signature": []},
            "one_time_prekeys": [],
            "invite_code": "nope",
        },
        note="users exist and the invite is bad: 400 for everyone",
    ),
    Case("GET", "/api/account/sessions", "/api/account/sessions", any_user(200)),
    Case(
        "DELETE",
        "/api/account/sessions/{session_id:str}",
        "/api/account/sessions/{random}",
        any_user(404),
    ),
    Case("POST", "/api/account/logout-all", "/api/account/logout-all", any_user(200), body={}),
]
