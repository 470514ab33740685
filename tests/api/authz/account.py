"""/api/account (profile, password, images, preferences, recovery code, deletion) and the
public /api/avatars/{filename}. Sessions and logout-all are in auth.py."""

from __future__ import annotations

import io

from PIL import Image

from tests.api.authz import Case, any_user, public
from tests.support.auth import PASSWORD


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (10, 20, 30)).save(out, "PNG")
    return out.getvalue()


PNG = _png()

CASES = [
    Case("GET", "/api/account/me", "/api/account/me", any_user(200)),
    Case(
        "PUT",
        "/api/account/password",
        "/api/account/password",
        any_user(400),
        body={"current_password": "Not-the-password-1", "new_password": "Another-pass-2"},
        note="wrong current password: 400 for every signed-in caller",
    ),
    Case(
        "PUT",
        "/api/account/profile",
        "/api/account/profile",
        any_user(200),
        body={"custom_status": "around"},
    ),
    Case(
        "POST",
        "/api/account/avatar",
        "/api/account/avatar",
        any_user(200),
        files={"avatar": ("a.png", PNG, "image/png")},
    ),
    Case(
        "POST",
        "/api/account/banner",
        "/api/account/banner",
        any_user(200),
        files={"banner": ("b.png", PNG, "image/png")},
    ),
    Case(
        "POST",
        "/api/account/voice-background",
        "/api/account/voice-background",
        any_user(200),
        files={"background": ("v.png", PNG, "image/png")},
    ),
    Case(
        "DELETE",
        "/api/account/voice-background",
        "/api/account/voice-background",
        any_user(200),
        body={},
    ),
    Case(
        "DELETE",
        "/api/account",
        "/api/account",
        {**any_user(200), "owner": 400},
        body={"password": PASSWORD},
        note="the instance owner may not delete their account",
    ),
    Case(
        "POST",
        "/api/account/regenerate-recovery-code",
        "/api/account/regenerate-recovery-code",
        any_user(200),
        body={},
    ),
    Case("GET", "/api/account/preferences", "/api/account/preferences", any_user(200)),
    Case(
        "PUT",
        "/api/account/preferences",
        "/api/account/preferences",
        any_user(200),
        body={"preferences": {"theme": "dark"}},
    ),
    Case(
        "GET",
        "/api/avatars/{filename:str}",
        "/api/avatars/{random}.png",
        public(404),
        note="public: no token needed; unknown file",
    ),
]
