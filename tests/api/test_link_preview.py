"""GET /api/link-preview against real local pages (tests/outbound/fake_http.py).

The pages are on 127.0.0.1; the service's fetcher is replaced by one whose resolver maps
``preview.test`` to 127.0.0.1 and whose allow-list lets exactly that address through. The
refusal tests use the production fetcher (no seam)."""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
from collections.abc import Iterator

import httpx
import pytest

from chatalot.context import Ctx
from chatalot.outbound.safe_http import SafeFetcher
from chatalot.services import link_preview as service
from tests.outbound.fake_http import FakeHttpServer, Reply, Seen, html, redirect, serve
from tests.outbound.test_safe_http import MapResolver
from tests.support.auth import make_user

_names = itertools.count(1)


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    service.cache.clear()
    yield
    service.cache.clear()


@pytest.fixture
def seam(monkeypatch: pytest.MonkeyPatch) -> MapResolver:
    resolver = MapResolver({"preview.test": ["127.0.0.1"], "internal.test": ["10.0.0.1"]})
    fetcher = SafeFetcher(
        resolver=resolver,
        allow=(ipaddress.ip_network("127.0.0.1/32"),),
        user_agent=service.USER_AGENT,
    )
    monkeypatch.setattr(service, "fetcher", fetcher)
    return resolver


async def preview(client: httpx.AsyncClient, ctx: Ctx, url: str | None) -> httpx.Response:
    user = await make_user(ctx, f"previewer{next(_names)}")
    params = {} if url is None else {"url": url}
    return await client.get("/api/link-preview", params=params, headers=user.headers)


def page_url(server: FakeHttpServer, path: str = "/") -> str:
    return server.url(path, host="preview.test")


OG_PAGE = """<!doctype html><html><head>
<title>Fallback title</title>
<META PROPERTY="og:title" CONTENT="Caf&eacute; &amp; Bar &#x1F600;">
<meta content='A &quot;nice&quot; place' property='og:description'>
<meta name="description" content="plain description">
<meta property="og:image" content="/img/cover.png">
<meta property="og:site_name" content="Example   Site">
</head><body><p>hello</p></body></html>"""


async def test_open_graph_fields_in_any_attribute_order_case_and_quoting(
    client: httpx.AsyncClient, ctx: Ctx, seam: MapResolver
) -> None:
    async with serve(lambda seen: html(OG_PAGE)) as server:
        url = page_url(server, "/article?id=1")
        response = await preview(client, ctx, url)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "url": url,
        "title": "Café & Bar 😀",
        "description": 'A "nice" place',
        "image": f"http://preview.test:{server.port}/img/cover.png",
        "site_name": "Example Site",
    }
    [seen] = server.requests
    assert seen.headers["user-agent"] == "ChatalotBot/1.0 (link preview)"
    assert seen.headers["host"] == f"preview.test:{server.port}"


async def test_fallbacks_title_tag_and_meta_description(
    client: httpx.AsyncClient, ctx: Ctx, seam: MapResolver
) -> None:
    page = (
        "<html><head><svg><title>icon</title></svg><title>\n  The  &lt;Title&gt;\n</title>"
        '<meta name="Description" content="Described"></head></html>'
    )
    async with serve(lambda seen: html(page)) as server:
        response = await preview(client, ctx, "  " + page_url(server) + "  ")
    body = response.json()
    assert body == {
        "url": page_url(server),  # trimmed
        "title": "The <Title>",
        "description": "Described",
        "image": None,
        "site_name": None,
    }


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("//cdn.example.com/a.png", "https://cdn.example.com/a.png"),
        ("/a.png", "http://preview.test:{port}/a.png"),
        ("img/a.png", "http://preview.test:{port}/dir/img/a.png"),
        ("https://images.example.com/x.jpg?s=1", "https://images.example.com/x.jpg?s=1"),
        ("data:image/png;base64,AAAA", None),
        ("javascript:alert(1)", None),
        ("ftp://example.com/a.png", None),
        ("   ", None),
    ],
)
async def test_image_urls_are_made_absolute_and_only_http_kept(
    client: httpx.AsyncClient, ctx: Ctx, seam: MapResolver, image: str, expected: str | None
) -> None:
    page = f'<meta property="og:image" content="{image}"><title>t</title>'
    async with serve(lambda seen: html(page)) as server:
        response = await preview(client, ctx, page_url(server, "/dir/page"))
    want = expected.format(port=server.port) if expected else None
    assert response.json()["image"] == want


