"""The built-in web client in a real browser (Debian's Chromium through Playwright) against a
real `chatalot serve`: registration, chatting between two browsers, direct messages, hostile
input rendered as text, a kick, a server restart, keyboard-only use, a phone-sized screen,
axe-core accessibility checks, and screenshots of the main screens (CHATALOT_TEST_ARTIFACTS)."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import httpx
import pyotp
import pytest
from playwright.async_api import expect

from tests.browser.client_support import (
    Member,
    PageWatch,
    Server,
    WsClient,
    community_with,
    new_page,
    ok,
    rows,
    screenshot,
    send_ui,
    until_live,
    wait_ready,
)
from tests.support.auth import PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]

RECOVERY_CODE = re.compile(r"^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$")
XSS_PAYLOADS = [
    "<img src=x onerror=window.__xss=1>",
    "<script>window.__xss=1</script>",
    "[x](javascript:window.__xss=1)",
]


async def open_conversation(
    server: Server, browser: Any, watches: list[PageWatch], label: str, member: Member, path: str
) -> Any:
    """A signed-in browser profile showing the conversation at ``path``, ready to use."""
    page = await new_page(browser, label, watches, member=member)
    await page.goto(server.url + path)
    await wait_ready(page)
    return page


async def register_ui(page: Any, base: str, username: str) -> str:
    await page.goto(f"{base}/register")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Display name").fill(username.capitalize())
    await page.get_by_label("Email").fill(f"{username}@example.com")
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    code_box = page.get_by_test_id("recovery-code")
    await expect(code_box).to_be_visible(timeout=20_000)
    code = (await code_box.inner_text()).strip()
    assert RECOVERY_CODE.match(code), code
    continue_button = page.get_by_role("button", name="Continue")
    await expect(continue_button).to_be_disabled()
    await page.get_by_label("I have saved my recovery code").check()
    await continue_button.click()
    await expect(page).to_have_url(re.compile(r"/channels/@me$"))
    return str(code)


async def create_community_ui(page: Any, name: str) -> None:
    await page.locator(".welcome").get_by_role("button", name="Create a community").click()
    dialog = page.get_by_role("dialog", name="Create a community")
    await dialog.get_by_label("Community name").fill(name)
    await dialog.get_by_role("button", name="Create").click()
    await expect(page).to_have_url(re.compile(r"/channels/[0-9a-f-]{36}/[0-9a-f-]{36}$"))
    await expect(page.locator("h1.channel-title")).to_contain_text("general")


# 1 -------------------------------------------------------------------------------------------


async def test_register_create_community_send_and_reload(
    server: Server, browser: Any, watches: list[PageWatch]
) -> None:
    page = await new_page(browser, "owner", watches)
    code = await register_ui(page, server.url, "founder")
    # the recovery code is shown once: not on the page any more
    await expect(page.get_by_test_id("recovery-code")).to_have_count(0)

    await create_community_ui(page, "Founders")
    # encryption is on (the default) and the keys were made at registration: the composer is on
    await wait_ready(page)
    await expect(page.locator(".e2e-notice")).to_have_count(0)
    stored = await page.evaluate(
        "() => ({token: localStorage.getItem('chatalot.access_token'), path: location.pathname})"
    )
    channel_id = stored["path"].rsplit("/", 1)[1]
    owner = Member("founder", stored["token"], "", "", {})
    # an old app's plain-text message still shows
    ws = await WsClient.open(server.url, owner, [channel_id])
    try:
        await ws.send(channel_id, "plain text from a test client")
    finally:
        await ws.close()
    await expect(rows(page, "plain text from a test client")).to_have_count(1)

    await send_ui(page, "hello from the browser")
    # what the server got is the encrypted envelope, not the text
    async with httpx.AsyncClient(base_url=server.url, headers=owner.headers) as http:
        history = await ok(await http.get(f"/api/channels/{channel_id}/messages"))
    stored_bytes = [bytes(message["ciphertext"]) for message in history]
    assert not [b for b in stored_bytes if b"hello from the browser" in b]
    assert sum(b.startswith(b'{"v":1,"sk":true') for b in stored_bytes) == 1

    await page.reload()
    await wait_ready(page)
    await expect(rows(page, "hello from the browser")).to_have_count(1)
    await expect(rows(page, "plain text from a test client")).to_have_count(1)
    assert code not in await page.content()


# 2 -------------------------------------------------------------------------------------------


async def test_two_browsers_chat_live_with_typing_and_a_dm(
    server: Server, http: httpx.AsyncClient, browser: Any, watches: list[PageWatch]
) -> None:
    space = await community_with(http, ["alice", "bob"])
    alice, bob = space.owner, space.others[0]
    page_a = await new_page(browser, "alice", watches, member=alice)
    page_b = await new_page(browser, "bob", watches, member=bob)
    for page in (page_a, page_b):
        await page.goto(server.url + space.channel_path)
        await wait_ready(page)

    # the server does not acknowledge a subscription: both pages are shown to be subscribed
    # before the typing check (once, under load, the typing frame came first)
    await until_live(page_a, "(alice is here)")
    await until_live(page_b, "(bob is here)")
    await send_ui(page_a, "hello bob, live")
    await expect(rows(page_b, "hello bob, live")).to_have_count(1)
    await send_ui(page_b, "hi alice, live too")
    await expect(rows(page_a, "hi alice, live too")).to_have_count(1)

    await page_a.locator("#composer-input").press_sequentially("hel")
    await expect(page_b.locator(".typing")).to_contain_text("is typing")
    # the typist's message ends the typing line at once
    await page_a.locator("#composer-input").fill("")
    await send_ui(page_a, "done typing")
    await expect(rows(page_b, "done typing")).to_have_count(1)
    await expect(page_b.locator(".typing")).not_to_contain_text("is typing")
    # still exactly once each after the confirmations came in
    await expect(rows(page_a, "hello bob, live")).to_have_count(1)
    await expect(rows(page_b, "hi alice, live too")).to_have_count(1)

    # a direct message from the members panel
    panel = page_a.locator(".members-panel")
    if not await panel.is_visible():
        await page_a.get_by_role("button", name="Members", exact=True).click()
    await panel.locator("button.member", has_text=bob.user["display_name"]).click()
    await page_a.get_by_role("dialog").get_by_role("button", name="Send a message").click()
    await expect(page_a).to_have_url(re.compile(r"/channels/@me/[0-9a-f-]{36}$"))
    await wait_ready(page_a)
    await send_ui(page_a, "a private word")

    direct = page_b.get_by_role("link", name="Direct messages")
    await expect(direct.locator(".pill")).to_have_text("1", timeout=15_000)
    await direct.click()
    dm_link = page_b.locator(".sidebar a.channel-link.dm", has_text=alice.user["display_name"])
    await expect(dm_link).to_have_class(re.compile(r"\bunread\b"))
    await dm_link.click()
    await wait_ready(page_b)
    await expect(rows(page_b, "a private word")).to_have_count(1)
    await screenshot(page_b, "dm")


# 3 -------------------------------------------------------------------------------------------


async def test_hostile_text_is_rendered_as_text(
    server: Server, http: httpx.AsyncClient, browser: Any, watches: list[PageWatch]
) -> None:
    space = await community_with(http, ["olga", "mallory"])
    owner, mallory = space.owner, space.others[0]
    page = await open_conversation(server, browser, watches, "olga", owner, space.channel_path)

    # events reach this page only once it is subscribed
    await until_live(page, "(olga is here)")

    hostile_name = '<img src=x onerror=window.__xss=1>"Mal'
    await ok(
        await http.put(
            "/api/account/profile", json={"display_name": hostile_name}, headers=mallory.headers
        )
    )
    topic = "<script>window.__xss=1</script><img src=x onerror=window.__xss=1>"
    await ok(
        await http.patch(
            f"/api/groups/{space.group_id}/channels/{space.channel_id}",
            json={"topic": topic},
            headers=owner.headers,
        )
    )
    file_name = "<img src=x onerror=window.__xss=1>.txt"
    upload = await ok(
        await http.post(
            "/api/files/upload",
            files={"file": ("evil.txt", b"hello", "text/plain")},
            data={"name": file_name, "channel_id": space.channel_id},
            headers=mallory.headers,
        )
    )
    # A hostile page's title, description and site name come back from the server's preview
    # service as they are (it extracts text; escaping is the client's job). The service cannot
    # reach a page on this machine (its SSRF guard), so the page's answer is given here.
    preview_title = "<img src=x onerror=window.__xss=1>Title"
    preview_description = "<script>window.__xss=1</script>Description"
    preview_site = '"><svg onload=window.__xss=1>'
    previewed: list[str] = []

    async def hostile_preview(route: Any) -> None:
        previewed.append(route.request.url)
        body = {
            "url": "https://evil.test/page",
            "title": preview_title,
            "description": preview_description,
            "image": "javascript:window.__xss=1",
            "site_name": preview_site,
        }
        await route.fulfill(json=body)

    await page.route("**/api/link-preview?*", hostile_preview)
    link_message = "look at https://evil.test/page"
    ws = await WsClient.open(server.url, mallory, [space.channel_id])
    try:
        for payload in XSS_PAYLOADS:
            await ws.send(space.channel_id, payload)
        await ws.send(space.channel_id, link_message)
        file_body = json.dumps({"file_id": upload["id"], "filename": file_name, "size": 5})
        await ws.send(space.channel_id, file_body, message_type="file")
    finally:
        await ws.close()

    async def check() -> None:
        for payload in XSS_PAYLOADS:
            text = payload.split("](")[0].lstrip("[") if payload.startswith("[") else payload
            await expect(rows(page, text).first).to_be_visible()
        await expect(page.locator(".attachment .file-name")).to_have_text(file_name)
        await expect(page.locator("p.topic")).to_have_text(topic)
        preview = rows(page, link_message).locator(".link-preview")
        await expect(preview.locator("strong")).to_have_text(preview_title)
        await expect(preview.locator("p")).to_have_text(preview_description)
        await expect(preview.locator("div")).to_have_text(preview_site)
        assert previewed, "the client never asked for the link's preview"
        await expect(page.locator(".message .author", has_text=hostile_name).first).to_be_visible()
        assert await page.evaluate("() => window.__xss") is None
        assert await page.locator('img[src="x"]').count() == 0
        assert await page.locator("script:not([src])").count() == 0
        assert await page.locator('[href^="javascript:" i]').count() == 0
        assert await page.locator("[onerror]").count() == 0
        assert await page.locator("[onload]").count() == 0

    await check()  # live
    await page.reload()
    await wait_ready(page)
    await check()  # from history


# 4 -------------------------------------------------------------------------------------------


async def test_a_kicked_member_leaves_the_channel_at_once(
    server: Server, http: httpx.AsyncClient, browser: Any, watches: list[PageWatch]
) -> None:
    space = await community_with(http, ["kate", "ken"])
    owner, ken = space.owner, space.others[0]
    page = await open_conversation(server, browser, watches, "ken", ken, space.channel_path)
    link = page.locator(f'.sidebar a[href$="{space.channel_id}"]')
    await expect(link).to_have_count(1)
    await send_ui(page, "still here")  # subscribed: the kick event will reach this page

    await ok(
        await http.post(
            f"/api/channels/{space.channel_id}/members/{ken.id}/kick", headers=owner.headers
        )
    )
    await expect(page.locator(".toast")).to_contain_text("removed", timeout=5_000)
    await expect(page).not_to_have_url(re.compile(space.channel_id), timeout=5_000)
    await expect(link).to_have_count(0, timeout=5_000)
    await expect(page.locator("#composer-input")).to_have_count(0)


# 5 -------------------------------------------------------------------------------------------


async def test_reconnects_after_a_server_restart_without_losing_or_doubling(
    server: Server, http: httpx.AsyncClient, browser: Any, watches: list[PageWatch]
) -> None:
    space = await community_with(http, ["rita", "rob"])
    rita, rob = space.owner, space.others[0]
    page = await open_conversation(server, browser, watches, "rob", rob, space.channel_path)
    await send_ui(page, "before the restart (mine)")
    ws = await WsClient.open(server.url, rita, [space.channel_id])
    await ws.send(space.channel_id, "before the restart (theirs)")
    await ws.close()
    await expect(rows(page, "before the restart (theirs)")).to_have_count(1)

    port = server.port
    await server.stop()
    await expect(page.locator(".connection-banner")).to_be_visible(timeout=10_000)
    await server.start()
    assert server.port == port
    # sent while the browser is still disconnected (its retry is backing off)
    ws = await WsClient.open(server.url, rita, [space.channel_id])
    await ws.send(space.channel_id, "sent while you were away")
    await ws.close()

    await expect(page.locator(".connection-banner")).to_have_count(0, timeout=30_000)
    await expect(rows(page, "sent while you were away")).to_have_count(1)
    await expect(rows(page, "before the restart (mine)")).to_have_count(1)
    await expect(rows(page, "before the restart (theirs)")).to_have_count(1)
    await send_ui(page, "after the restart")
    ws = await WsClient.open(server.url, rita, [space.channel_id])
    await ws.send(space.channel_id, "live again")
    await ws.close()
    await expect(rows(page, "live again")).to_have_count(1)
    await expect(rows(page, "sent while you were away")).to_have_count(1)


# 6 -------------------------------------------------------------------------------------------


async def focused(page: Any) -> dict[str, Any]:
    return dict(
        await page.evaluate(
            "() => { const e = document.activeElement; return {tag: e.tagName, id: e.id,"
            " label: e.getAttribute('aria-label') || '', text: (e.textContent || '').trim(),"
            " type: e.getAttribute('type') || ''}; }"
        )
    )


async def tab_to(page: Any, wanted: Any, backwards: bool = False, limit: int = 80) -> None:
    """Presses Tab (or Shift+Tab) until the focused element matches `wanted`."""
    seen = []
    for _ in range(limit):
        await page.keyboard.press("Shift+Tab" if backwards else "Tab")
        now = await focused(page)
        if wanted(now):
            return
        seen.append(now)
    raise AssertionError(f"not reached with the keyboard; went through {seen[-10:]}")


def named(name: str) -> Any:
    return lambda element: element["label"] == name or element["text"] == name


async def test_keyboard_only(server: Server, browser: Any, watches: list[PageWatch]) -> None:
    page = await new_page(browser, "keys", watches)
    await page.goto(f"{server.url}/register")
    # the username field has the focus at first; then Tab through the form
    await expect(page.get_by_label("Username")).to_be_focused()
    await page.keyboard.type("keyboarder")
    await page.keyboard.press("Tab")
    await page.keyboard.type("Keys")
    await tab_to(page, lambda e: e["type"] == "email")
    await page.keyboard.type("keys@example.com")
    await tab_to(page, lambda e: e["type"] == "password")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("recovery-code")).to_be_visible(timeout=20_000)
    await tab_to(page, lambda e: e["type"] == "checkbox")
    await page.keyboard.press("Space")
    await tab_to(page, named("Continue"))
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/channels/@me$"))

    # Escape closes a dialog and the focus returns to the button that opened it
    await tab_to(page, named("Create a community"))
    opener = await focused(page)
    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Create a community")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_label("Community name")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(dialog).to_have_count(0)
    assert await focused(page) == opener

    await page.keyboard.press("Enter")
    await expect(dialog.get_by_label("Community name")).to_be_focused()
    await page.keyboard.type("Keyboard club")
    await page.keyboard.press("Enter")
    await wait_ready(page)
    await tab_to(page, lambda e: e["id"] == "composer-input")
    await page.keyboard.type("typed without a mouse")
    await page.keyboard.press("Enter")
    first = rows(page, "typed without a mouse")
    await expect(first).to_have_count(1)
    await expect(page.locator("ol.messages li.message.pending")).to_have_count(0)

    # reply: Shift+Tab back from the box into the message's actions
    await tab_to(page, named("Reply"), backwards=True)
    await page.keyboard.press("Enter")
    await expect(page.locator("#composer-input")).to_be_focused()
    await expect(page.locator(".composer-context")).to_contain_text("Replying to")
    await page.keyboard.type("a reply by keyboard")
    await page.keyboard.press("Enter")
    reply = rows(page, "a reply by keyboard")
    await expect(reply.locator(".reply-preview")).to_contain_text("typed without a mouse")
    await expect(page.locator("ol.messages li.message.pending")).to_have_count(0)

    # Up in the empty box edits the last message; Enter saves
    await page.keyboard.press("ArrowUp")
    await expect(page.locator(".composer-context")).to_contain_text("Editing")
    await expect(page.locator("#composer-input")).to_have_value("a reply by keyboard")
    await page.keyboard.press("ControlOrMeta+a")
    await page.keyboard.type("a reply, edited")
    await page.keyboard.press("Enter")
    edited = rows(page, "a reply, edited")
    await expect(edited.get_by_role("button", name="(edited)")).to_be_visible()
    await expect(rows(page, "a reply by keyboard")).to_have_count(0)


# 7 -------------------------------------------------------------------------------------------


async def test_phone_sized_screen(
    server: Server, http: httpx.AsyncClient, browser: Any, watches: list[PageWatch]
) -> None:
    space = await community_with(http, ["paula", "pete"])
    pete = space.others[0]
    page = await new_page(
        browser,
        "phone",
        watches,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    await page.goto(f"{server.url}/login")
    await page.get_by_label("Username").fill(pete.username)
    await page.get_by_label("Password").fill(pete.password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile(r"/channels/@me$"))

    nav = page.locator(".nav-pane")
    content = page.locator("main.content")
    await expect(nav).to_be_in_viewport()
    await expect(content).to_be_hidden()
    await screenshot(page, "phone-navigation")

    await page.get_by_role("link", name="Testers").tap()
    await wait_ready(page)
    await expect(page).to_have_url(re.compile(space.channel_id))
    await expect(content).to_be_visible()
    await expect(nav).not_to_be_in_viewport()

    await page.get_by_role("button", name="Open navigation").tap()
    await expect(nav).to_be_in_viewport()
    await page.locator(f'.sidebar a[href$="{space.channel_id}"]').tap()
    await expect(nav).not_to_be_in_viewport()
    await send_ui(page, "sent from a phone")
    await screenshot(page, "phone-channel")
    box = await page.locator("#composer-input").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390


# 8 and 9 -------------------------------------------------------------------------------------


async def axe_check(page: Any, what: str) -> list[str]:
    from axe_playwright_python.async_playwright import Axe  # type: ignore[import-untyped]

    results = await Axe().run(page)
    bad = []
    for violation in results.response["violations"]:
        if violation.get("impact") in ("serious", "critical"):
            targets = [node["target"] for node in violation["nodes"]][:5]
            bad.append(f"{what}: {violation['id']} ({violation['impact']}) {targets}")
    return bad


async def test_accessibility_and_screenshots(
    server: Server, http: httpx.AsyncClient, browser: Any, watches: list[PageWatch]
) -> None:
    space = await community_with(http, ["ada", "bea"])
    ada, bea = space.owner, space.others[0]
    ws = await WsClient.open(server.url, bea, [space.channel_id])
    await ws.send(space.channel_id, "Hello **everyone**, see https://example.com and `code`")
    await ws.send(space.channel_id, "> a quote\n- a list item")
    await ws.close()
    problems: list[str] = []

    page = await new_page(browser, "signed out", watches, theme="dark")
    await page.goto(f"{server.url}/login")
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    problems += await axe_check(page, "login")
    await screenshot(page, "login")
    await page.goto(f"{server.url}/register")
    await expect(page.get_by_role("button", name="Create account")).to_be_visible()
    problems += await axe_check(page, "register")
    await screenshot(page, "register")

    for theme in ("dark", "light"):
        page = await new_page(browser, f"channel {theme}", watches, member=ada, theme=theme)
        await page.goto(server.url + space.channel_path)
        await wait_ready(page)
        assert await page.evaluate("() => document.documentElement.dataset.theme") == theme
        await expect(rows(page, "a list item")).to_have_count(1)
        await send_ui(page, f"a message in the {theme} theme")
        problems += await axe_check(page, f"channel ({theme})")
        await screenshot(page, f"channel-{theme}")
        if theme == "dark":
            await page.get_by_role("button", name="Create a community").first.click()
            await expect(page.get_by_role("dialog")).to_be_visible()
            problems += await axe_check(page, "dialog")
            await screenshot(page, "dialog")
            await page.keyboard.press("Escape")
            await page.goto(f"{server.url}/settings")
            await expect(page.get_by_role("heading", name="Profile")).to_be_visible()
            problems += await axe_check(page, "settings")
            await screenshot(page, "settings")
    assert not problems, "\n".join(problems)


# 10 ------------------------------------------------------------------------------------------


async def test_two_browsers_talk_in_a_voice_channel(
    server: Server, http: httpx.AsyncClient, browser: Any, watches: list[PageWatch]
) -> None:
    """Both join the call of a voice channel with the client's own buttons (fake microphone):
    each sees the other in the call and their peer connection reaches `connected`; mute is
    shown as pressed; leaving removes one from the other's participant list."""
    space = await community_with(http, ["vera", "vic"])
    owner, other = space.owner, space.others[0]
    voice = await ok(
        await http.post(
            f"/api/groups/{space.group_id}/channels",
            json={"name": "lounge", "channel_type": "voice"},
            headers=owner.headers,
        )
    )
    await ok(await http.post(f"/api/channels/{voice['id']}/join", headers=other.headers))
    path = f"/channels/{space.community_id}/{voice['id']}"
    pages = []
    for label, member in (("vera", owner), ("vic", other)):
        page = await new_page(browser, label, watches, member=member)
        await page.goto(server.url + path)
        await wait_ready(page)
        pages.append(page)
    for page in pages:
        await page.get_by_role("button", name="Join call").click()
        await expect(page.get_by_role("button", name="Leave call")).to_be_visible()
    for page, peer in ((pages[0], other), (pages[1], owner)):
        await expect(page.locator(".voice-participant")).to_have_count(2, timeout=15_000)
        version = await page.locator('meta[name="chatalot-version"]').get_attribute("content")
        await page.wait_for_function(
            "async ([version, peer]) => {"
            " const voice = await import(`/client/${version}/js/voice.js`);"
            " return voice.peerStates()[peer] === 'connected'; }",
            arg=[version, peer.id],
            timeout=30_000,
        )
    await pages[1].get_by_role("button", name="Mute").click()
    await expect(pages[1].get_by_role("button", name="Unmute")).to_have_attribute(
        "aria-pressed", "true"
    )
    await pages[1].get_by_role("button", name="Leave call").click()
    await expect(pages[0].locator(".voice-participant")).to_have_count(1, timeout=15_000)
    await screenshot(pages[0], "voice")


