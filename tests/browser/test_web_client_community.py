"""Community and group management in the built-in web client, in a real browser against a real
`chatalot serve`: the owner edits the community (details, theme, icon, banner) and a member's
browser follows live; members without the right see no settings; the server's refusals show in
the dialog; hostile names stay text; group settings and deleting a channel; axe on the dialogs."""

from __future__ import annotations

import io
import re
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.async_api import expect

from tests.browser.client_support import (
    Member,
    PageWatch,
    Server,
    community_with,
    new_page,
    ok,
    screenshot,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]

XSS = "<img src=x onerror=window.__xss=1><script>window.__xss=1</script>"


def png(colour: tuple[int, int, int], size: int = 32) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(out, format="PNG")
    return out.getvalue()


async def signed_in(
    server: Server,
    browser: Any,
    watches: list[PageWatch],
    label: str,
    member: Member,
    path: str,
    theme: str | None = None,
) -> Any:
    page = await new_page(browser, label, watches, member=member, theme=theme)
    await page.goto(server.url + path)
    await expect(page.locator("#composer-input")).to_be_enabled(timeout=15_000)
    await expect(page.locator("html")).to_have_attribute("data-connection", "open", timeout=15_000)
    return page


async def open_settings(page: Any) -> Any:
    await page.get_by_role("button", name="Community settings").click()
    dialog = page.get_by_role("dialog", name=re.compile("^Community settings"))
    await expect(dialog).to_be_visible()
    return dialog


def section(dialog: Any, heading: str) -> Any:
    return dialog.locator(
        "section.manage-section", has=dialog.page.get_by_role("heading", name=heading)
    )


async def no_xss(page: Any) -> None:
    assert await page.evaluate("() => window.__xss") is None
    assert await page.locator('img[src="x"]').count() == 0
    assert await page.locator("script:not([src])").count() == 0
    assert await page.locator("[onerror]").count() == 0


async def test_owner_edits_the_community_and_a_member_follows_live(
    server: Server, http: httpx.AsyncClient, browser: Any, watches: list[PageWatch]
) -> None:
    space = await community_with(http, ["ada", "bea"])
    ada, bea = space.owner, space.others[0]
    owner = await signed_in(server, browser, watches, "ada", ada, space.channel_path)
    member = await signed_in(server, browser, watches, "bea", bea, space.channel_path)

    # a plain member has no way in
    await expect(member.locator(".sidebar-header h2")).to_have_text("Testers")
    await expect(member.get_by_role("button", name="Community settings")).to_have_count(0)
    await expect(member.get_by_role("button", name="Settings of General")).to_have_count(0)

    dialog = await open_settings(owner)
    details = section(dialog, "Details")
    await details.get_by_label("Community name").fill("Renamed club")
    await details.get_by_label("Description").fill("We test things")
    await details.get_by_label(re.compile("^Welcome message")).fill("Hello, new people")
    await details.get_by_role("button", name="Save details").click()
    await expect(member.locator(".sidebar-header h2")).to_have_text("Renamed club")
    await expect(member.get_by_role("link", name="Renamed club")).to_be_visible()
    await expect(
        owner.get_by_role("dialog", name="Community settings: Renamed club")
    ).to_be_visible()

    theme = section(dialog, "Theme colours")
    await theme.get_by_label("Accent", exact=True).fill("#8a1c4a")
    await theme.get_by_label("Main background", exact=True).fill("#fdf6e3")
    await theme.get_by_label("Sidebar and panel background", exact=True).fill("#eee8d5")
    await theme.get_by_label("Text", exact=True).fill("#1d1d1d")
    await theme.get_by_label("Secondary text", exact=True).fill("#4a4a4a")
    await expect(theme.locator(".contrast-warning")).to_have_count(0)
    await theme.get_by_role("button", name="Save theme").click()
    shell = member.locator(".shell")
    await expect(shell).to_have_attribute("style", re.compile(r"--accent:\s*#8a1c4a"))
    await expect(shell).to_have_css("background-color", "rgb(253, 246, 227)")
    await expect(member.locator(".sidebar")).to_have_css("background-color", "rgb(238, 232, 213)")
    await expect(member.locator(".sidebar-header h2")).to_have_css("color", "rgb(29, 29, 29)")
    # the colour pickers follow the hex fields
    assert await theme.get_by_label("Accent colour picker").input_value() == "#8a1c4a"

    images = section(dialog, "Icon and banner")
    await images.get_by_label(re.compile("^Image for the icon")).set_input_files(
        {"name": "icon.png", "mimeType": "image/png", "buffer": png((200, 30, 90))}
    )
    await expect(images.get_by_role("img", name="New icon (not saved yet)")).to_be_visible()
    await images.get_by_role("button", name="Upload icon").click()
    await expect(images.get_by_role("img", name="Current icon")).to_be_visible()
    rail_icon = member.get_by_role("link", name="Renamed club").locator("img")
    await expect(rail_icon).to_have_attribute("src", re.compile(r"^/api/community-assets/"))
    assert await rail_icon.evaluate("(img) => img.complete && img.naturalWidth > 0")

    await images.get_by_label(re.compile("^Image for the banner")).set_input_files(
        {"name": "banner.png", "mimeType": "image/png", "buffer": png((20, 90, 200), 90)}
    )
    await images.get_by_role("button", name="Upload banner").click()
    await expect(member.locator("img.community-banner")).to_have_attribute(
        "src", re.compile(r"^/api/community-assets/")
    )
    await screenshot(owner, "community-settings")

    await images.get_by_role("button", name="Remove icon").click()
    await expect(rail_icon).to_have_count(0)
    await expect(images.get_by_role("img", name="Current icon")).to_have_count(0)

    # the theme reset empties every colour and saves an empty theme
    await theme.get_by_role("button", name="Reset to defaults").click()
    await expect(theme.get_by_label("Accent", exact=True)).to_have_value("")
    await theme.get_by_role("button", name="Save theme").click()
    await expect(shell).not_to_have_attribute("style", re.compile("--accent"))
    stored = await ok(await http.get(f"/api/communities/{space.community_id}", headers=ada.headers))
    assert stored["community_theme"] in ({}, None), stored
    assert stored["name"] == "Renamed club" and stored["welcome_message"] == "Hello, new people"
    assert stored["icon_url"] is None and stored["banner_url"]

    # after a reload the member still sees the new name and banner
    await member.reload()
    await expect(member.locator(".sidebar-header h2")).to_have_text("Renamed club")
    await expect(member.locator("img.community-banner")).to_be_visible()


