"""The web client's message search, emoji picker, custom emoji and GIF picker in a real browser
against a real `chatalot serve`: a search result jumps to an old message outside the loaded
history and into another conversation, the filters reach the server, hostile text stays text,
the emoji picker works by keyboard, a community's custom emoji render in messages, and the GIF
button is hidden without GIPHY and works against a fake GIPHY (GIPHY_API_URL)."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from tests.browser.client_support import (
    PageWatch,
    Server,
    WsClient,
    community_with,
    new_page,
    ok,
    screenshot,
)
from tests.outbound.fake_http import FakeHttpServer, Reply, Seen, serve
from tests.support.pg import PgServer

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

# a 1x1 transparent GIF: what the fake GIPHY CDN serves
PIXEL_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


async def start(pg: PgServer, fresh_db: str, tmp_path: Path, **env: str) -> Server:
    running = Server(tmp_path, pg.url(fresh_db).dsn)
    running.env.update(env)
    await running.start()
    return running


async def stop(running: Server) -> None:
    if running.process is not None and running.process.proc.poll() is None:
        await running.stop()


def rows(page: Any, text: str) -> Any:
    return page.locator("section.channel ol.messages li.message", has_text=text)


async def open_channel(
    server: Server, browser: Any, watches: list[PageWatch], member: Any, path: str
) -> Any:
    page = await new_page(browser, member.username, watches, member=member)
    await page.goto(server.url + path)
    await expect(page.locator("#composer-input")).to_be_enabled(timeout=15_000)
    await expect(page.locator("html")).to_have_attribute("data-connection", "open", timeout=15_000)
    return page


async def axe_problems(page: Any, what: str, include: str) -> list[str]:
    from axe_playwright_python.async_playwright import Axe  # type: ignore[import-untyped]

    results = await Axe().run(page, context={"include": [[include]]})
    bad = []
    for violation in results.response["violations"]:
        if violation.get("impact") in ("serious", "critical"):
            targets = [node["target"] for node in violation["nodes"]][:5]
            bad.append(f"{what}: {violation['id']} ({violation['impact']}) {targets}")
    return bad


async def focused_id(page: Any) -> str:
    return str(await page.evaluate("() => document.activeElement && document.activeElement.id"))


# search ----------------------------------------------------------------------------------------


@pytest.fixture
async def plain_server(pg: PgServer, fresh_db: str, tmp_path: Path) -> AsyncIterator[Server]:
    running = await start(pg, fresh_db, tmp_path)
    try:
        yield running
    finally:
        await stop(running)


async def send_many(server: Server, member: Any, channel_id: str, texts: list[str]) -> None:
    """Many messages, a new connection every 20 (each connection has its own rate limit)."""
    for at in range(0, len(texts), 20):
        ws = await WsClient.open(server.url, member, [channel_id])
        for text in texts[at : at + 20]:
            await ws.send(channel_id, text)
        await ws.close()


async def test_search_jumps_filters_and_keeps_hostile_text_as_text(
    plain_server: Server, browser: Any, watches: list[PageWatch]
) -> None:
    server = plain_server
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        space = await community_with(http, ["ada", "bea"])
        ada, bea = space.owner, space.others[0]
        dm = await ok(
            await http.post("/api/dms", json={"target_user_id": ada.id}, headers=bea.headers)
        )
        dm_id = str(dm["channel"]["id"] if "channel" in dm else dm["id"])
    ws = await WsClient.open(server.url, bea, [space.channel_id, dm_id])
    old = await ws.send(space.channel_id, "the ancient unicorn sleeps here")
    await ws.close()
    # far more than the client loads at first (50) and shows at once (150)
    await send_many(
        server, bea, space.channel_id, [f"filler message number {n}" for n in range(230)]
    )
    ws = await WsClient.open(server.url, bea, [space.channel_id, dm_id])
    await ws.send(space.channel_id, "<img src=x onerror=window.__xss=1> unicorn <b>bold</b> &amp;")
    await ws.send(dm_id, "a unicorn in a direct message")
    await ws.close()

    page = await open_channel(server, browser, watches, ada, space.channel_path)
    await expect(rows(page, "filler message number 229")).to_have_count(1)
    assert await rows(page, "the ancient unicorn").count() == 0

    # the GIF button stays hidden: the server has no GIPHY key (the probe answered 400)
    await page.wait_for_function(
        "() => performance.getEntriesByType('resource').some((e) => e.name.includes('/api/gifs/'))"
    )
    await page.wait_for_timeout(300)
    await expect(page.get_by_role("button", name="GIF")).to_have_count(0)
    await expect(page.get_by_role("button", name="Emoji")).to_have_count(1)

    await page.get_by_role("button", name="Search messages").click()
    panel = page.get_by_role("complementary", name="Search messages")
    await expect(panel).to_be_visible()
    box = panel.get_by_role("combobox", name="Search messages")
    await expect(page.locator("#search-query")).to_be_focused()

    # too short: a clear error, no request
    await box.fill("u")
    await box.press("Enter")
    await expect(panel.get_by_role("alert")).to_have_text("Type at least 2 characters to search.")

    # hostile search text is fine, hostile results are text
    await box.fill("<script>window.__xss=1</script>")
    await box.press("Enter")
    await expect(panel.get_by_text("No messages found.")).to_be_visible()

    await box.fill("unicorn")
    await box.press("Enter")
    results = panel.locator("li.search-result")
    await expect(results).to_have_count(2)
    hostile = results.filter(has_text="onerror")
    await expect(hostile).to_have_count(1)
    assert await hostile.locator("img, b, script").count() == 0
    await expect(hostile.locator(".search-snippet")).to_contain_text(
        "<img src=x onerror=window.__xss=1> unicorn <b>bold</b> &amp;"
    )
    await expect(hostile.locator("mark")).to_have_text(["unicorn"])
    await expect(results.first.locator(".author")).to_have_text(bea.user["display_name"])
    assert await page.evaluate("() => window.__xss") is None

    problems = await axe_problems(page, "search panel", ".search-panel")
    await screenshot(page, "search-panel")

    # keyboard: Down to the old message, Enter jumps to it (loaded from the server on the way)
    await expect(results.nth(0)).to_have_attribute("aria-selected", "true")
    await box.press("ArrowDown")
    await expect(results.nth(1)).to_have_attribute("aria-selected", "true")
    await expect(results.nth(1)).to_contain_text("the ancient unicorn")
    await box.press("Enter")
    target = page.locator(f'section.channel li.message[data-message-id="{old["id"]}"]')
    await expect(target).to_be_visible(timeout=30_000)
    await expect(target).to_have_class("message jump-target")
    await expect(target).to_be_in_viewport()
    await screenshot(page, "search-jump")

    # filters: sender, file only, dates
    await panel.get_by_text("Filters").click()
    await panel.get_by_label("From (username contains)").fill(ada.username)
    await box.press("Enter")
    await expect(panel.get_by_text("No messages found.")).to_be_visible()
    await panel.get_by_label("From (username contains)").fill(bea.username[:5])
    await box.press("Enter")
    await expect(results).to_have_count(2)
    await panel.get_by_label("Has a file").check()
    async with page.expect_request(lambda r: "has_file=true" in r.url):
        await box.press("Enter")
    await expect(panel.get_by_text("No messages found.")).to_be_visible()
    await panel.get_by_label("Has a file").uncheck()
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    await panel.get_by_label("Sent on or after").fill(tomorrow)
    await box.press("Enter")
    await expect(panel.get_by_text("No messages found.")).to_be_visible()
    await panel.get_by_label("Sent on or before").fill(
        (date.today() - timedelta(days=3)).isoformat()
    )
    await box.press("Enter")
    await expect(panel.get_by_role("alert")).to_contain_text("must not be later")
    await panel.get_by_label("Sent on or after").fill("")
    await panel.get_by_label("Sent on or before").fill(tomorrow)
    await box.press("Enter")
    await expect(results).to_have_count(2)

    # everywhere: the DM's message too; opening it goes to the DM and shows the message there
    await panel.get_by_label("Sent on or before").fill("")
    await panel.get_by_label("From (username contains)").fill("")
    await panel.get_by_label("Everywhere").check()
    await box.press("Enter")
    await expect(results).to_have_count(3)
    in_dm = results.filter(has_text="in a direct message")
    await expect(in_dm).to_contain_text("in @")
    await in_dm.click()
    await expect(page).to_have_url(f"{server.url}/channels/@me/{dm_id}")
    dm_row = rows(page, "a unicorn in a direct message")
    await expect(dm_row).to_be_visible()
    await expect(dm_row).to_have_class("message jump-target")
    # the search stays open with its results in the new conversation; Escape closes it
    panel = page.get_by_role("complementary", name="Search messages")
    await expect(panel.locator("li.search-result")).to_have_count(3)
    await panel.get_by_role("combobox", name="Search messages").press("Escape")
    await expect(panel).to_have_count(0)
    # the focus goes back to the header's search button (on the next frame: polled)
    await expect(
        page.locator("section.channel header").get_by_role("button", name="Search messages")
    ).to_be_focused()
    assert not problems, "\n".join(problems)


async def test_search_in_an_encrypted_instance_says_why_nothing_is_found(
    plain_server: Server, browser: Any, watches: list[PageWatch]
) -> None:
    async with httpx.AsyncClient(base_url=plain_server.url, timeout=30) as http:
        space = await community_with(http, ["ada", "bea"], encryption_off=False)
        ada = space.owner
    page = await new_page(browser, "ada", watches, member=ada)
    await page.goto(plain_server.url + space.channel_path)
    await page.get_by_role("button", name="Search messages").click()
    box = page.get_by_role("combobox", name="Search messages")
    await box.fill("anything")
    await box.press("Enter")
    await expect(page.locator(".search-note")).to_contain_text("End-to-end encryption is on")


# emoji ----------------------------------------------------------------------------------------


def png_bytes() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", (8, 8), (255, 128, 0, 255)).save(out, format="PNG")
    return out.getvalue()


async def test_emoji_picker_by_keyboard_and_custom_emoji_in_messages(
    plain_server: Server, browser: Any, watches: list[PageWatch]
) -> None:
    server = plain_server
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        space = await community_with(http, ["ada", "bea"])
        ada, bea = space.owner, space.others[0]
        emoji = await ok(
            await http.post(
                f"/api/communities/{space.community_id}/emojis",
                files={"file": ("blob.png", png_bytes(), "image/png")},
                data={"shortcode": "party_blob"},
                headers=ada.headers,
            )
        )
    ws = await WsClient.open(server.url, bea, [space.channel_id])
    await ws.send(space.channel_id, "hello :party_blob: and :not_an_emoji: <b>x</b>")
    await ws.close()

    page = await open_channel(server, browser, watches, ada, space.channel_path)
    row = rows(page, "hello")
    image = row.locator("img.emoji")
    await expect(image).to_have_count(1)
    await expect(image).to_have_attribute("alt", ":party_blob:")
    await expect(image).to_have_attribute("src", f"/api/emojis/{emoji['id']}")
    await expect(row).to_contain_text(":not_an_emoji: <b>x</b>")
    assert await image.evaluate("(img) => img.complete && img.naturalWidth") == 8

    composer = page.locator("#composer-input")
    await composer.fill("nice")
    # keyboard only: focus the Emoji button, open, search, move, pick
    await page.get_by_role("button", name="Emoji").focus()
    await page.keyboard.press("Enter")
    picker = page.get_by_role("dialog", name="Emoji")
    await expect(picker).to_be_visible()
    await expect(picker.get_by_role("searchbox", name="Search emoji")).to_be_focused()
    problems = await axe_problems(page, "emoji picker", ".emoji-picker")
    await screenshot(page, "emoji-picker")
    await page.keyboard.type("thumbs")
    await page.keyboard.press("ArrowDown")
    assert await page.evaluate("() => document.activeElement.getAttribute('aria-label')") == (
        "thumbs up like"
    )
    await page.keyboard.press("ArrowRight")
    assert await page.evaluate("() => document.activeElement.getAttribute('aria-label')") == (
        "thumbs down dislike"
    )
    await page.keyboard.press("ArrowLeft")
    await page.keyboard.press("Enter")
    await expect(picker).to_have_count(0)
    await expect(composer).to_have_value("nice👍")
    await expect(page.locator("#composer-input")).to_be_focused()

    # Escape closes without inserting; focus comes back to the box
    await page.get_by_role("button", name="Emoji").click()
    await expect(picker).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(picker).to_have_count(0)
    await expect(page.locator("#composer-input")).to_be_focused()
    await expect(composer).to_have_value("nice👍")

    # the community's custom emoji are in the picker; picking one inserts :shortcode:
    await page.get_by_role("button", name="Emoji").click()
    await expect(picker.get_by_role("heading", name="This community")).to_be_visible()
    await page.keyboard.type(":party")
    await page.keyboard.press("Enter")
    await expect(composer).to_have_value("nice👍 :party_blob: ")
    await composer.press("Enter")
    mine = rows(page, "nice👍")
    await expect(mine.locator("img.emoji")).to_have_attribute("alt", ":party_blob:")

    # a reaction beyond the quick eight: "More emoji" opens the full picker (Unicode only)
    await row.hover()
    await row.get_by_label("Add reaction").click()
    await row.get_by_role("button", name="More emoji").click()
    more = row.get_by_role("dialog", name="Emoji")
    await expect(more).to_be_visible()
    await expect(more.get_by_role("heading", name="This community")).to_have_count(0)
    await page.keyboard.type("rocket")
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("Enter")
    await expect(more).to_have_count(0)
    await expect(row.locator(".reaction.mine")).to_contain_text("🚀")
    assert not problems, "\n".join(problems)


# GIFs -----------------------------------------------------------------------------------------


def giphy_items(offset: int, limit: int, word: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "gif",
            "id": f"{word}{n}",
            "title": f"{word.title()} {n}",
            "images": {
                "original": {
                    "url": f"https://media1.giphy.com/media/{word}{n}/giphy.gif",
                    "width": "480",
                    "height": "270",
                },
                "fixed_width_small": {
                    "url": f"https://media1.giphy.com/media/{word}{n}/100w.gif",
                    "width": "100",
                    "height": "56",
                },
            },
        }
        for n in range(offset, offset + min(limit, 6))
    ]


def fake_giphy(seen: Seen) -> Reply:
    query = seen.query
    word = "trend" if seen.path.endswith("/trending") else query.get("q", "x").split()[0]
    items = giphy_items(int(query["offset"]), int(query["limit"]), word)
    body = {
        "data": items,
        "pagination": {"total_count": 6, "count": len(items), "offset": int(query["offset"])},
        "meta": {"status": 200, "msg": "OK"},
    }
    return Reply(200, [("Content-Type", "application/json")], json.dumps(body).encode())


@pytest.fixture
async def giphy() -> AsyncIterator[FakeHttpServer]:
    async with serve(fake_giphy) as fake:
        yield fake


@pytest.fixture
async def gif_server(
    pg: PgServer, fresh_db: str, tmp_path: Path, giphy: FakeHttpServer
) -> AsyncIterator[Server]:
    running = await start(
        pg, fresh_db, tmp_path, GIPHY_API_KEY="test-key", GIPHY_API_URL=giphy.url("/")
    )
    try:
        yield running
    finally:
        await stop(running)


async def test_gif_picker_against_a_fake_giphy(
    gif_server: Server, giphy: FakeHttpServer, browser: Any, watches: list[PageWatch]
) -> None:
    server = gif_server
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        space = await community_with(http, ["ada"])
    cdn: list[str] = []
    page = await new_page(browser, "ada", watches, member=space.owner)

    async def fake_cdn(route: Any) -> None:
        cdn.append(route.request.url)
        await route.fulfill(body=PIXEL_GIF, content_type="image/gif")

    await page.route("https://*.giphy.com/**", fake_cdn)
    await page.goto(server.url + space.channel_path)
    await expect(page.locator("#composer-input")).to_be_enabled(timeout=15_000)
    await expect(page.locator("html")).to_have_attribute("data-connection", "open", timeout=15_000)
    gif_button = page.get_by_role("button", name="GIF")
    await expect(gif_button).to_be_visible()
    # the probe is an empty search: GIPHY itself was not asked, and no GIPHY image was loaded
    assert giphy.requests == []
    await page.wait_for_timeout(300)
    assert cdn == []

    await gif_button.click()
    picker = page.get_by_role("dialog", name="GIFs")
    await expect(picker.get_by_role("heading", name="Trending")).to_be_visible()
    items = picker.locator("button.gif-item")
    await expect(items).to_have_count(6)
    await expect(items.first.locator("img")).to_have_attribute("alt", "Trend 0")
    await page.wait_for_function(
        "() => [...document.querySelectorAll('.gif-item img')].some((i) => i.complete && i.naturalWidth === 1)"
    )
    assert cdn
    assert all(url.startswith("https://media1.giphy.com/media/trend") for url in cdn)
    problems = await axe_problems(page, "GIF picker", ".gif-picker")
    await screenshot(page, "gif-picker")

    # typing searches once, after a pause
    await page.keyboard.type("cats")
    await expect(picker.get_by_role("heading", name="Search results")).to_be_visible()
    await expect(items.first.locator("img")).to_have_attribute("alt", "Cats 0")
    searches = [seen for seen in giphy.requests if seen.path.endswith("/search")]
    assert [seen.query["q"] for seen in searches] == ["cats"]

    # keyboard: Down to the first GIF, Right to the second, Enter sends its URL
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("ArrowRight")
    await page.keyboard.press("Enter")
    await expect(picker).to_have_count(0)
    sent = "https://media1.giphy.com/media/cats1/giphy.gif"
    # the message is the GIF's link, shown as the GIF itself (served here by the fake CDN)
    gif = page.locator(f'section.channel ol.messages li.message .gif-message img[src="{sent}"]')
    await expect(gif).to_have_count(1)
    await expect(page.locator("ol.messages li.message.pending")).to_have_count(0)
    await page.wait_for_function(
        "(src) => [...document.querySelectorAll('.gif-message img')]"
        ".some((i) => i.src === src && i.complete && i.naturalWidth === 1)",
        arg=sent,
    )
    # text that only looks like one stays text
    await page.locator("#composer-input").fill(f"see {sent}")
    await page.locator("#composer-input").press("Enter")
    await expect(rows(page, f"see {sent}")).to_have_count(1)
    await expect(rows(page, f"see {sent}").locator(".gif-message")).to_have_count(0)
    await expect(page.locator("#composer-input")).to_be_focused()
    assert not problems, "\n".join(problems)
