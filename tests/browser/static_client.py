"""Serve the web client's source files (src/chatalot/web/) to a browser page without a server:
Playwright answers every request to http://client.localhost/ from the folder, and `/` with a test page
of the caller's. For tests of client modules on their own (Markdown, keystore, crypto)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

WEB = (Path(__file__).parents[2] / "src" / "chatalot" / "web").resolve()
ORIGIN = "http://client.localhost"  # *.localhost is a secure context: WebCrypto works
TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


@asynccontextmanager
async def client_page(
    browser: Any, page_html: str, extra: dict[str, Path] | None = None
) -> AsyncIterator[Any]:
    """A page at ORIGIN/ showing page_html, which may import /js/... and /vendor/...; extra maps
    more paths (test-only scripts) to files. The page must set window.ready = true when loaded.
    Page errors fail the test when the context closes."""
    context = await browser.new_context()
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    extra = extra or {}

    async def serve(route: Any) -> None:
        path = unquote(urlsplit(route.request.url).path)
        if path == "/":
            await route.fulfill(body=page_html, content_type="text/html; charset=utf-8")
            return
        file = extra.get(path) or (WEB / path.lstrip("/")).resolve()
        if path not in extra and (not file.is_relative_to(WEB) or not file.is_file()):
            await route.fulfill(status=404, body="not found")
            return
        content_type = TYPES.get(file.suffix, "application/octet-stream")
        await route.fulfill(body=file.read_bytes(), content_type=content_type)

    await page.route(f"{ORIGIN}/**", serve)
    await page.goto(f"{ORIGIN}/")
    await page.wait_for_function("window.ready === true", timeout=10_000)
    try:
        yield page
    finally:
        await context.close()
    assert not errors, errors
