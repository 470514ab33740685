"""/api/link-preview: any signed-in user. The matrix asks for an internal address, which is
refused before anything is fetched (400 ``Cannot preview internal URLs``); fetching real pages:
tests/api/test_link_preview.py."""

from __future__ import annotations

from tests.api.authz import Case, any_user

CASES = [
    Case(
        "GET",
        "/api/link-preview",
        "/api/link-preview?url=http://127.0.0.1/",
        any_user(400),
        note="an internal URL: refused for every signed-in caller, 401 for the others",
    ),
]
