"""What the edge (api/middleware.py) learns from a request in its one pass over the headers,
kept in the ASGI scope under ``FACTS_KEY`` so that later steps (authentication, the request's
metadata for sessions and the audit log) read it instead of parsing the headers again."""

from __future__ import annotations

from collections.abc import Mapping

FACTS_KEY = "chatalot.request_facts"


class RequestFacts:
    """Raw header values as they came (bytes), except the resolved client address and the
    request id."""

    __slots__ = (
        "authorization",
        "client_ip",
        "origin",
        "preflight_headers",
        "preflight_method",
        "request_id",
        "user_agent",
    )

    def __init__(self, client_ip: str = "unknown") -> None:
        self.client_ip = client_ip  # behind a trusted proxy: the address it forwarded
        self.request_id: str | None = None  # X-Request-Id when safe to echo
        self.origin: bytes | None = None
        self.preflight_method: bytes | None = None
        self.preflight_headers: bytes | None = None
        self.authorization: bytes | None = None
        self.user_agent: bytes | None = None


def facts_of(scope: Mapping[str, object]) -> RequestFacts | None:
    """The edge's facts about this request; None where no edge ran (an app built without it)."""
    facts = scope.get(FACTS_KEY)
    return facts if isinstance(facts, RequestFacts) else None
