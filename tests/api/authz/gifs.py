"""/api/gifs/*: any signed-in user. GIPHY is not configured in the matrix's settings, so a
signed-in caller gets 400 ``GIF search is not configured on this server``; with a (fake) GIPHY:
tests/api/test_gifs.py."""

from __future__ import annotations

from tests.api.authz import Case, any_user

CASES = [
    Case("GET", "/api/gifs/search", "/api/gifs/search?q=cats", any_user(400)),
    Case("GET", "/api/gifs/trending", "/api/gifs/trending", any_user(400)),
]