# 11 ------------------------------------------------------------------------------------------


async def test_polls_scheduled_messages_bookmarks_and_the_admin_panel(
    server: Server, http: httpx.AsyncClient, browser: Any, watches: list[PageWatch]
) -> None:
    """A poll made and voted on in the UI shows its result to another member live; a message
    scheduled from the box and a bookmarked message are listed under Saved (stored on the
    server); the admin panel's sections load; two-factor authentication is set up and its
    backup codes are shown."""
    space = await community_with(http, ["pia", "pat"])
    owner, other = space.owner, space.others[0]
    page = await new_page(browser, "pia", watches, member=owner)
    page.on("dialog", lambda dialog: dialog.accept("remember this"))
    watcher = await new_page(browser, "pat", watches, member=other)
    for each in (page, watcher):
        await each.goto(server.url + space.channel_path)
        await wait_ready(each)
        await each.get_by_role("button", name="Polls").click()

    await page.get_by_role("button", name="New poll").click()
    await page.get_by_label("Question").fill("Lunch?")
    await page.get_by_label("Option 1").fill("Pizza")
    await page.get_by_label("Option 2").fill("Soup")
    await page.get_by_role("button", name="Create poll").click()
    await page.locator(".poll-option button", has_text="Soup").click()
    await expect(watcher.locator(".poll-option", has_text="Soup")).to_contain_text("1 (100%)")
    polls = await ok(
        await http.get(f"/api/channels/{space.channel_id}/polls", headers=owner.headers)
    )
    assert [vote["count"] for vote in polls[0]["votes"]] == [0, 1]

    await send_ui(page, "worth keeping")
    row = rows(page, "worth keeping")
    await row.hover()
    await row.get_by_role("button", name="Bookmark").click()
    await expect(page.locator(".toast", has_text="Bookmarked")).to_be_visible()
    await page.locator("#composer-input").fill("see you tomorrow")
    await page.get_by_role("button", name="Schedule").click()
    await page.get_by_role("dialog").get_by_role("button", name="Schedule").click()
    await expect(page.locator("#composer-input")).to_have_value("")
    scheduled = await ok(await http.get("/api/messages/scheduled", headers=owner.headers))
    assert [item.get("content_preview") for item in scheduled] == ["see you tomorrow"]

    await page.goto(server.url + "/saved")
    await expect(page.locator(".card", has_text="worth keeping")).to_contain_text("remember this")
    await expect(page.locator(".card", has_text="see you tomorrow")).to_be_visible()

    for section in ("users", "invites", "settings", "reports", "audit", "files", "announcements"):
        await page.goto(f"{server.url}/admin/{section}")
        await expect(page.get_by_role("heading", level=2).first).to_be_visible()
        await expect(page.locator(".error")).to_have_count(0)
        if section == "audit":  # both registrations are in the log
            await expect(page.locator("td", has_text=re.compile(r"^register$"))).to_have_count(2)

    await page.goto(server.url + "/settings")
    await page.get_by_role("button", name="Set up or manage two-factor authentication").click()
    secret = (await page.get_by_test_id("totp-secret").text_content() or "").strip()
    await page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    await page.get_by_role("button", name="Turn on", exact=True).click()
    await expect(page.get_by_test_id("backup-codes").locator("li")).to_have_count(8)
    await screenshot(page, "settings-2fa")


# 12 ------------------------------------------------------------------------------------------


async def test_an_expired_access_token_is_renewed_without_losing_the_page(
    server: Server, http: httpx.AsyncClient, browser: Any, watches: list[PageWatch]
) -> None:
    """Opened with an access token the server refuses (as after expiry) but a good refresh
    token: the REST calls and the WebSocket both renew it (one refresh, not one each: a
    refresh token presented twice would end the session), the conversation works, and the
    stored tokens are the new ones."""
    space = await community_with(http, ["tess", "tom"])
    stale = dataclasses.replace(space.owner, token="not-a-valid-token")
    page = await open_conversation(server, browser, watches, "tess", stale, space.channel_path)
    await send_ui(page, "still signed in")
    stored = await page.evaluate(
        "() => [localStorage.getItem('chatalot.access_token'),"
        " localStorage.getItem('chatalot.refresh_token')]"
    )
    assert stored[0] != "not-a-valid-token"
    assert stored[1] != space.owner.refresh_token
    # the renewed session is the live one: a reload stays signed in
    await page.reload()
    await wait_ready(page)
    await expect(rows(page, "still signed in")).to_have_count(1)
