"""End-to-end encryption in the built-in web client, in real browsers against a real server with
encryption on (the default): two people exchange DMs and channel messages, the database holds no
plaintext, a reload still shows everything, hostile and broken ciphertext shows as "cannot be
decrypted" (never as its bytes, never a crash), a new device's key raises the warning, and the
safety numbers on both sides match."""

from __future__ import annotations

import json
import re
from typing import Any

import asyncpg
import httpx
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
    send_ui,
    until_live,
    wait_ready,
)
from tests.support.pg import PgServer

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]


async def unlocked_page(
    server: Server, browser: Any, watches: list[PageWatch], label: str, member: Member, path: str
) -> Any:
    """A browser signed in with tokens only: its keystore is locked until the password is given
    (as after a sign-in elsewhere), then it makes and uploads this device's keys."""
    page = await new_page(browser, label, watches, member=member)
    await page.goto(server.url + path)
    notice = page.locator(".e2e-notice")
    await expect(notice).to_contain_text("locked", timeout=15_000)
    await notice.get_by_label("Password").fill(member.password)
    await notice.get_by_role("button", name="Unlock").click()
    await wait_ready(page)
    return page


async def stored_plaintext(pg: PgServer, database: str, needles: list[str]) -> list[str]:
    """Which of the texts occur anywhere in the messages table's bytes."""
    connection = await asyncpg.connect(pg.url(database).dsn)
    try:
        blobs = [row[0] for row in await connection.fetch("SELECT ciphertext FROM messages")]
    finally:
        await connection.close()
    assert blobs, "no messages were stored"
    return [text for text in needles if any(text.encode() in bytes(blob) for blob in blobs)]


async def open_dm(page: Any, name: str) -> None:
    panel = page.locator(".members-panel")
    if not await panel.is_visible():
        await page.get_by_role("button", name="Members", exact=True).click()
    await panel.locator("button.member", has_text=name).click()
    await page.get_by_role("dialog").get_by_role("button", name="Send a message").click()
    await expect(page).to_have_url(re.compile(r"/channels/@me/[0-9a-f-]{36}$"))
    await wait_ready(page)


async def test_dm_and_channel_round_trips_leave_no_plaintext_on_the_server(
    server: Server,
    http: httpx.AsyncClient,
    browser: Any,
    watches: list[PageWatch],
    pg: PgServer,
    fresh_db: str,
) -> None:
    space = await community_with(http, ["alice", "bob"], encryption_off=False)
    alice, bob = space.owner, space.others[0]
    config = (await http.get("/api/auth/config")).json()
    assert config["e2e_enabled"] is True
    page_a = await unlocked_page(server, browser, watches, "alice", alice, space.channel_path)
    page_b = await unlocked_page(server, browser, watches, "bob", bob, space.channel_path)

    # a channel: sender keys
    await until_live(page_a, "(alice is here)")
    await until_live(page_b, "(bob is here)")
    await send_ui(page_a, "channel secret 7Q2")
    await expect(rows(page_b, "channel secret 7Q2")).to_have_count(1)
    await send_ui(page_b, "channel answer 9K4")
    await expect(rows(page_a, "channel answer 9K4")).to_have_count(1)

    # a copy of Bob's channel message naming a chain he never distributed: marked as such
    history = await ok(
        await http.get(f"/api/channels/{space.channel_id}/messages", headers=alice.headers)
    )
    real = next(
        json.loads(bytes(m["ciphertext"]))
        for m in history
        if m["sender_id"] == bob.id and bytes(m["ciphertext"]).startswith(b'{"v":1,"sk":true')
    )
    real["message"]["chain_id"] = (real["message"]["chain_id"] + 1) % 2**32
    ws = await WsClient.open(server.url, bob, [space.channel_id])
    try:
        await ws.send(space.channel_id, json.dumps(real, separators=(",", ":")))
    finally:
        await ws.close()
    wrong_chain = page_a.locator("ol.messages li.message .undecryptable")
    await expect(wrong_chain).to_have_count(1)
    await expect(wrong_chain).to_contain_text("changed their key for this channel")

    # a DM: X3DH then the Double Ratchet, both directions
    await open_dm(page_a, bob.user["display_name"])
    await send_ui(page_a, "dm secret X1")
    dm_path = page_a.url.removeprefix(server.url)
    await page_b.goto(server.url + dm_path)
    await wait_ready(page_b)
    await expect(rows(page_b, "dm secret X1")).to_have_count(1)
    await send_ui(page_b, "dm answer Y2")
    await expect(rows(page_a, "dm answer Y2")).to_have_count(1)
    await send_ui(page_a, "dm again Z3")
    await expect(rows(page_b, "dm again Z3")).to_have_count(1)

    texts = [
        "channel secret 7Q2",
        "channel answer 9K4",
        "dm secret X1",
        "dm answer Y2",
        "dm again Z3",
    ]
    assert await stored_plaintext(pg, fresh_db, texts) == []

    # a reload reads everything again (own messages too: the ratchet cannot, the sealed cache can)
    for page in (page_a, page_b):
        await page.reload()
        await wait_ready(page)
        for text in ["dm secret X1", "dm answer Y2", "dm again Z3"]:
            await expect(rows(page, text)).to_have_count(1)
    await page_b.goto(server.url + space.channel_path)
    await wait_ready(page_b)
    await expect(rows(page_b, "channel secret 7Q2")).to_have_count(1)
    await expect(rows(page_b, "channel answer 9K4")).to_have_count(1)

    # safety numbers: the same on both sides
    numbers = []
    for page, name in ((page_a, bob.user["display_name"]), (page_b, alice.user["display_name"])):
        await page.goto(server.url + dm_path)
        await wait_ready(page)
        await page.get_by_role("button", name="Verify").click()
        dialog = page.get_by_role("dialog", name=f"Verify {name}")
        number = dialog.locator(".safety-number")
        await expect(number).to_be_visible()
        numbers.append(await number.get_attribute("aria-label"))
        await dialog.get_by_role("button", name="Close").click()
    assert numbers[0] == numbers[1]
    assert re.fullmatch(r"Safety number( \d{5}){8}", numbers[0] or ""), numbers


