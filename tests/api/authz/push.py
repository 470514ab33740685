"""/api/push/*: the VAPID key is public (404: push is not configured in the matrix's
settings); subscribing and unsubscribing are for any signed-in user."""

from __future__ import annotations

from tests.api.authz import Case, any_user, public

# A real P-256 point and a 16-byte secret (URL-safe base64), as a browser sends them.
P256DH = "BEl62iUYgUivxIkv69yViEuiBIa-Ib9-SkvMeAtA3LFgDzkrxZJjSgSnfckjBJuBkr3qBUYIHBQFLXYp5Nksh8U"
AUTH = "tBHItJI5svbpez7KI4CCXg"
SUBSCRIPTION = {
    "endpoint": "https://push.example.com/sub/1",
    "p256dh_key": P256DH,
    "auth_key": AUTH,
}

CASES = [
    Case(
        "GET",
        "/api/push/vapid-key",
        "/api/push/vapid-key",
        public(404),
        note="configured: tests/api/test_push.py",
    ),
    Case("POST", "/api/push/subscribe", "/api/push/subscribe", any_user(204), body=SUBSCRIPTION),
    Case(
        "POST",
        "/api/push/unsubscribe",
        "/api/push/unsubscribe",
        any_user(204),
        body={"endpoint": "https://push.example.com/sub/1"},
    ),
]