async def test_the_servers_refusals_show_in_the_dialog(
    server: Server, http: httpx.AsyncClient, browser: Any, watches: list[PageWatch]
) -> None:
    space = await community_with(http, ["cleo"])
    owner = await signed_in(server, browser, watches, "cleo", space.owner, space.channel_path)
    dialog = await open_settings(owner)

    theme = section(dialog, "Theme colours")
    await theme.get_by_label("Accent", exact=True).fill("#12345g")
    await theme.get_by_role("button", name="Save theme").click()
    await expect(theme.get_by_role("alert")).to_contain_text("must be a hex color")
    await expect(owner.locator(".shell")).not_to_have_attribute("style", re.compile("12345g"))

    # low contrast: a warning, and the owner may still save
    await theme.get_by_label("Accent", exact=True).fill("")
    await theme.get_by_label("Main background", exact=True).fill("#777777")
    await theme.get_by_label("Text", exact=True).fill("#888888")
    warning = theme.locator(".contrast-warning")
    await expect(warning).to_be_visible()
    await expect(warning).to_contain_text("Text on main background")
    await theme.get_by_role("button", name="Save theme").click()
    await expect(theme.get_by_role("alert")).to_have_count(0)
    await expect(owner.locator(".shell")).to_have_css("background-color", "rgb(119, 119, 119)")
    await theme.get_by_label("Text", exact=True).fill("#ffffff")
    await theme.get_by_label("Main background", exact=True).fill("#000000")
    await expect(warning).to_have_count(0)

    images = section(dialog, "Icon and banner")
    icon_file = images.get_by_label(re.compile("^Image for the icon"))
    await icon_file.set_input_files(
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"just some text"}
    )
    await images.get_by_role("button", name="Upload icon").click()
    await expect(images.get_by_role("alert")).to_contain_text("invalid image type")
    big = b"\x89PNG\r\n\x1a\n" + b"\0" * (10 * 1024 * 1024 + 16)
    await icon_file.set_input_files({"name": "big.png", "mimeType": "image/png", "buffer": big})
    await images.get_by_role("button", name="Upload icon").click()
    await expect(images.get_by_role("alert")).to_contain_text("too large", timeout=20_000)

    emoji = section(dialog, "Custom emoji")
    await expect(emoji.get_by_text("No custom emoji yet.")).to_be_visible()
    await emoji.get_by_label("Shortcode").fill("party")
    emoji_file = emoji.get_by_label(re.compile("^Emoji image"))
    await emoji_file.set_input_files(
        {"name": "party.png", "mimeType": "image/png", "buffer": png((250, 200, 0), 24)}
    )
    await emoji.get_by_role("button", name="Add emoji").click()
    listed = emoji.get_by_role("list", name="Custom emoji")
    await expect(listed.get_by_text(":party:")).to_be_visible()
    await emoji.get_by_label("Shortcode").fill("party")
    await emoji_file.set_input_files(
        {"name": "party2.png", "mimeType": "image/png", "buffer": png((0, 200, 250), 24)}
    )
    await emoji.get_by_role("button", name="Add emoji").click()
    await expect(emoji.get_by_role("alert")).to_contain_text("already exists")
    await emoji.get_by_label("Shortcode").fill("x")
    await emoji.get_by_role("button", name="Add emoji").click()
    await expect(emoji.get_by_role("alert")).to_contain_text("shortcode must be")

    # deleting asks first
    await listed.get_by_role("button", name="Delete").click()
    await listed.get_by_role("button", name="Delete :party:").click()
    await expect(emoji.get_by_text("No custom emoji yet.")).to_be_visible()
    rows = await ok(
        await http.get(f"/api/communities/{space.community_id}/emojis", headers=space.owner.headers)
    )
    assert rows == []

    # an empty name is refused by the browser; a too long one by the server
    details = section(dialog, "Details")
    await details.get_by_label("Community name").evaluate("(el) => el.removeAttribute('maxlength')")
    await details.get_by_label("Community name").fill("x" * 80)
    await details.get_by_role("button", name="Save details").click()
    await expect(details.get_by_role("alert")).to_contain_text("1-64")
    # nothing broke: the dialog still works
    await details.get_by_label("Community name").fill("Still fine")
    await details.get_by_role("button", name="Save details").click()
    await expect(owner.locator(".sidebar-header h2")).to_have_text("Still fine")
    await expect(details.get_by_role("alert")).to_have_count(0)


