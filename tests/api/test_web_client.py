"""The built-in web client (api/web_client.py, api/static.py): served from memory when
STATIC_FILES_PATH holds no index.html of its own, with versioned, immutable asset URLs."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import tests.realtime.conftest as realtime
from chatalot.api import web_client
from chatalot.api.static import accepts_gzip, etag_matches
from chatalot.api.web_client import PACKAGE_ROOT, BuiltinClient, builtin_client
from chatalot.app import create_app
from chatalot.context import Ctx
from tests.support.auth import make_user

# the realtime fixtures (a real uvicorn on a free port), for server_version over /ws
served = realtime.served
open_ws = realtime.open_ws

IMMUTABLE = "public, max-age=31536000, immutable"
META = re.compile(r'<meta name="chatalot-version" content="([^"]*)">')
SECURITY = (
    "x-content-type-options",
    "x-xss-protection",
    "strict-transport-security",
    "referrer-policy",
    "permissions-policy",
    "content-security-policy",
    "x-request-id",
)

FAKE_INDEX = (
    '<!doctype html><meta name="chatalot-version" content="%CHATALOT_VERSION%">'
    '<script type="module" src="/client/%CHATALOT_VERSION%/js/main.js"></script>'
)
FAKE_JS = "export const answer = 42;\n" * 40  # over 256 bytes: gets a gzip variant


def make_fake_root(root: Path) -> Path:
    (root / "js").mkdir(parents=True)
    (root / "css").mkdir()
    (root / "vendor").mkdir()
    (root / "__pycache__").mkdir()
    (root / "index.html").write_text(FAKE_INDEX)
    (root / "favicon.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    (root / "js" / "main.js").write_text(FAKE_JS)
    (root / "js" / "tiny.js").write_text("export {};\n")
    (root / "css" / "app.css").write_text("body { color: red; }\n" * 20)
    (root / "vendor" / "LICENSES.txt").write_text("MIT\n")
    (root / "vendor" / "README.md").write_text("not served")
    (root / ".hidden.js").write_text("not served")
    (root / "__pycache__" / "x.pyc").write_bytes(b"not served")
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(300))
    return root


async def _client_for(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> BuiltinClient:
    """A small fake web root, made the process's built-in client for apps built from now on."""
    client = BuiltinClient(make_fake_root(tmp_path / "web"))
    monkeypatch.setattr(web_client, "builtin_client", lambda: client)
    return client


@pytest.fixture
async def fake_web(ctx: Ctx, fake: BuiltinClient) -> AsyncIterator[httpx.AsyncClient]:
    async for c in _client_for(create_app(ctx)):
        yield c


@pytest.fixture
async def real_web(ctx: Ctx) -> AsyncIterator[httpx.AsyncClient]:
    async for c in _client_for(create_app(ctx)):
        yield c


