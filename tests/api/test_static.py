"""Static files and the SPA fallback (outside /api), with the original's headers."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from chatalot.app import create_app
from chatalot.context import Ctx


@pytest.fixture
def static_dir(ctx: Ctx) -> Path:
    root = ctx.settings.static_files_path
    (root / "_app" / "immutable").mkdir(parents=True)
    (root / "index.html").write_text("<html>the spa</html>")
    (root / "app.js").write_text("console.log('hi')")
    (root / "big.js").write_text("x" * 100)
    (root / "big.js.gz").write_bytes(gzip.compress(b"x" * 100))
    (root / "_app" / "immutable" / "chunk.js").write_text("chunk")
    (root / "favicon.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    (root.parent / "secret.txt").write_text("outside the root")
    return root


@pytest.fixture
async def web(ctx: Ctx, static_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def test_existing_file_is_served(web: httpx.AsyncClient) -> None:
    """A file under STATIC_FILES_PATH is served with its type and `no-cache`."""
    response = await web.get("/app.js")
    assert response.status_code == 200
    assert response.text == "console.log('hi')"
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "no-cache"


async def test_spa_routes_get_index(web: httpx.AsyncClient) -> None:
    """Client-side routes (/channels, /invite/x) get index.html with 200 text/html."""
    for path in ("/", "/channels", "/invite/abc123", "/missing.js"):
        response = await web.get(path)
        assert response.status_code == 200, path
        assert response.text == "<html>the spa</html>"
        assert response.headers["content-type"].startswith("text/html")


async def test_immutable_assets_cached_forever(web: httpx.AsyncClient) -> None:
    """/_app/immutable/ is cacheable for a year."""
    response = await web.get("/_app/immutable/chunk.js")
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


async def test_precompressed_sibling_preferred(web: httpx.AsyncClient) -> None:
    """A .gz sibling is sent when the client accepts gzip."""
    response = await web.get("/big.js", headers={"accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.text == "x" * 100  # httpx decodes it
    plain = await web.get("/big.js", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers


async def test_favicon_alias(web: httpx.AsyncClient) -> None:
    """/favicon.ico serves favicon.png."""
    response = await web.get("/favicon.ico")
    assert response.content.startswith(b"\x89PNG")


async def test_no_path_traversal(web: httpx.AsyncClient) -> None:
    """Paths never escape the static root."""
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt"):
        response = await web.get(path)
        assert "outside the root" not in response.text


async def test_non_get_outside_api_is_405(web: httpx.AsyncClient) -> None:
    """POST to a page path is 405 (error shape), not the SPA."""
    response = await web.post("/channels")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


async def test_builtin_client_without_index(client: httpx.AsyncClient) -> None:
    """With no index.html installed the built-in web client is served (tests/api/
    test_web_client.py covers it)."""
    response = await client.get("/")
    assert response.status_code == 200
    assert '<meta name="chatalot-version"' in response.text
    assert "%CHATALOT_VERSION%" not in response.text


async def test_security_headers_everywhere(web: httpx.AsyncClient) -> None:
    """API, static and error responses all carry the original's security headers."""
    for path in ("/api/health", "/", "/api/nope"):
        headers = (await web.get(path)).headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-xss-protection"] == "1; mode=block"
        assert (
            headers["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"
        )
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert headers["permissions-policy"] == "camera=(self), microphone=(self), geolocation=()"
        assert headers["content-security-policy"].startswith("default-src 'self'; script-src")
        assert "frame-ancestors 'self' tauri://localhost" in headers["content-security-policy"]
        assert "x-frame-options" not in headers
        assert headers["x-request-id"]
    assert "cache-control" not in (await web.get("/api/health")).headers