async def test_hostile_community_text_is_shown_as_text(
    server: Server, http: httpx.AsyncClient, browser: Any, watches: list[PageWatch]
) -> None:
    space = await community_with(http, ["dora", "eve"])
    hostile = {
        "name": "<b>x</b><img src=x onerror=window.__xss=1>",
        "description": XSS,
        "welcome_message": "<svg onload=window.__xss=1>" + XSS,
    }
    await ok(
        await http.patch(
            f"/api/communities/{space.community_id}", json=hostile, headers=space.owner.headers
        )
    )
    member = await signed_in(server, browser, watches, "eve", space.others[0], space.channel_path)
    await expect(member.locator(".sidebar-header h2")).to_have_text(hostile["name"])
    await no_xss(member)

    owner = await signed_in(server, browser, watches, "dora", space.owner, space.channel_path)
    dialog = await open_settings(owner)
    await expect(owner.locator("#community-settings-title")).to_have_text(
        "Community settings: " + hostile["name"]
    )
    details = section(dialog, "Details")
    await expect(details.get_by_label("Description")).to_have_value(XSS)
    await expect(details.get_by_label(re.compile("^Welcome message"))).to_have_value(
        hostile["welcome_message"]
    )
    await no_xss(owner)
    assert await owner.locator("svg[onload]").count() == 0