async def raw_get(app: Any, path: str) -> tuple[int, dict[str, str], bytes]:
    """A GET with ``path`` exactly as given (no client normalizes its dot segments)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(dict(message))

    await app(scope, receive, send)
    start = sent[0]
    headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], headers, body


# -- the real package folder ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/login", "/channels/x/y", "/invite/abc"])
async def test_real_index_on_every_page_path(real_web: httpx.AsyncClient, path: str) -> None:
    """The package's index.html, rendered with its version, for / and the client's routes."""
    response = await real_web.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert "%CHATALOT_VERSION%" not in response.text
    version = builtin_client().version
    assert META.findall(response.text) == [version]
    assert f"/client/{version}/" in response.text
    assert response.headers["etag"] == f'"{version}"'


async def test_real_version_json_matches_meta_and_ws(
    real_web: httpx.AsyncClient, ctx: Ctx, open_ws: realtime.Open
) -> None:
    """version.json, the page's meta tag and the WebSocket server_version agree."""
    response = await real_web.get("/version.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-cache"
    version = response.json()["version"]
    assert re.fullmatch(r"[0-9a-f]{16}", version)
    assert META.findall((await real_web.get("/")).text) == [version]
    alice = await make_user(ctx)
    ws = await open_ws()
    await ws.send(json.dumps({"type": "authenticate", "token": alice.token}))
    assert (await realtime.recv(ws))["server_version"] == version


async def test_real_assets(real_web: httpx.AsyncClient) -> None:
    """The package's files under /client/<version>/ with their types, cached for a year."""
    version = builtin_client().version
    icon = await real_web.get(f"/client/{version}/favicon.svg")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.headers["cache-control"] == IMMUTABLE
    assert icon.content == (PACKAGE_ROOT / "favicon.svg").read_bytes()
    for path in ("vendor/preact.module.js", "js/main.js"):
        if (PACKAGE_ROOT / path).is_file():
            js = await real_web.get(f"/client/{version}/{path}")
            assert js.status_code == 200, path
            assert js.headers["content-type"].startswith("text/javascript")
            assert js.headers["cache-control"] == IMMUTABLE
            assert js.content == (PACKAGE_ROOT / path).read_bytes()
    favicon = await real_web.get("/favicon.ico")
    assert favicon.headers["content-type"].startswith("image/svg+xml")
    assert favicon.content == icon.content


async def test_service_worker_at_the_root(real_web: httpx.AsyncClient) -> None:
    """/sw.js is the package's service worker (its scope is the whole site), never cached
    unchecked, so a new release's worker replaces the old one."""
    worker = await real_web.get("/sw.js")
    assert worker.status_code == 200
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["cache-control"] == "no-cache"
    assert worker.content == (PACKAGE_ROOT / "sw.js").read_bytes()
    assert "showNotification" in worker.text


# -- a fake web root --------------------------------------------------------------------------


def test_reads_the_tree(fake: BuiltinClient) -> None:
    """Every file but dotfiles, *.md and __pycache__; index.html rendered once."""
    assert "js/main.js" in fake
    assert "vendor/LICENSES.txt" in fake
    for skipped in ("vendor/README.md", ".hidden.js", "__pycache__/x.pyc"):
        assert skipped not in fake
    assert len(fake) == 7
    index = fake.index.body.decode()
    assert "%CHATALOT_VERSION%" not in index
    assert META.findall(index) == [fake.version]


def test_version_follows_content(tmp_path: Path) -> None:
    """Any change of a served file (content or name) changes the version; others don't."""
    root = make_fake_root(tmp_path / "web")
    first = BuiltinClient(root).version
    assert BuiltinClient(root).version == first
    (root / "vendor" / "README.md").write_text("changed, but never served")
    assert BuiltinClient(root).version == first
    (root / "js" / "tiny.js").write_text("export {}; // changed\n")
    second = BuiltinClient(root).version
    assert second != first
    (root / "js" / "tiny.js").rename(root / "js" / "small.js")
    assert BuiltinClient(root).version not in (first, second)


def test_gzip_variants(fake: BuiltinClient) -> None:
    """Text-like files of 256 bytes or more get a gzip variant (level 9, mtime 0)."""
    main = fake.get("js/main.js")
    assert main is not None and main.gzipped is not None
    assert gzip.decompress(main.gzipped) == FAKE_JS.encode()
    assert main.gzipped[4:8] == b"\0\0\0\0"  # mtime 0: the same bytes in every process
    tiny, logo = fake.get("js/tiny.js"), fake.get("logo.png")
    assert tiny is not None and tiny.gzipped is None  # too small
    assert logo is not None and logo.gzipped is None  # not text
    css = fake.get("css/app.css")
    assert css is not None and css.gzipped is not None


async def test_asset_types_and_caching(fake_web: httpx.AsyncClient, fake: BuiltinClient) -> None:
    """Each asset with its type; immutable under the current version."""
    expected = {
        "js/main.js": "text/javascript",
        "css/app.css": "text/css",
        "favicon.svg": "image/svg+xml",
        "vendor/LICENSES.txt": "text/plain",
        "logo.png": "image/png",
    }
    for path, media_type in expected.items():
        response = await fake_web.get(f"/client/{fake.version}/{path}")
        assert response.status_code == 200, path
        assert response.headers["content-type"].split(";")[0] == media_type, path
        assert response.headers["cache-control"] == IMMUTABLE, path
        assert response.headers["vary"] == "Accept-Encoding"


async def test_old_version_is_not_cached(fake_web: httpx.AsyncClient, fake: BuiltinClient) -> None:
    """An old tab asks for an old version: the current file, never cached under that URL."""
    response = await fake_web.get("/client/0123456789abcdef/js/main.js")
    assert response.status_code == 200
    assert response.text == FAKE_JS
    assert response.headers["cache-control"] == "no-cache"


async def test_unknown_asset_is_plain_404(fake_web: httpx.AsyncClient, fake: BuiltinClient) -> None:
    """A missing module is a short text/plain 404, not the HTML page."""
    for path in (
        f"/client/{fake.version}/js/nope.js",
        f"/client/{fake.version}/vendor/README.md",
        f"/client/{fake.version}/",
        f"/client/{fake.version}",
        "/client/",
        "/client",
    ):
        response = await fake_web.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/plain"), path
        assert "<" not in response.text
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["x-content-type-options"] == "nosniff"


async def test_no_traversal(ctx: Ctx, fake: BuiltinClient, fake_web: httpx.AsyncClient) -> None:
    """Dot segments (plain or encoded) and NUL never reach a file outside the client."""
    (Path(fake.root).parent / "config.py").write_text("SECRET = 1")
    for path in ("/client/v/%2e%2e/%2e%2e/config.py", "/client/v/..%2f..%2fconfig.py"):
        response = await fake_web.get(path)
        assert response.status_code == 404, path
        assert "SECRET" not in response.text
    app = create_app(ctx)
    for path in (
        "/client/v/../../config.py",
        f"/client/{fake.version}/../web/index.html",
        f"/client/{fake.version}/./js/main.js",
    ):
        status, _, body = await raw_get(app, path)
        assert status == 404, path
        assert b"SECRET" not in body
    status, _, body = await raw_get(app, f"/client/{fake.version}/js/main.js\x00")
    assert status in (400, 404)  # the edge refuses NUL in a path before the handler
    assert b"export" not in body
    assert fake.get("js/main.js\x00") is None


async def test_gzip_body(fake_web: httpx.AsyncClient, fake: BuiltinClient) -> None:
    """With gzip accepted the variant is sent (same bytes once decompressed, its own length);
    without it, the file as is."""
    url = f"/client/{fake.version}/js/main.js"
    async with fake_web.stream("GET", url, headers={"accept-encoding": "gzip, br"}) as response:
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
        assert response.headers["content-encoding"] == "gzip"
        assert response.headers["vary"] == "Accept-Encoding"
        assert int(response.headers["content-length"]) == len(raw)
    assert gzip.decompress(raw) == FAKE_JS.encode()
    plain = await fake_web.get(url, headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert int(plain.headers["content-length"]) == len(FAKE_JS)
    refused = await fake_web.get(url, headers={"accept-encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers
    index = await fake_web.get("/", headers={"accept-encoding": "gzip"})
    assert index.headers.get("content-encoding") is None  # the fake index is under 256 bytes


def test_accept_encoding_parsing() -> None:
    assert accepts_gzip("gzip")
    assert accepts_gzip("br, gzip;q=0.5")
    assert accepts_gzip("*")
    assert not accepts_gzip("")
    assert not accepts_gzip("identity")
    assert not accepts_gzip("gzip;q=0")
    assert not accepts_gzip("*, gzip;q=0")
    assert not accepts_gzip("gzip;q=zero")


async def test_head(fake_web: httpx.AsyncClient, fake: BuiltinClient) -> None:
    """HEAD gives the GET's headers without the body."""
    for path in ("/", f"/client/{fake.version}/js/main.js", "/version.json"):
        got = await fake_web.get(path)
        head = await fake_web.head(path)
        assert head.status_code == 200, path
        assert head.content == b""
        assert head.headers["content-length"] == got.headers["content-length"]
        assert head.headers["content-type"] == got.headers["content-type"]
        assert head.headers["cache-control"] == got.headers["cache-control"]


async def test_etag_and_304(fake_web: httpx.AsyncClient, fake: BuiltinClient) -> None:
    """The page's ETag is the version; a matching If-None-Match gets an empty 304."""
    page = await fake_web.get("/channels/a/b")
    etag = page.headers["etag"]
    assert etag == f'"{fake.version}"'
    for value in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = await fake_web.get("/login", headers={"if-none-match": value})
        assert response.status_code == 304, value
        assert response.content == b""
        assert response.headers["etag"] == etag
        assert response.headers["cache-control"] == "no-cache"
        for name in SECURITY:
            assert response.headers[name], name
    stale = await fake_web.get("/", headers={"if-none-match": '"0123456789abcdef"'})
    assert stale.status_code == 200
    assert META.findall(stale.text) == [fake.version]
    assert etag_matches('W/"a", "b"', '"b"')
    assert not etag_matches('"a"', '"b"')


async def test_security_headers(fake_web: httpx.AsyncClient, fake: BuiltinClient) -> None:
    """Every answer of the built-in client carries the edge's security headers."""
    for path in (
        "/",
        "/version.json",
        "/favicon.ico",
        f"/client/{fake.version}/js/main.js",
        "/client/old/js/main.js",
        f"/client/{fake.version}/missing.js",
    ):
        response = await fake_web.get(path)
        for name in SECURITY:
            assert response.headers[name], (path, name)
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
        assert "x-frame-options" not in response.headers


async def test_favicon_and_version(fake_web: httpx.AsyncClient, fake: BuiltinClient) -> None:
    icon = await fake_web.get("/favicon.ico")
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.text.startswith("<svg")
    assert (await fake_web.get("/version.json")).json() == {"version": fake.version}


async def test_post_is_405_and_api_stays_json(fake_web: httpx.AsyncClient) -> None:
    """Unknown /api paths keep the JSON 404; other methods than GET/HEAD are 405."""
    response = await fake_web.get("/api/unknown")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert (await fake_web.post("/")).status_code == 405


# -- an external site replaces it ------------------------------------------------------------


async def test_external_site_replaces_builtin(
    ctx: Ctx, fake: BuiltinClient, open_ws: realtime.Open
) -> None:
    """With an index.html in STATIC_FILES_PATH that site is served (and its version.json is
    the WebSocket server_version); the built-in client is not."""
    root = ctx.settings.static_files_path
    root.mkdir(parents=True, exist_ok=True)
    (root / "index.html").write_text("<html>the original client</html>")
    (root / "version.json").write_text('{"version": "0.23.0"}')
    async for web in _client_for(create_app(ctx)):
        for path in ("/", "/channels/x", f"/client/{fake.version}/js/main.js"):
            response = await web.get(path)
            assert response.status_code == 200, path
            assert response.text == "<html>the original client</html>"
            assert response.headers["cache-control"] == "no-cache"
        assert (await web.get("/version.json")).json() == {"version": "0.23.0"}
        assert (await web.get("/api/unknown")).json()["error"]["code"] == "not_found"
    alice = await make_user(ctx)
    ws = await open_ws()
    await ws.send(json.dumps({"type": "authenticate", "token": alice.token}))
    assert (await realtime.recv(ws))["server_version"] == "0.23.0"