async def test_long_fields_are_cut_with_an_ellipsis(
    client: httpx.AsyncClient, ctx: Ctx, seam: MapResolver
) -> None:
    image = "https://img.example.com/" + "p" * 3000
    page = (
        f'<meta property="og:title" content="{"t" * 250}">'
        f'<meta property="og:description" content="{"é" * 600}">'
        f'<meta property="og:site_name" content="{"s" * 101}">'
        f'<meta property="og:image" content="{image}">'
    )
    async with serve(lambda seen: html(page)) as server:
        body = (await preview(client, ctx, page_url(server))).json()
    assert body["title"] == "t" * 200 + "..."
    assert body["description"] == "é" * 500 + "..."  # characters, not bytes
    assert body["site_name"] == "s" * 100 + "..."
    assert body["image"] == image[:2048] + "..."


async def test_fields_at_the_limit_are_kept_whole(
    client: httpx.AsyncClient, ctx: Ctx, seam: MapResolver
) -> None:
    page = f'<meta property="og:title" content="{"t" * 200}">'
    async with serve(lambda seen: html(page)) as server:
        body = (await preview(client, ctx, page_url(server))).json()
    assert body["title"] == "t" * 200


@pytest.mark.parametrize(
    "reply",
    [
        Reply(200, [("Content-Type", "image/png")], b"\x89PNG\r\n\x1a\n<title>no</title>"),
        Reply(200, [("Content-Type", "application/json")], b'{"title": "no"}'),
        Reply(200, [], b"<title>no content type</title>"),
        html("<title>Not found</title>", status=404),
        html("<title>Server error</title>", status=500),
    ],
)
async def test_non_html_and_error_pages_give_an_empty_preview(
    client: httpx.AsyncClient, ctx: Ctx, seam: MapResolver, reply: Reply
) -> None:
    async with serve(lambda seen: reply) as server:
        response = await preview(client, ctx, page_url(server))
    assert response.status_code == 200
    assert response.json() == {
        "url": page_url(server),
        "title": None,
        "description": None,
        "image": None,
        "site_name": None,
    }


async def test_only_the_first_512000_bytes_are_read(
    client: httpx.AsyncClient, ctx: Ctx, seam: MapResolver
) -> None:
    head = b'<html><head><meta property="og:title" content="Early">'
    filler = b"<!--" + b"x" * 600_000 + b"-->"
    late = b'<meta property="og:description" content="Too late"></head></html>'
    reply = Reply(200, [("Content-Type", "text/html")], [head, filler, late])
    async with serve(lambda seen: reply) as server:
        body = (await preview(client, ctx, page_url(server))).json()
    assert body["title"] == "Early"
    assert body["description"] is None


async def test_the_charset_is_respected(
    client: httpx.AsyncClient, ctx: Ctx, seam: MapResolver
) -> None:
    latin = "<title>Caf\xe9</title>".encode("latin-1")
    sniffed = '<meta charset="windows-1251"><title>Привет</title>'.encode("cp1251")
    for reply in (
        Reply(200, [("Content-Type", "text/html; charset=ISO-8859-1")], latin),
        Reply(200, [("Content-Type", "text/html")], sniffed),
    ):
        service.cache.clear()
        async with serve(lambda seen, reply=reply: reply) as server:
            body = (await preview(client, ctx, page_url(server))).json()
        assert body["title"] in ("Café", "Привет")


