"""/api/legal/*: public documents."""

from __future__ import annotations

from tests.api.authz import Case, public

CASES = [
    Case("GET", "/api/legal/privacy", "/api/legal/privacy", public(200)),
    Case("GET", "/api/legal/terms", "/api/legal/terms", public(200)),
]
