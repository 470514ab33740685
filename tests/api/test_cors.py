"""CORS, answered by the edge: the desktop client's origin (``tauri://localhost``, a default of
CORS_ORIGINS) may call the API; no other origin gets a grant."""

from __future__ import annotations

import httpx
import pytest

DESKTOP = "tauri://localhost"


async def test_preflight_of_an_allowed_origin(client: httpx.AsyncClient) -> None:
    """204 with the grant: the origin, the methods and headers the API takes."""
    response = await client.options(
        "/api/communities",
        headers={
            "Origin": DESKTOP,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "Content-Type, Authorization",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == DESKTOP
    assert response.headers["vary"] == "Origin"
    methods = response.headers["access-control-allow-methods"].split(", ")
    assert set(methods) == {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
    assert {"authorization", "content-type"} <= set(
        response.headers["access-control-allow-headers"].split(", ")
    )
    assert response.content == b""


@pytest.mark.parametrize(
    ("origin", "method", "headers", "refused"),
    [
        ("https://evil.example", "POST", None, "Origin"),
        (DESKTOP, "TRACE", None, "method"),
        (DESKTOP, "POST", "x-evil", "headers"),
    ],
)
async def test_preflight_refusals(
    client: httpx.AsyncClient, origin: str, method: str, headers: str | None, refused: str
) -> None:
    """Another origin, method or request header: 400 naming it, and no grant."""
    sent = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers is not None:
        sent["Access-Control-Request-Headers"] = headers
    response = await client.options("/api/auth/login", headers=sent)
    assert response.status_code == 400
    assert response.text == f"Disallowed CORS {refused}"
    assert "access-control-allow-origin" not in response.headers


async def test_grant_on_responses_of_an_allowed_origin(client: httpx.AsyncClient) -> None:
    """A response to the allowed origin carries the grant (errors too); to others, none."""
    ok = await client.get("/api/health", headers={"Origin": DESKTOP})
    assert ok.headers["access-control-allow-origin"] == DESKTOP
    assert ok.headers["vary"] == "Origin"
    unauthorized = await client.get("/api/account/me", headers={"Origin": DESKTOP})
    assert unauthorized.status_code == 401
    assert unauthorized.headers["access-control-allow-origin"] == DESKTOP
    other = await client.get("/api/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    plain = await client.get("/api/health")
    assert "access-control-allow-origin" not in plain.headers


async def test_options_without_origin_lists_methods(client: httpx.AsyncClient) -> None:
    """Without an Origin, OPTIONS is not a preflight: 204 with Allow."""
    response = await client.options("/api/communities")
    assert response.status_code == 204
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
