"""/api/voice/turn-credentials (TURN is not configured in the matrix's settings: 404)."""

from __future__ import annotations

from tests.api.authz import Case, any_user

CASES = [
    Case(
        "GET",
        "/api/voice/turn-credentials",
        "/api/voice/turn-credentials",
        any_user(404),
        note="configured TURN: tests/api/test_turn.py",
    ),
]