async def test_group_settings_and_deleting_a_channel(
    server: Server, http: httpx.AsyncClient, browser: Any, watches: list[PageWatch]
) -> None:
    space = await community_with(http, ["finn", "gus"])
    extra = await ok(
        await http.post(
            f"/api/groups/{space.group_id}/channels",
            json={"name": "extra", "channel_type": "text"},
            headers=space.owner.headers,
        )
    )
    await http.post(f"/api/groups/{space.group_id}/join", headers=space.others[0].headers)
    owner = await signed_in(server, browser, watches, "finn", space.owner, space.channel_path)
    member = await signed_in(server, browser, watches, "gus", space.others[0], space.channel_path)
    await expect(member.get_by_role("link", name="extra")).to_be_visible()
    await expect(member.get_by_role("button", name="Settings of General")).to_have_count(0)

    await owner.get_by_role("button", name="Settings of General").click()
    dialog = owner.get_by_role("dialog", name="Group settings: General")
    await expect(dialog).to_be_visible()
    await dialog.get_by_label("Group name").fill("Lobby")
    await dialog.get_by_label("Accent colour (hex, empty for none)").fill("nope")
    await dialog.get_by_role("button", name="Save group").click()
    await expect(dialog.get_by_role("alert")).to_contain_text("accent_color must be a hex color")
    await dialog.get_by_label("Accent colour (hex, empty for none)").fill("#2f9e6e")
    await dialog.get_by_role("radio", name=re.compile("^Private")).check()
    await dialog.get_by_role("button", name="Save group").click()
    await expect(dialog).to_have_count(0)
    await expect(member.get_by_role("region", name="Lobby")).to_be_visible()
    await expect(member.get_by_role("region", name="Lobby")).to_have_class(re.compile("has-accent"))
    group = await ok(await http.get(f"/api/groups/{space.group_id}", headers=space.owner.headers))
    assert (group["name"], group["accent_color"], group["visibility"]) == (
        "Lobby",
        "#2f9e6e",
        "private",
    )

    # clearing the colour sends "", which this server honours
    await owner.get_by_role("button", name="Settings of Lobby").click()
    dialog = owner.get_by_role("dialog", name="Group settings: Lobby")
    await dialog.get_by_role("button", name="Clear colour").click()
    await dialog.get_by_role("button", name="Save group").click()
    await expect(dialog).to_have_count(0)
    group = await ok(await http.get(f"/api/groups/{space.group_id}", headers=space.owner.headers))
    assert group["accent_color"] is None

    await owner.get_by_role("button", name="Settings of Lobby").click()
    dialog = owner.get_by_role("dialog", name="Group settings: Lobby")
    await dialog.get_by_role("button", name="Delete channel extra").click()
    await expect(
        dialog.get_by_role("group", name="Delete extra and all its messages?")
    ).to_be_visible()
    await expect(dialog.get_by_role("button", name="Yes, delete extra")).to_be_focused()
    # cancelling keeps it, and focus goes back to the button
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(dialog.get_by_role("button", name="Delete channel extra")).to_be_focused()
    await expect(member.get_by_role("link", name="extra")).to_be_visible()
    await dialog.get_by_role("button", name="Delete channel extra").click()
    await dialog.get_by_role("button", name="Yes, delete extra").click()
    await expect(member.get_by_role("link", name="extra")).to_have_count(0)
    await expect(dialog.get_by_role("button", name="Delete channel extra")).to_have_count(0)
    await expect(dialog.get_by_role("heading", name="Channels")).to_be_focused()
    response = await http.get(f"/api/channels/{extra['id']}", headers=space.owner.headers)
    assert response.status_code == 404, response.text
    await dialog.get_by_role("button", name="Close").click()
    await expect(dialog).to_have_count(0)


async def axe_problems(page: Any, what: str) -> list[str]:
    from axe_playwright_python.async_playwright import Axe  # type: ignore[import-untyped]

    results = await Axe().run(page)
    bad = []
    for violation in results.response["violations"]:
        if violation.get("impact") in ("serious", "critical"):
            targets = [node["target"] for node in violation["nodes"]][:5]
            bad.append(f"{what}: {violation['id']} ({violation['impact']}) {targets}")
    return bad


async def test_the_settings_dialogs_pass_axe(
    server: Server, http: httpx.AsyncClient, browser: Any, watches: list[PageWatch]
) -> None:
    space = await community_with(http, ["hana"])
    await ok(
        await http.patch(
            f"/api/communities/{space.community_id}",
            json={"community_theme": {"accent": "#0b6e4f", "bgPrimary": "#ffffff"}},
            headers=space.owner.headers,
        )
    )
    problems: list[str] = []
    for theme in ("dark", "light"):
        page = await signed_in(
            server, browser, watches, f"hana {theme}", space.owner, space.channel_path, theme
        )
        dialog = await open_settings(page)
        # focus starts inside the dialog and Escape gives it back to the opener
        await dialog.evaluate(
            """(box) => new Promise((resolve, reject) => {
                const until = Date.now() + 5000;
                const look = () => box.contains(document.activeElement) ? resolve(true)
                    : Date.now() > until ? reject(new Error("the focus is not in the dialog"))
                    : requestAnimationFrame(look);
                look();
            })"""
        )
        await section(dialog, "Theme colours").get_by_label("Text", exact=True).fill("#eeeeee")
        await expect(dialog.locator(".contrast-warning")).to_be_visible()
        problems += await axe_problems(page, f"community settings ({theme})")
        await screenshot(page, f"community-settings-{theme}")
        await page.keyboard.press("Escape")
        await expect(dialog).to_have_count(0)
        await expect(page.get_by_role("button", name="Community settings")).to_be_focused()
        await page.get_by_role("button", name="Settings of General").click()
        group_dialog = page.get_by_role("dialog", name="Group settings: General")
        await group_dialog.get_by_role("button", name="Delete group").click()
        problems += await axe_problems(page, f"group settings ({theme})")
        await page.keyboard.press("Escape")
    assert not problems, "\n".join(problems)