async def test_broken_and_plaintext_messages_in_an_encrypted_dm(
    server: Server, http: httpx.AsyncClient, browser: Any, watches: list[PageWatch]
) -> None:
    space = await community_with(http, ["carol", "dave"], encryption_off=False)
    carol, dave = space.owner, space.others[0]
    page = await unlocked_page(server, browser, watches, "carol", carol, space.channel_path)
    dm = (
        await http.post("/api/dms", json={"target_user_id": carol.id}, headers=dave.headers)
    ).json()
    channel_id = dm["channel"]["id"]
    await page.goto(f"{server.url}/channels/@me/{channel_id}")
    await wait_ready(page)

    ws = await WsClient.open(server.url, dave, [channel_id])
    broken = [
        '{"v":1,"header":{"ratchet_key":[1,2],"previous_chain_length":0,"message_number":0},'
        '"ciphertext":[1,2,3],"nonce":[1]}',  # a truncated key and nonce
        '{"v":1,"sk":true,"message":{"chain_id":5,"iteration":0,"ciphertext":[9],"nonce":'
        "[0,0,0,0,0,0,0,0,0,0,0,0]}}",  # a channel message in a DM, no such chain
        '{"v":1,"x3dh":{"identity_key":'
        + str([7] * 32)
        + ',"ephemeral_key":'
        + str([8] * 32)
        + ',"signed_prekey_id":1,"one_time_prekey_id":424242},"header":{"ratchet_key":'
        + str([9] * 32)
        + ',"previous_chain_length":0,"message_number":0},"ciphertext":'
        + str([1] * 20)
        + ',"nonce":'
        + str([0] * 12)
        + "}",  # an unknown one-time prekey
    ]
    try:
        for body in broken:
            await ws.send(channel_id, body)
        await ws.send(channel_id, "plain words from an old app")
    finally:
        await ws.close()
    await expect(rows(page, "plain words from an old app")).to_have_count(1)
    failed = page.locator("ol.messages li.message .undecryptable")
    await expect(failed).to_have_count(3)
    for index in range(3):
        await expect(failed.nth(index)).to_contain_text("cannot be decrypted")
    # the wire text itself never shows
    assert "ratchet_key" not in await page.locator("ol.messages").inner_text()
    # still usable: a reply goes out encrypted
    await send_ui(page, "still here")


