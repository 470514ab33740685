"""The HTTP edge refuses hostile input before any route runs (issue 6, defects 1, 2, 7, 10, 12):
NUL characters, deep nesting and oversized JSON bodies are 4xx in the error shape on every
route; HEAD, case-insensitive bearer, OPTIONS and empty 200s behave as HTTP clients expect."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from chatalot.api.json_body import MAX_DEPTH, decode_json_body
from chatalot.app import MAX_REQUEST_BODY_BYTES, create_litestar
from chatalot.context import Ctx
from chatalot.errors import Invalid
from tests.support.auth import PASSWORD, bearer, make_user, register

JSON = {"content-type": "application/json"}


def assert_error(response: httpx.Response, status: int, message_part: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == {400: "validation_error", 413: "payload_too_large"}[status]
    assert message_part in error["message"], error["message"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/auth/login", b'{"username":"a\\u0000b","password":"x"}', "username"),
        ("/api/auth/login", b'{"username":"ab","password":"x\\u0000"}', "password"),
        (
            "/api/auth/recover",
            b'{"username":"a\\u0000b","recovery_code":"AAAA-BBBB-CCCC-DDDD",'
            b'"new_password":"Aa1!aaaaaa"}',
            "username",
        ),
        ("/api/auth/register", b'{"username":"x","invite_code":"\\u0000"}', "invite_code"),
        ("/api/auth/login", b'{"username\\u0000":"ab","password":"x"}', "a key of"),
    ],
)
async def test_nul_in_json_is_refused_before_the_route(
    client: httpx.AsyncClient, path: str, body: bytes, field: str
) -> None:
    """A NUL in any JSON string or key is a 400 naming the field, before authentication
    (PostgreSQL text cannot hold it; it used to end in a 500)."""
    assert_error(await client.post(path, content=body, headers=JSON), 400, field)


async def test_nul_deep_inside_is_named_with_its_path(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """The message names where the NUL is, also inside nested objects of protected routes."""
    user = await make_user(ctx, "nulprefs")
    response = await client.put(
        "/api/account/preferences",
        content=b'{"theme":{"names":["ok","b\\u0000d"]}}',
        headers={**JSON, **user.headers},
    )
    assert_error(response, 400, "theme.names[1]")


async def test_escaped_backslash_before_u0000_is_plain_text(client: httpx.AsyncClient) -> None:
    """``"\\\\u0000"`` is the six characters \\u0000, not a NUL: it passes the check."""
    body = b'{"username":"a\\\\u0000b","password":"x"}'
    response = await client.post("/api/auth/login", content=body, headers=JSON)
    assert response.status_code == 401


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1000, 100_000])
async def test_deep_nesting_is_refused(client: httpx.AsyncClient, depth: int) -> None:
    """JSON nested deeper than MAX_DEPTH is a 400 on any JSON route (1,000 deep used to
    exhaust the recursion limit and end in a 500)."""
    body = b"[" * depth + b"]" * depth
    response = await client.post("/api/auth/login", content=body, headers=JSON)
    assert_error(response, 400, "nested too deeply")


def test_nesting_up_to_the_limit_is_decoded() -> None:
    """Exactly MAX_DEPTH levels pass the edge (routes may set a lower limit of their own, as
    preferences does); one more is refused."""
    at_limit = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    assert decode_json_body(at_limit) is not None
    with pytest.raises(Invalid, match="nested too deeply"):
        decode_json_body(b"[" + at_limit + b"]")


async def test_malformed_json_is_named(client: httpx.AsyncClient) -> None:
    """Truncated JSON is a 400 saying it is malformed."""
    response = await client.post("/api/auth/login", content=b'{"username":', headers=JSON)
    assert_error(response, 400, "malformed JSON")


async def test_oversized_json_body_is_refused_unread(client: httpx.AsyncClient) -> None:
    """A JSON body over 1 MiB is a 413 on every route, unauthenticated login included."""
    padding = b"x" * MAX_REQUEST_BODY_BYTES
    body = b'{"username":"' + padding + b'","password":"x"}'
    response = await client.post("/api/auth/login", content=body, headers=JSON)
    assert_error(response, 413, "too large")


async def test_oversized_chunked_body_is_refused(client: httpx.AsyncClient) -> None:
    """Without Content-Length (chunked), the limit is enforced while reading."""

    async def chunks() -> Any:
        for _ in range(20):
            yield b"x" * (128 * 1024)

    response = await client.post("/api/auth/login", content=chunks(), headers=JSON)
    assert_error(response, 413, "too large")


async def test_a_body_just_under_the_limit_is_read(client: httpx.AsyncClient) -> None:
    """The limit is not lower than documented: a 1 MiB - 1 KiB body reaches the route."""
    padding = b"x" * (MAX_REQUEST_BODY_BYTES - 1024)
    body = b'{"username":"ab","password":"x","pad":"' + padding + b'"}'
    response = await client.post("/api/auth/login", content=body, headers=JSON)
    assert response.status_code == 401  # read, parsed, and refused as a wrong login


def test_only_upload_routes_raise_the_limit(ctx: Ctx) -> None:
    """Every route keeps the 1 MiB default except the multipart upload routes. The file upload
    sets none for the framework: MAX_FILE_SIZE_MB is configuration, and its own streaming reader
    counts the body against it (tests/api/test_files*.py)."""
    app = create_litestar(ctx)
    raised = set()
    unlimited = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            limit = handler.resolve_request_max_body_size()
            if limit is None:
                unlimited.add(route.path)
                continue
            assert limit >= MAX_REQUEST_BODY_BYTES
            if limit > MAX_REQUEST_BODY_BYTES:
                raised.add(route.path)
    assert unlimited == {"/api/files/upload"}
    assert raised == {
        "/api/account/avatar",
        "/api/account/banner",
        "/api/account/voice-background",
        "/api/feedback",
        "/api/communities/{community_id:str}/icon",
        "/api/communities/{community_id:str}/banner",
        "/api/communities/{community_id:str}/emojis",
        "/api/groups/{group_id:str}/icon",
        "/api/groups/{group_id:str}/banner",
        "/api/groups/{group_id:str}/channels/{channel_id:str}/voice-background",
    }


@pytest.mark.parametrize(
    "url",
    ["/api/users/search?q=a%00b", "/api/avatars/x%00.png", "/api/health?x=%00"],
)
async def test_nul_in_url_is_refused(client: httpx.AsyncClient, url: str) -> None:
    """A %00 in the path or query string is a 400 on every route."""
    assert_error(await client.get(url), 400, "NUL")


async def test_head_is_answered_wherever_get_is(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """HEAD /api/health (uptime monitors) and HEAD on protected routes: GET's status and
    headers, no body."""
    get = await client.get("/api/health")
    head = await client.head("/api/health")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.headers["content-type"] == "application/json"
    user = await make_user(ctx, "header")
    assert (await client.head("/api/account/me", headers=user.headers)).status_code == 200
    assert (await client.head("/api/account/me")).status_code == 401


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
async def test_bearer_scheme_is_case_insensitive(
    client: httpx.AsyncClient, ctx: Ctx, scheme: str
) -> None:
    """The Authorization scheme is matched case-insensitively (RFC 9110 11.1)."""
    user = await make_user(ctx, f"case{scheme}")
    response = await client.get(
        "/api/account/me", headers={"Authorization": f"{scheme} {user.token}"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearerabc", "Token x"])
async def test_other_schemes_are_refused(client: httpx.AsyncClient, header: str) -> None:
    """Anything but a bearer token is a 401."""
    response = await client.get("/api/account/me", headers={"Authorization": header})
    assert response.status_code == 401


async def test_options_lists_every_method_of_every_path(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """OPTIONS on each API path lists all its methods (plus HEAD with GET, and OPTIONS), also
    where several modules add methods to one path."""
    app = create_litestar(ctx)
    expected: dict[str, set[str]] = {}
    for route in app.routes:
        if not route.path.startswith("/api/") or route.path.startswith("/api/openapi"):
            continue  # the OpenAPI document's routes are Litestar's own (GET only)
        methods = set(route.methods) | {"OPTIONS"}
        if "GET" in methods:
            methods.add("HEAD")
        expected[route.path] = methods
    assert expected["/api/admin/settings"] >= {"GET", "PUT"}
    assert expected["/api/account/voice-background"] >= {"POST", "DELETE"}
    for path, methods in expected.items():
        concrete = path.replace("{", "").replace("}", "").replace(":str", "")
        response = await client.options(concrete)
        assert response.status_code == 204, path
        assert set(response.headers["allow"].split(", ")) == methods, path


async def test_empty_200_has_no_content_type(client: httpx.AsyncClient) -> None:
    """Actions that return nothing answer 200 with an empty body and no Content-Type."""
    data = await register(client, "emptybody")
    login = await client.post(
        "/api/auth/login", json={"username": "emptybody", "password": PASSWORD}
    )
    sessions = (
        await client.get("/api/account/sessions", headers=bearer(data["access_token"]))
    ).json()
    other = next(s for s in sessions if not s["current"])
    response = await client.delete(
        f"/api/account/sessions/{other['id']}", headers=bearer(data["access_token"])
    )
    assert response.status_code == 200
    assert response.content == b""
    assert "content-type" not in response.headers
    assert response.headers["content-length"] == "0"
    assert login.status_code == 200
