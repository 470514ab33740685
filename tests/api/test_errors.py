"""One error shape everywhere: {"error": {"code", "message"}}, never an HTML page or a trace."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import msgspec
import pytest
from litestar import get, post
from litestar.params import FromPath, JSONBody

from chatalot.app import create_app
from chatalot.context import Ctx
from chatalot.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited, ServiceUnavailable


class EchoIn(msgspec.Struct):
    name: str
    count: int


@post("/api/_test/echo", status_code=200)
async def post_echo(data: JSONBody[EchoIn]) -> dict[str, object]:
    return {"name": data.name, "count": data.count}


@get("/api/_test/boom")
async def get_boom() -> None:
    raise RuntimeError("secret internal detail 0xdeadbeef")


RAISED = {
    "invalid": Invalid("name must not be empty"),
    "forbidden": Forbidden(),
    "notfound": NotFound("channel not found"),
    "conflict": Conflict("username already taken"),
    "ratelimited": RateLimited("too many authentication attempts", retry_after=5),
    "busy": ServiceUnavailable(),
}


@get("/api/_test/raise/{kind:str}")
async def get_raise(kind: FromPath[str]) -> None:
    raise RAISED[kind]


@pytest.fixture
async def test_client(ctx: Ctx) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(ctx, extra_handlers=[post_echo, get_boom, get_raise])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def assert_error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return str(body["error"]["message"])


@pytest.mark.parametrize(
    ("kind", "status", "code", "message"),
    [
        ("invalid", 400, "validation_error", "name must not be empty"),
        ("forbidden", 403, "forbidden", "forbidden"),
        ("notfound", 404, "not_found", "channel not found"),
        ("conflict", 409, "conflict", "username already taken"),
        ("ratelimited", 429, "rate_limited", "too many authentication attempts"),
        ("busy", 503, "service_unavailable", "the server is busy, try again shortly"),
    ],
)
async def test_every_error_class_has_the_shape(
    test_client: httpx.AsyncClient, kind: str, status: int, code: str, message: str
) -> None:
    """Each ChatalotError maps to its status, code and message."""
    response = await test_client.get(f"/api/_test/raise/{kind}")
    assert assert_error(response, status, code) == message


async def test_rate_limited_has_retry_after(test_client: httpx.AsyncClient) -> None:
    """429 carries Retry-After (the client reads it)."""
    response = await test_client.get("/api/_test/raise/ratelimited")
    assert response.headers["retry-after"] == "5"


async def test_unknown_api_path_is_json_404(test_client: httpx.AsyncClient) -> None:
    """Unknown /api paths answer JSON 404, for every method, never the SPA page."""
    for method in ("GET", "POST", "DELETE", "PUT"):
        response = await test_client.request(method, "/api/definitely/not/here")
        message = assert_error(response, 404, "not_found")
        assert "/api/definitely/not/here" in message
    assert_error(await test_client.get("/api"), 404, "not_found")


async def test_wrong_method_is_405(test_client: httpx.AsyncClient) -> None:
    """A known path with the wrong method answers 405 in the error shape."""
    response = await test_client.delete("/api/health")
    assert_error(response, 405, "method_not_allowed")


async def test_unexpected_exception_is_generic_500(
    test_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A crash answers internal_error with a generic message; the detail is only logged."""
    response = await test_client.get("/api/_test/boom")
    assert assert_error(response, 500, "internal_error") == "an internal error occurred"
    assert "deadbeef" not in response.text
    assert "secret internal detail 0xdeadbeef" in caplog.text
    assert response.headers["x-request-id"] in caplog.text


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b'{"name": "x", "count": 1', {"content-type": "application/json"}, 400),
        (b'{"name": "x"}', {"content-type": "application/json"}, 400),
        (b'{"name": 5, "count": 1}', {"content-type": "application/json"}, 400),
        (b"[]", {"content-type": "application/json"}, 400),
        (b"", {"content-type": "application/json"}, 400),
    ],
)
async def test_bad_json_is_a_validation_error(
    test_client: httpx.AsyncClient, body: bytes, headers: dict[str, str], status: int
) -> None:
    """Malformed JSON, missing fields and wrong types are 4xx validation errors, never 500."""
    response = await test_client.post("/api/_test/echo", content=body, headers=headers)
    assert_error(response, status, "validation_error")


async def test_good_json_passes(test_client: httpx.AsyncClient) -> None:
    """Sanity: the same route accepts a correct body."""
    response = await test_client.post("/api/_test/echo", json={"name": "x", "count": 2})
    assert response.status_code == 200
    assert response.json() == {"name": "x", "count": 2}


async def test_missing_body_is_named(test_client: httpx.AsyncClient) -> None:
    """A required JSON body that is absent says so."""
    response = await test_client.post("/api/_test/echo")
    assert assert_error(response, 400, "validation_error") == "request body is required"