async def test_a_preview_is_cached_and_concurrent_requests_share_one_fetch(
    client: httpx.AsyncClient, ctx: Ctx, seam: MapResolver
) -> None:
    slow = html("<title>Once</title>")
    slow.head_delay = 0.3
    async with serve(lambda seen: slow) as server:
        user = await make_user(ctx, "cacheuser")
        url = page_url(server)
        responses = await asyncio.gather(
            *(
                client.get("/api/link-preview", params={"url": url}, headers=user.headers)
                for _ in range(4)
            )
        )
        assert [r.json()["title"] for r in responses] == ["Once"] * 4
        again = await client.get("/api/link-preview", params={"url": url}, headers=user.headers)
        assert again.json()["title"] == "Once"
        assert len(server.requests) == 1


async def test_redirects_are_followed_and_the_requested_url_is_reported(
    client: httpx.AsyncClient, ctx: Ctx, seam: MapResolver
) -> None:
    def handler(seen: Seen) -> Reply:
        if seen.path == "/old":
            return redirect("/new/")
        return html('<meta property="og:image" content="pic.png"><title>New</title>')

    async with serve(handler) as server:
        body = (await preview(client, ctx, page_url(server, "/old"))).json()
    assert body["url"] == page_url(server, "/old")
    assert body["title"] == "New"
    assert body["image"] == page_url(server, "/new/pic.png")  # relative to the final page


# -- bad input and refusals --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (None, "url is required"),
        ("", "URL must be 1-2048 characters"),
        ("    ", "URL must be 1-2048 characters"),
        ("https://example.com/" + "a" * 2029, "URL must be 1-2048 characters"),
        ("https://example.com/" + "é" * 1015, "URL must be 1-2048 characters"),  # bytes count
        ("ftp://example.com/", "Only http/https URLs are allowed"),
        ("file:///etc/passwd", "Only http/https URLs are allowed"),
        ("javascript:alert(1)", "Only http/https URLs are allowed"),
        ("example.com", "Only http/https URLs are allowed"),
        ("//example.com/", "Only http/https URLs are allowed"),
        ("http:/example.com", "Only http/https URLs are allowed"),
        ("http://localhost/", "Cannot preview internal URLs"),
        ("http://127.0.0.1/", "Cannot preview internal URLs"),
        ("http://2130706433/", "Cannot preview internal URLs"),
        ("http://0177.0.0.1/", "Cannot preview internal URLs"),
        ("http://0x7f.0.0.1/", "Cannot preview internal URLs"),
        ("http://[::1]/", "Cannot preview internal URLs"),
        ("http://[::ffff:7f00:1]/", "Cannot preview internal URLs"),
        ("http://example.com@127.0.0.1/", "Cannot preview internal URLs"),
        ("http://169.254.169.254/latest/meta-data/", "Cannot preview internal URLs"),
        ("http://10.0.0.1/", "Cannot preview internal URLs"),
        ("http://[fd00::1]/", "Cannot preview internal URLs"),
        ("http://100.64.0.1/", "Cannot preview internal URLs"),
        ("http://printer.local/", "Cannot preview internal URLs"),
        ("http://metadata.google.internal/", "Cannot preview internal URLs"),
        ("http://1.2.3.4.5/", "Could not fetch URL"),
        ("http://exa mple.com/", "Could not fetch URL"),
        ("http://example.com:99999/", "Could not fetch URL"),
    ],
)
async def test_bad_urls_are_400s_with_the_spec_messages(
    client: httpx.AsyncClient, ctx: Ctx, url: str | None, message: str
) -> None:
    """Without the seam: nothing here reaches the network (every case fails before a DNS
    lookup or is a literal)."""
    response = await preview(client, ctx, url)
    assert response.status_code == 400, response.text
    assert response.json() == {"error": {"code": "validation_error", "message": message}}