async def test_edit_search_and_a_new_device_in_an_encrypted_dm(
    server: Server, http: httpx.AsyncClient, browser: Any, watches: list[PageWatch]
) -> None:
    space = await community_with(http, ["erin", "frank"], encryption_off=False)
    erin, frank = space.owner, space.others[0]
    dm = (
        await http.post("/api/dms", json={"target_user_id": frank.id}, headers=erin.headers)
    ).json()
    dm_path = f"/channels/@me/{dm['channel']['id']}"
    page_e = await unlocked_page(server, browser, watches, "erin", erin, dm_path)
    page_f = await unlocked_page(server, browser, watches, "frank", frank, dm_path)

    await send_ui(page_e, "the harbour at dawn")
    await expect(rows(page_f, "the harbour at dawn")).to_have_count(1)
    await send_ui(page_f, "bring the blue lantern")
    await expect(rows(page_e, "bring the blue lantern")).to_have_count(1)

    # a replayed and a tampered copy of Frank's real message, sent as Frank by another client:
    # each is marked as not decryptable, and the conversation goes on
    dm_id = dm["channel"]["id"]
    history = await ok(await http.get(f"/api/channels/{dm_id}/messages", headers=erin.headers))
    real = next(bytes(m["ciphertext"]) for m in history if m["sender_id"] == frank.id)
    wire = json.loads(real)
    # the header is authenticated: a changed message number fails, and must leave no trace in
    # the session (Frank's next real message still decrypts below)
    tampered = {**wire, "header": {**wire["header"], "message_number": 5}}
    ws = await WsClient.open(server.url, frank, [dm_id])
    try:
        await ws.send(dm_id, real.decode())
        await ws.send(dm_id, json.dumps(tampered, separators=(",", ":")))
    finally:
        await ws.close()
    failed = page_e.locator("ol.messages li.message .undecryptable")
    await expect(failed).to_have_count(2)
    await expect(failed.first).to_contain_text("cannot be decrypted. It was already received once.")
    await expect(failed.nth(1)).to_contain_text("It was changed on the way")
    assert "ratchet_key" not in await page_e.locator("ol.messages").inner_text()

    # two messages encrypted in one order and delivered in the other: both decrypt (the
    # original client lost the late one)
    sealed = await page_f.evaluate(
        """async (peer) => {
          const version = document.querySelector('meta[name="chatalot-version"]').content;
          const { encryption } = await import(`/client/${version}/js/e2e/account.js`);
          const { engine } = encryption.get();
          return [await engine.encryptDm(peer, "sealed first"),
                  await engine.encryptDm(peer, "sealed second")];
        }""",
        erin.id,
    )
    ws = await WsClient.open(server.url, frank, [dm_id])
    try:
        for message in reversed(sealed):
            await ws.send(dm_id, bytes(message["ciphertext"]).decode())
    finally:
        await ws.close()
    await expect(rows(page_e, "sealed second")).to_have_count(1)
    await expect(rows(page_e, "sealed first")).to_have_count(1)

    # an edit is encrypted like a new message and decrypts on the other side
    box = page_f.locator("#composer-input")
    await box.press("ArrowUp")
    await expect(box).to_have_value("bring the blue lantern")
    await box.fill("bring the green lantern")
    await box.press("Enter")
    edited = rows(page_e, "bring the green lantern")
    await expect(edited).to_have_count(1)
    await expect(edited.get_by_role("button", name="(edited)")).to_be_visible()
    await expect(rows(page_e, "bring the blue lantern")).to_have_count(0)

    # search runs in the browser over what it decrypted (the server cannot read these)
    await page_e.get_by_role("button", name="Search messages").click()
    panel = page_e.locator(".search-panel, aside[aria-label='Search']").first
    query = page_e.get_by_role("combobox", name="Search messages")
    await query.fill("LANTERN green")
    await query.press("Enter")
    results = page_e.locator("li.search-result")
    await expect(results).to_have_count(1)
    await expect(results.first).to_contain_text("bring the green lantern")
    await query.fill("harbour")
    await query.press("Enter")
    await expect(results).to_have_count(1)
    await expect(results.first).to_contain_text("the harbour at dawn")
    await query.fill("blue lantern")
    await query.press("Enter")
    await expect(panel.get_by_text("No messages found.")).to_be_visible()
    await query.press("Escape")

    # Frank signs in on a new device: new keys, so Erin is warned when his next message comes
    page_f2 = await unlocked_page(server, browser, watches, "frank-new", frank, dm_path)
    await send_ui(page_f2, "new phone, same frank")
    await expect(rows(page_e, "new phone, same frank")).to_have_count(1)
    warning = page_e.locator(".identity-warning")
    await expect(warning).to_contain_text("security key changed")
    await warning.get_by_role("button", name="Verify").click()
    dialog = page_e.get_by_role("dialog", name=f"Verify {frank.user['display_name']}")
    await dialog.get_by_role("button", name="The numbers match: mark as verified").click()
    await expect(dialog.locator(".verified")).to_be_visible()
    await dialog.get_by_role("button", name="Close").click()
    await expect(warning).to_have_count(0)


