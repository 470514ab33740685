"""GET /api/gifs/search and /api/gifs/trending against a fake GIPHY (a real HTTP server on a
free loopback port, GIPHY_API_URL pointing at it)."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatalot.config import Settings
from chatalot.context import Ctx
from chatalot.services import gifs as service
from tests.conftest import settings_in
from tests.outbound.fake_http import FakeHttpServer, Reply, Seen, serve
from tests.support.auth import make_user

KEY = "test-giphy-key"
_names = itertools.count(1)


def giphy_item(n: int, **overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "type": "gif",
        "id": f"gif{n}",
        "title": f"Cat {n}",
        "images": {
            "original": {
                "url": f"https://media1.giphy.com/media/gif{n}/giphy.gif",
                "width": "480",
                "height": str(200 + n),
            },
            "fixed_width_small": {
                "url": f"https://media1.giphy.com/media/gif{n}/100w.gif",
                "width": "100",
                "height": "42",
            },
        },
    }
    item.update(overrides)
    return item


class FakeGiphy:
    def __init__(self) -> None:
        self.total = 100
        self.items: list[dict[str, Any]] | None = None
        self.reply: Reply | None = None  # overrides everything (errors)

    def __call__(self, seen: Seen) -> Reply:
        if self.reply is not None:
            return self.reply
        query = seen.query
        limit, offset = int(query["limit"]), int(query["offset"])
        items = (
            self.items
            if self.items is not None
            else [giphy_item(i) for i in range(offset, min(offset + limit, self.total))]
        )
        body = {
            "data": items,
            "pagination": {"total_count": self.total, "count": len(items), "offset": offset},
            "meta": {"status": 200, "msg": "OK"},
        }
        return Reply(200, [("Content-Type", "application/json")], json.dumps(body).encode())


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    service.cache.clear()
    yield
    service.cache.clear()


@pytest.fixture
def fake() -> FakeGiphy:
    return FakeGiphy()


@pytest.fixture
async def giphy(fake: FakeGiphy) -> AsyncIterator[FakeHttpServer]:
    async with serve(fake) as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path, giphy: FakeHttpServer) -> Settings:
    return settings_in(tmp_path, GIPHY_API_KEY=KEY, GIPHY_API_URL=giphy.url("/"))


async def get(client: httpx.AsyncClient, ctx: Ctx, path: str, **params: str) -> httpx.Response:
    user = await make_user(ctx, f"gifuser{next(_names)}")
    return await client.get(path, params=params, headers=user.headers)


async def test_search_asks_giphy_as_documented_and_maps_the_answer(
    client: httpx.AsyncClient, ctx: Ctx, giphy: FakeHttpServer
) -> None:
    response = await get(client, ctx, "/api/gifs/search", q="  funny cats ")
    assert response.status_code == 200, response.text
    [seen] = giphy.requests
    assert seen.method == "GET" and seen.path == "/v1/gifs/search"
    assert seen.query == {
        "api_key": KEY,
        "q": "funny cats",
        "limit": "20",
        "offset": "0",
        "rating": "g",
    }
    body = response.json()
    assert body["next"] == "20"
    assert len(body["results"]) == 20
    assert body["results"][0] == {
        "id": "gif0",
        "title": "Cat 0",
        "preview_url": "https://media1.giphy.com/media/gif0/100w.gif",
        "url": "https://media1.giphy.com/media/gif0/giphy.gif",
        "width": 480,
        "height": 200,
    }


async def test_trending_has_no_query_and_pages_with_pos(
    client: httpx.AsyncClient, ctx: Ctx, giphy: FakeHttpServer, fake: FakeGiphy
) -> None:
    fake.total = 45
    response = await get(client, ctx, "/api/gifs/trending", limit="20", pos="40")
    [seen] = giphy.requests
    assert seen.path == "/v1/gifs/trending"
    assert seen.query == {"api_key": KEY, "limit": "20", "offset": "40", "rating": "g"}
    body = response.json()
    assert [g["id"] for g in body["results"]] == [f"gif{i}" for i in range(40, 45)]
    assert body["next"] is None  # the last page


@pytest.mark.parametrize(("limit", "sent"), [("1", "1"), ("50", "50"), ("51", "50"), ("+7", "7")])
async def test_limit_is_capped_at_50(
    client: httpx.AsyncClient, ctx: Ctx, giphy: FakeHttpServer, limit: str, sent: str
) -> None:
    response = await get(client, ctx, "/api/gifs/trending", limit=limit)
    assert response.status_code == 200
    assert giphy.requests[0].query["limit"] == sent


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": "0"}, service.MSG_LIMIT),
        ({"limit": "-1"}, service.MSG_LIMIT),
        ({"limit": "abc"}, service.MSG_LIMIT),
        ({"limit": "1.5"}, service.MSG_LIMIT),
        ({"limit": "99999999999999999999999"}, None),  # huge: capped, not an error
        ({"pos": "-1"}, service.MSG_POS),
        ({"pos": "abc"}, service.MSG_POS),
        ({"pos": "5000"}, service.MSG_POS),
        ({"pos": "1e3"}, service.MSG_POS),
        ({"pos": "٣"}, service.MSG_POS),  # a non-ASCII digit
    ],
)
@pytest.mark.parametrize("path", ["/api/gifs/search", "/api/gifs/trending"])
async def test_bad_limit_and_pos_are_400s(
    client: httpx.AsyncClient,
    ctx: Ctx,
    giphy: FakeHttpServer,
    path: str,
    params: dict[str, str],
    message: str | None,
) -> None:
    response = await get(client, ctx, path, q="cats", **params)
    if message is None:
        assert response.status_code == 200
        assert giphy.requests[0].query["limit"] == "50"
        return
    assert response.status_code == 400
    assert response.json() == {"error": {"code": "validation_error", "message": message}}
    assert giphy.requests == []


@pytest.mark.parametrize("q", [None, "", "   ", "x" * 257, "é" * 129])
async def test_an_empty_or_overlong_query_gives_no_results_without_asking_giphy(
    client: httpx.AsyncClient, ctx: Ctx, giphy: FakeHttpServer, q: str | None
) -> None:
    params = {} if q is None else {"q": q}
    response = await get(client, ctx, "/api/gifs/search", **params)
    assert response.status_code == 200
    assert response.json() == {"results": [], "next": None}
    assert giphy.requests == []


async def test_a_query_of_256_bytes_is_searched(
    client: httpx.AsyncClient, ctx: Ctx, giphy: FakeHttpServer
) -> None:
    response = await get(client, ctx, "/api/gifs/search", q="x" * 256)
    assert response.status_code == 200
    assert len(giphy.requests) == 1


async def test_items_without_an_original_rendition_are_skipped(
    client: httpx.AsyncClient, ctx: Ctx, fake: FakeGiphy
) -> None:
    no_small = giphy_item(2)
    del no_small["images"]["fixed_width_small"]
    fake.items = [
        giphy_item(1, images={}),
        no_small,
        giphy_item(3, images={"original": {"url": "https://x/3.gif", "width": "a", "height": "1"}}),
        giphy_item(4, id=None),
        "not an object",  # type: ignore[list-item]
        giphy_item(5, title=None),
        giphy_item(6, images={"original": {"url": "https://x/6.gif", "width": 10, "height": 20}}),
    ]
    fake.total = 7
    body = (await get(client, ctx, "/api/gifs/search", q="cats", limit="7")).json()
    assert [g["id"] for g in body["results"]] == ["gif2", "gif5", "gif6"]
    by_id = {g["id"]: g for g in body["results"]}
    assert by_id["gif2"]["preview_url"] == by_id["gif2"]["url"]  # falls back to url
    assert by_id["gif5"]["title"] == ""
    assert (by_id["gif6"]["width"], by_id["gif6"]["height"]) == (10, 20)
    assert body["next"] is None


async def test_answers_are_cached(
    client: httpx.AsyncClient, ctx: Ctx, giphy: FakeHttpServer
) -> None:
    first = await get(client, ctx, "/api/gifs/search", q="cats")
    second = await get(client, ctx, "/api/gifs/search", q="cats")
    assert second.json() == first.json()
    assert len(giphy.requests) == 1
    await get(client, ctx, "/api/gifs/search", q="cats", limit="5")
    await get(client, ctx, "/api/gifs/search", q="cats", pos="20")
    await get(client, ctx, "/api/gifs/trending")
    await get(client, ctx, "/api/gifs/trending")
    assert len(giphy.requests) == 4


@pytest.mark.parametrize(
    "reply",
    [
        Reply(500, [("Content-Type", "application/json")], b'{"meta": {"status": 500}}'),
        Reply(403, [("Content-Type", "application/json")], b'{"message": "Invalid API key"}'),
        Reply(429, [], b"slow down"),
        Reply(200, [("Content-Type", "application/json")], b"not json"),
        Reply(200, [("Content-Type", "application/json")], b'{"data": "not a list"}'),
        Reply(200, [("Content-Type", "application/json")], b"[]"),
        Reply(301, [("Location", "http://127.0.0.1:1/")], b""),
        Reply(200, [], b'{"data": []', content_length=500),  # cut short
    ],
)
async def test_giphy_failures_are_502s(
    client: httpx.AsyncClient, ctx: Ctx, fake: FakeGiphy, reply: Reply
) -> None:
    fake.reply = reply
    response = await get(client, ctx, "/api/gifs/search", q="cats")
    assert response.status_code == 502
    assert response.json() == {
        "error": {"code": "bad_gateway", "message": "GIF search is unavailable right now"}
    }
    assert KEY not in response.text
    assert service.cache.get((ctx.settings.giphy_api_url, KEY, "search", "cats", 20, 0)) is None


async def test_a_slow_giphy_is_a_502(
    client: httpx.AsyncClient, ctx: Ctx, fake: FakeGiphy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "TIMEOUT_SECS", 0.3)
    fake.reply = Reply(200, body=b"{}", head_delay=5)
    response = await get(client, ctx, "/api/gifs/trending")
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "bad_gateway"


async def test_an_unreachable_giphy_is_a_502(
    client: httpx.AsyncClient, ctx: Ctx, giphy: FakeHttpServer
) -> None:
    await giphy.stop()
    response = await get(client, ctx, "/api/gifs/trending")
    assert response.status_code == 502


async def test_the_routes_need_a_token(client: httpx.AsyncClient) -> None:
    for path in ("/api/gifs/search?q=cats", "/api/gifs/trending"):
        assert (await client.get(path)).status_code == 401


class TestNotConfigured:
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        return settings_in(tmp_path)

    @pytest.mark.parametrize(
        "path",
        [
            "/api/gifs/search?q=cats",
            "/api/gifs/search",  # the key is checked first, before the empty query
            "/api/gifs/search?q=cats&limit=abc",  # and before the parameters
            "/api/gifs/trending",
        ],
    )
    async def test_without_a_key_gif_search_is_a_400(
        self, client: httpx.AsyncClient, ctx: Ctx, path: str
    ) -> None:
        user = await make_user(ctx, f"gifuser{next(_names)}")
        response = await client.get(path, headers=user.headers)
        assert response.status_code == 400
        assert response.json() == {
            "error": {
                "code": "validation_error",
                "message": "GIF search is not configured on this server",
            }
        }


def test_next_follows_giphy_pagination() -> None:
    def page(total: Any, count: int, offset: int, limit: int = 20) -> str | None:
        body = {"data": [], "pagination": {"total_count": total, "count": count, "offset": offset}}
        result = service.to_page(body, limit, offset)
        assert result is not None
        return result.next

    assert page(100, 20, 0) == "20"
    assert page(100, 20, 80) is None
    assert page(100, 0, 100) is None
    assert page(10_000, 20, 4980) is None  # beyond GIPHY's largest offset
    assert page(None, 20, 0) == "20"  # no total: a full page means there may be more
    assert page(None, 5, 0) is None