async def test_a_local_server_is_refused_without_the_seam(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    async with serve(lambda seen: html("<title>secret</title>")) as server:
        response = await preview(client, ctx, server.url())
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Cannot preview internal URLs"
    assert server.requests == []


async def test_a_name_resolving_inward_and_a_redirect_inward_are_refused(
    client: httpx.AsyncClient, ctx: Ctx, seam: MapResolver
) -> None:
    response = await preview(client, ctx, "http://internal.test/")
    assert response.json()["error"]["message"] == "Cannot preview internal URLs"
    async with (
        serve(lambda seen: html("<title>secret</title>"), host="127.0.0.2") as internal,
        serve(lambda seen: redirect(internal.url("/admin"))) as public,
    ):
        response = await preview(client, ctx, page_url(public))
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Cannot preview internal URLs"
    assert internal.requests == []


async def test_fetch_failures_are_400s(
    client: httpx.AsyncClient, ctx: Ctx, seam: MapResolver, monkeypatch: pytest.MonkeyPatch
) -> None:
    response = await preview(client, ctx, "http://no-such-host.test/")
    assert response.json()["error"]["message"] == "Could not fetch URL"
    async with serve(lambda seen: redirect("/loop")) as looping:
        response = await preview(client, ctx, page_url(looping, "/start"))
    assert response.json()["error"]["message"] == "Could not fetch URL"
    monkeypatch.setattr(service.fetcher, "timeout", 0.3)
    async with serve(lambda seen: Reply(200, body=b"", head_delay=5)) as slow:
        response = await preview(client, ctx, page_url(slow))
    assert response.json()["error"]["message"] == "Could not fetch URL"
    broken = Reply(200, [("Content-Type", "text/html")], b"<title>cut", content_length=9999)
    async with serve(lambda seen: broken) as cut:
        response = await preview(client, ctx, page_url(cut))
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Could not read response"


async def test_errors_are_not_cached(
    client: httpx.AsyncClient, ctx: Ctx, seam: MapResolver
) -> None:
    calls = []

    def flaky(seen: Seen) -> Reply:
        calls.append(seen)
        if len(calls) == 1:
            return Reply(200, [("Content-Type", "text/html")], b"<ti", content_length=500)
        return html("<title>Back</title>")

    async with serve(flaky) as server:
        first = await preview(client, ctx, page_url(server))
        second = await preview(client, ctx, page_url(server))
    assert first.status_code == 400
    assert second.json()["title"] == "Back"


async def test_the_route_needs_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/link-preview", params={"url": "https://example.com/"})
    assert response.status_code == 401


def test_the_parser_survives_malformed_markup() -> None:
    for page in ("<title>", "<meta property=og:title content=Bare>", "<<<>>>", "<![CDATA[", ""):
        result = service.parse_preview(page, "https://example.com/")
        assert result.url == "https://example.com/"
    bare = service.parse_preview("<meta property=og:title content=Bare>", "https://e.com/")
    assert bare.title == "Bare"


def test_the_body_is_read_only_when_the_head_has_no_title() -> None:
    """Open Graph tags belong in the head; parsing a large body costs CPU. A page whose head
    has no title is read 64 KiB into its body."""
    filler = "<div><p>text <a href='/x'>link</a></p></div>" * 20_000  # ~900 kB of tags
    with_title = (
        "<html><head><title>Head</title></head><body>"
        '<meta property="og:description" content="in the body">' + filler
    )
    result = service.parse_preview(with_title, "https://example.com/")
    assert (result.title, result.description) == ("Head", None)
    without = (
        "<html><head></head><body><title>Body title</title>"
        '<meta name="description" content="in the body">' + filler + "<title>too far</title>"
    )
    result = service.parse_preview(without, "https://example.com/")
    assert (result.title, result.description) == ("Body title", "in the body")
    far = "<html><head></head><body>" + filler + '<meta property="og:title" content="far">'
    assert service.parse_preview(far, "https://example.com/").title is None