NOTIFICATION_STUB = """
window.__notes = [];
window.Notification = class {
  static permission = "granted";
  static requestPermission() { return Promise.resolve("granted"); }
  constructor(title, options) { window.__notes.push({ title, body: options && options.body }); }
};
"""


async def test_a_mention_in_an_encrypted_channel_notifies_without_its_text(
    server: Server, http: httpx.AsyncClient, browser: Any, watches: list[PageWatch]
) -> None:
    space = await community_with(http, ["gina", "hugo"], encryption_off=False)
    gina, hugo = space.owner, space.others[0]
    page_g = await unlocked_page(server, browser, watches, "gina", gina, space.channel_path)
    page_h = await unlocked_page(server, browser, watches, "hugo", hugo, space.channel_path)
    # Hugo's page is subscribed, then he reads something else (the same page: the same socket),
    # with desktop notifications allowed
    await until_live(page_h, "(hugo is here)")
    await page_h.evaluate(f"() => {{ {NOTIFICATION_STUB} }}")
    await page_h.get_by_role("link", name="Direct messages").click()
    await expect(page_h).to_have_url(f"{server.url}/channels/@me")

    await send_ui(page_g, "nothing for anyone")
    await send_ui(page_g, f"@{hugo.user['username']} the secret word is marmalade")
    await page_h.wait_for_function("() => window.__notes.length >= 1", timeout=15_000)
    await page_h.wait_for_timeout(500)  # a notification for the first message would be here now
    notes = await page_h.evaluate("() => window.__notes")
    assert notes == [{"title": gina.user["display_name"], "body": "mentioned you"}], notes


async def test_removing_a_member_gives_the_channel_new_sender_keys(
    server: Server, http: httpx.AsyncClient, browser: Any, watches: list[PageWatch]
) -> None:
    space = await community_with(http, ["ivy", "jack", "kim"], encryption_off=False)
    ivy, jack, kim = space.owner, space.others[0], space.others[1]
    page_i = await unlocked_page(server, browser, watches, "ivy", ivy, space.channel_path)
    page_j = await unlocked_page(server, browser, watches, "jack", jack, space.channel_path)
    rotations: list[str] = []
    page_i.on(
        "websocket",
        lambda ws: ws.on(
            "framereceived",
            lambda frame: (
                rotations.append(str(frame))
                if "sender_key_rotation_required" in str(frame)
                else None
            ),
        ),
    )
    await page_i.reload()
    await wait_ready(page_i)
    await until_live(page_i, "(ivy is here)")
    await until_live(page_j, "(jack is here)")

    async def chain_of(text_sent_by_ivy: int) -> int:
        history = await ok(
            await http.get(f"/api/channels/{space.channel_id}/messages", headers=ivy.headers)
        )
        mine = [
            json.loads(bytes(m["ciphertext"]))
            for m in history
            if m["sender_id"] == ivy.id and bytes(m["ciphertext"]).startswith(b'{"v":1,"sk":true')
        ]
        return int(mine[text_sent_by_ivy]["message"]["chain_id"])  # newest first

    await send_ui(page_i, "before Kim leaves")
    await expect(rows(page_j, "before Kim leaves")).to_have_count(1)
    before = await chain_of(0)

    await ok(
        await http.post(
            f"/api/channels/{space.channel_id}/members/{kim.id}/kick", headers=ivy.headers
        )
    )
    for _ in range(50):
        if rotations:
            break
        await page_i.wait_for_timeout(100)
    assert rotations, "the rotation event never reached Ivy's page"

    # Ivy's next message uses a new chain (its key is on the server for Jack, not for Kim)
    await send_ui(page_i, "after Kim left")
    await expect(rows(page_j, "after Kim left")).to_have_count(1)
    after = await chain_of(0)
    assert after != before
    # and Jack's own next message too
    await send_ui(page_j, "jack after the kick")
    await expect(rows(page_i, "jack after the kick")).to_have_count(1)
