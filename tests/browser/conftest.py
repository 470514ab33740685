"""Real-browser tests: Playwright for Python driving the system's Chromium (Debian's
`chromium` package), never a browser downloaded by `playwright install`.

Without /usr/bin/chromium (or the file CHATALOT_CHROMIUM names) the tests skip with a message,
unless CHATALOT_REQUIRE_BROWSER=1 (.ci/run sets it after installing the package), where a
missing browser is a failure.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.browser.client_support import PageWatch, Server
from tests.support.pg import PgServer

CHROMIUM = Path(os.environ.get("CHATALOT_CHROMIUM", "/usr/bin/chromium"))
REQUIRE = os.environ.get("CHATALOT_REQUIRE_BROWSER") == "1"

# Fake camera and microphone, no permission prompt, nothing that phones home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-gpu",
]

MISSING = (
    f"{CHROMIUM} not found: install Debian's Chromium (`apt-get install chromium`) to run the "
    "browser tests (never `playwright install`); CHATALOT_REQUIRE_BROWSER=1 makes this a failure"
)


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        if REQUIRE:
            pytest.fail(MISSING)
        pytest.skip(MISSING)
    try:
        import playwright  # noqa: F401 - only checks that the dev dependency is installed
    except ImportError:
        message = "the playwright package is missing: ./scripts/test installs the dev tools"
        if REQUIRE:
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture
async def browser(chromium_path: Path) -> AsyncIterator[object]:
    """One Chromium process; tests open a separate context (profile) per user."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


# The web-client tests' shared set-up: a real server on a fresh database, an HTTP client for it,
# and a watch on every page they open.


@pytest.fixture
async def server(pg: PgServer, fresh_db: str, tmp_path: Path) -> AsyncIterator[Server]:
    running = Server(tmp_path, pg.url(fresh_db).dsn)
    await running.start()
    try:
        yield running
    finally:
        if running.process is not None and running.process.proc.poll() is None:
            await running.stop()


@pytest.fixture
async def http(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture
def watches() -> Iterator[list[PageWatch]]:
    """Every page a test opens; after the test, none may have had an uncaught error."""
    found: list[PageWatch] = []
    yield found
    for watch in found:
        watch.check()
