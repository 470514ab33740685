"""Webhooks: POST/GET /api/channels/{id}/webhooks, PATCH/DELETE /api/webhooks/{id},
POST /api/webhooks/execute/{token} and GET /api/admin/webhooks: who may manage them, the
token, bad input on every field (a 4xx, nothing half-written), the message a webhook posts
(row, event, history, unread, search), the rate limits and the admin overview."""

from __future__ import annotations

import json
import logging
import re
import uuid
from typing import Any

import httpx
import pytest

from chatalot.clock import FakeClock
from chatalot.context import Ctx
from chatalot.protocol import events
from chatalot.protocol.time import rfc3339
from chatalot.ratelimit import LocalRateLimiter
from chatalot.services.audience import ChannelSubscribers
from chatalot.services.instance_settings import InstanceValues
from tests.conftest import RecordingSink
from tests.support.auth import TestUser, make_user
from tests.support.responses import error
from tests.support.spaces import add_channel_member, make_channel, room, sql

KEYS = {"id", "channel_id", "name", "avatar_url", "active", "created_at"}
TOKEN = re.compile(r"[A-Za-z0-9]{64}")


async def create(
    client: httpx.AsyncClient, user: TestUser, channel: Any, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/api/channels/{channel}/webhooks", json={"name": "CI", **body}, headers=user.headers
    )


async def make_webhook(
    client: httpx.AsyncClient, owner: TestUser, channel: Any, **body: Any
) -> dict[str, Any]:
    response = await create(client, owner, channel, **body)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def execute(client: httpx.AsyncClient, token: str, **body: Any) -> httpx.Response:
    return await client.post(f"/api/webhooks/execute/{token}", json={"content": "hi", **body})


async def message_count(ctx: Ctx, channel: Any) -> int:
    rows = await sql(ctx, "SELECT count(*) AS n FROM messages WHERE channel_id = $1", channel)
    return int(rows[0]["n"])


# -- managing -------------------------------------------------------------------------------


async def test_create_shows_the_token_once(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """The owner creates a webhook: the answer has every key and the token (64 ASCII letters
    and digits), the name is stored trimmed; the list never shows the token."""
    owner, _, channel = await room(ctx)
    body = await make_webhook(client, owner, channel, name="  Build bot  ")
    assert set(body) == KEYS | {"token"}
    assert TOKEN.fullmatch(body["token"])
    assert body["name"] == "Build bot" and body["channel_id"] == str(channel)
    assert body["avatar_url"] is None and body["active"] is True
    assert body["created_at"] == rfc3339(ctx.clock.now())
    [row] = await sql(ctx, "SELECT name, token, created_by FROM webhooks")
    assert (row["name"], row["token"], row["created_by"]) == ("Build bot", body["token"], owner.id)

    other = await make_webhook(client, owner, channel, name="Second", avatar_url="")
    assert other["token"] != body["token"] and other["avatar_url"] == ""
    listed = (await client.get(f"/api/channels/{channel}/webhooks", headers=owner.headers)).json()
    assert [w["id"] for w in listed] == [body["id"], other["id"]]  # oldest first
    assert all(set(w) == KEYS for w in listed)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": ""}, "webhook name must be 1-64 characters"),
        ({"name": "   "}, "webhook name must be 1-64 characters"),
        ({"name": "x" * 65}, "webhook name must be 1-64 characters"),
        ({"name": "é" * 33}, "webhook name must be 1-64 characters"),
        ({"name": "bad\u202ename"}, "webhook name must not contain control"),
        ({"name": "ok", "avatar_url": "ftp://example.com/a.png"}, "avatar URL must be an HTTP"),
        ({"name": "ok", "avatar_url": "https://x/" + "a" * 2048}, "avatar URL must be at most"),
        ({"name": "ok", "avatar_url": "https://ex ample.com/a.png"}, "avatar URL must not"),
        ({"name": "ok", "avatar_url": "/api/files/1"}, "avatar URL must be the address"),
        ({"name": 5}, ""),
        ({"name": "ok", "avatar_url": 5}, ""),
        ({}, ""),
    ],
)
async def test_create_refuses_bad_input(
    ctx: Ctx, client: httpx.AsyncClient, body: dict[str, Any], message: str
) -> None:
    owner, _, channel = await room(ctx)
    response = await client.post(
        f"/api/channels/{channel}/webhooks", json=body, headers=owner.headers
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert response.json()["error"]["message"].startswith(message)
    assert await sql(ctx, "SELECT 1 FROM webhooks") == []


async def test_external_avatars_follow_the_instance_setting(
    ctx: Ctx, client: httpx.AsyncClient
) -> None:
    owner, _, channel = await room(ctx)
    body = await make_webhook(client, owner, channel, avatar_url="https://example.com/a.png")
    assert body["avatar_url"] == "https://example.com/a.png"
    ctx.instance.values = InstanceValues(allow_external_image_urls=False)
    response = await create(client, owner, channel, avatar_url="https://example.com/a.png")
    assert error(response)[0] == 400
    assert "does not allow images from other sites" in error(response)[1]


async def test_only_the_channel_owner_manages_webhooks(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """A member, a moderator, an outsider and an instance admin who is no member: 403 (the
    raw stored role counts); a channel that does not exist: 403; a bad id: 400."""
    owner, member, channel = await room(ctx)
    moderator, outsider = await make_user(ctx), await make_user(ctx)
    admin = await make_user(ctx, is_admin=True, is_owner=True)
    await add_channel_member(ctx, channel, moderator.id, "admin")
    hook = await make_webhook(client, owner, channel)
    for user in (member, moderator, outsider, admin):
        assert (await create(client, user, channel)).status_code == 403
        url = f"/api/channels/{channel}/webhooks"
        assert (await client.get(url, headers=user.headers)).status_code == 403
        patch = await client.patch(
            f"/api/webhooks/{hook['id']}", json={"active": False}, headers=user.headers
        )
        assert patch.status_code == 403
        gone = await client.delete(f"/api/webhooks/{hook['id']}", headers=user.headers)
        assert gone.status_code == 403
    assert (await create(client, owner, uuid.uuid4())).status_code == 403
    assert error(await create(client, owner, "nope")) == (400, "invalid channel id")
    assert len(await sql(ctx, "SELECT 1 FROM webhooks WHERE active")) == 1
    assert (await create(client, owner, channel, name=5)).status_code == 400
    # a non-owner with a bad body is still refused as a non-owner
    assert (await create(client, member, channel, name="")).status_code == 403


async def test_patch_changes_only_what_is_given(ctx: Ctx, client: httpx.AsyncClient) -> None:
    owner, _, channel = await room(ctx)
    hook = await make_webhook(client, owner, channel, avatar_url="https://example.com/a.png")
    url = f"/api/webhooks/{hook['id']}"

    response = await client.patch(url, json={"name": "  Renamed "}, headers=owner.headers)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == KEYS
    assert body["name"] == "Renamed" and body["avatar_url"] == "https://example.com/a.png"
    assert body["active"] is True and body["created_at"] == hook["created_at"]

    body = (await client.patch(url, json={"active": False}, headers=owner.headers)).json()
    assert body["active"] is False and body["name"] == "Renamed"
    body = (await client.patch(url, json={"avatar_url": None}, headers=owner.headers)).json()
    assert body["avatar_url"] == "https://example.com/a.png"  # null: unchanged
    body = (await client.patch(url, json={"avatar_url": ""}, headers=owner.headers)).json()
    assert body["avatar_url"] == ""
    body = (await client.patch(url, json={}, headers=owner.headers)).json()
    assert (body["name"], body["active"], body["avatar_url"]) == ("Renamed", False, "")
    [row] = await sql(ctx, "SELECT token FROM webhooks")
    assert row["token"] == hook["token"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": ""}, "webhook name must be 1-64 characters"),
        ({"name": " \t "}, "webhook name must be 1-64 characters"),
        ({"name": "y" * 65}, "webhook name must be 1-64 characters"),
        ({"name": "Good", "avatar_url": "javascript:alert(1)"}, "avatar URL must be an HTTP"),
        ({"name": "Good", "active": "yes"}, ""),
        ({"active": "maybe"}, ""),
        ({"name": ["x"]}, ""),
    ],
)
async def test_patch_refuses_bad_input_and_writes_nothing(
    ctx: Ctx, client: httpx.AsyncClient, body: dict[str, Any], message: str
) -> None:
    owner, _, channel = await room(ctx)
    hook = await make_webhook(client, owner, channel)
    response = await client.patch(f"/api/webhooks/{hook['id']}", json=body, headers=owner.headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["message"].startswith(message)
    [row] = await sql(ctx, "SELECT name, active, avatar_url FROM webhooks")
    assert (row["name"], row["active"], row["avatar_url"]) == ("CI", True, None)


async def test_unknown_webhooks_are_404(ctx: Ctx, client: httpx.AsyncClient) -> None:
    owner, _, _ = await room(ctx)
    url = f"/api/webhooks/{uuid.uuid4()}"
    response = await client.patch(url, json={"name": "x"}, headers=owner.headers)
    assert error(response) == (404, "webhook not found")
    assert error(await client.delete(url, headers=owner.headers)) == (404, "webhook not found")
    bad = await client.delete("/api/webhooks/nope", headers=owner.headers)
    assert error(bad) == (400, "invalid webhook id")


async def test_delete_stops_the_token(ctx: Ctx, client: httpx.AsyncClient) -> None:
    owner, _, channel = await room(ctx)
    hook = await make_webhook(client, owner, channel)
    response = await client.delete(f"/api/webhooks/{hook['id']}", headers=owner.headers)
    assert response.status_code == 200 and response.content == b""
    assert await sql(ctx, "SELECT 1 FROM webhooks") == []
    assert error(await execute(client, hook["token"])) == (404, "webhook not found or inactive")
    again = await client.delete(f"/api/webhooks/{hook['id']}", headers=owner.headers)
    assert again.status_code == 404


# -- executing ------------------------------------------------------------------------------


async def test_execute_stores_a_webhook_message(
    ctx: Ctx, client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    """No sender, type webhook, the content as UTF-8 ciphertext, a zero-byte nonce, the
    original's plaintext JSON; ``new_message`` to every subscriber of the channel with the
    creator as sender_id; 200 with an empty body and no authentication."""
    owner, _, channel = await room(ctx)
    hook = await make_webhook(client, owner, channel, avatar_url="https://example.com/bot.png")
    sink.published.clear()
    response = await execute(client, hook["token"], content="Build #42 passed ✅")
    assert response.status_code == 200 and response.content == b""
    [row] = await sql(
        ctx,
        "SELECT id, sender_id, ciphertext, nonce, message_type, plaintext, created_at,"
        " expires_at FROM messages WHERE channel_id = $1",
        channel,
    )
    assert row["sender_id"] is None and row["message_type"] == "webhook"
    assert row["ciphertext"] == "Build #42 passed ✅".encode() and row["nonce"] == b"\x00"
    assert json.loads(row["plaintext"]) == {
        "content": "Build #42 passed ✅",
        "webhook_name": "CI",
        "webhook_avatar": "https://example.com/bot.png",
    }
    assert row["expires_at"] is None
    [emitted] = sink.published
    assert emitted.audience == ChannelSubscribers(channel)  # the creator's sessions too
    assert emitted.event == events.NewMessage(
        id=str(row["id"]),
        channel_id=str(channel),
        sender_id=str(owner.id),
        ciphertext=list("Build #42 passed ✅".encode()),
        nonce=[0],
        message_type="webhook",
        reply_to=None,
        sender_key_id=None,
        created_at=rfc3339(row["created_at"]),
    )


async def test_execute_name_and_avatar_overrides(ctx: Ctx, client: httpx.AsyncClient) -> None:
    owner, _, channel = await room(ctx)
    hook = await make_webhook(client, owner, channel)
    clock = ctx.clock
    assert isinstance(clock, FakeClock)
    bodies: list[dict[str, Any]] = [
        {"username": "Deployer", "avatar_url": "https://example.com/d.png"},
        {"username": "", "avatar_url": ""},
        {"username": None, "avatar_url": None},
        {"username": "  Padded  "},
    ]
    for body in bodies:
        assert (await execute(client, hook["token"], **body)).status_code == 200
        clock.advance(1)
    rows = await sql(ctx, "SELECT plaintext FROM messages ORDER BY created_at")
    shown = [
        (p["webhook_name"], p["webhook_avatar"])
        for p in map(json.loads, (r["plaintext"] for r in rows))
    ]
    assert shown == [
        ("Deployer", "https://example.com/d.png"),
        ("CI", None),
        ("CI", None),
        ("Padded", None),
    ]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"content": ""}, 400, "content must be 1-4000 characters"),
        ({"content": "  \n "}, 400, "content must be 1-4000 characters"),
        ({"content": "x" * 4001}, 400, "content must be 1-4000 characters"),
        ({"content": "€" * 1334}, 400, "content must be 1-4000 characters"),
        ({"content": "bell\x07"}, 400, "content must not contain control"),
        ({"username": "u" * 65}, 400, "username must be at most 64 characters"),
        ({"username": "a\u200bb"}, 400, "username must not contain control"),
        ({"avatar_url": "data:image/png;base64,AAAA"}, 400, "avatar URL must be an HTTP"),
        ({"avatar_url": "/api/../etc/passwd"}, 400, "avatar URL must be the address"),
        ({"content": 5}, 400, ""),
        ({"content": None}, 400, ""),
        ({"username": 5}, 400, ""),
        ({"avatar_url": ["x"]}, 400, ""),
    ],
)
async def test_execute_refuses_bad_input(
    ctx: Ctx, client: httpx.AsyncClient, body: dict[str, Any], status: int, message: str
) -> None:
    owner, _, channel = await room(ctx)
    hook = await make_webhook(client, owner, channel)
    response = await execute(client, hook["token"], **body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["message"].startswith(message)
    assert await message_count(ctx, channel) == 0


async def test_execute_accepts_the_limits(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """4000 bytes of content (newlines and tabs allowed) and a 64-byte username pass."""
    owner, _, channel = await room(ctx)
    hook = await make_webhook(client, owner, channel)
    content = "line\n\tx" + "y" * 3993
    assert len(content.encode()) == 4000
    response = await execute(client, hook["token"], content=content, username="n" * 64)
    assert response.status_code == 200, response.text
    assert await message_count(ctx, channel) == 1


async def test_unknown_inactive_and_malformed_tokens(ctx: Ctx, client: httpx.AsyncClient) -> None:
    owner, _, channel = await room(ctx)
    hook = await make_webhook(client, owner, channel)
    missing = (404, "webhook not found or inactive")
    assert error(await execute(client, "A" * 64)) == missing
    assert error(await execute(client, hook["token"][:-1])) == missing
    assert error(await execute(client, "not-a-token!")) == missing
    assert error(await execute(client, "x" * 300)) == missing
    # a bad body with an unknown token: the token is checked first
    assert error(await execute(client, "B" * 64, content="")) == missing
    patch = await client.patch(
        f"/api/webhooks/{hook['id']}", json={"active": False}, headers=owner.headers
    )
    assert patch.status_code == 200
    assert error(await execute(client, hook["token"])) == missing
    assert await message_count(ctx, channel) == 0


async def test_archived_and_gallery_channels(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Unlike the original: no posts into an archived channel (403), no text roots in a
    gallery (400); read-only channels take webhook posts (the owner set the webhook up)."""
    owner, _, channel = await room(ctx)
    hook = await make_webhook(client, owner, channel)
    await sql(ctx, "UPDATE channels SET read_only = true WHERE id = $1", channel)
    assert (await execute(client, hook["token"])).status_code == 200
    clock = ctx.clock
    assert isinstance(clock, FakeClock)
    clock.advance(1)
    await sql(ctx, "UPDATE channels SET archived = true WHERE id = $1", channel)
    assert error(await execute(client, hook["token"])) == (403, "channel is archived")
    gallery = await make_channel(ctx, None, owner.id, channel_type="gallery")
    other = await make_webhook(client, owner, gallery)
    response = await execute(client, other["token"])
    assert error(response) == (400, "gallery channels only accept file posts at the root level")
    assert await message_count(ctx, channel) == 1
    assert await message_count(ctx, gallery) == 0


async def test_channel_message_lifetime_applies(ctx: Ctx, client: httpx.AsyncClient) -> None:
    owner, _, channel = await room(ctx)
    hook = await make_webhook(client, owner, channel)
    await sql(ctx, "UPDATE channels SET message_ttl_seconds = 3600 WHERE id = $1", channel)
    assert (await execute(client, hook["token"])).status_code == 200
    [row] = await sql(ctx, "SELECT created_at, expires_at FROM messages")
    assert (row["expires_at"] - row["created_at"]).total_seconds() == 3600


async def test_webhook_messages_in_history_unread_and_search(
    ctx: Ctx, client: httpx.AsyncClient
) -> None:
    """The history shows a webhook message with no sender and its text; it is unread for
    every member (its creator too); message search finds it."""
    owner, member, channel = await room(ctx)
    hook = await make_webhook(client, owner, channel)
    assert (await execute(client, hook["token"], content="Deploy finished")).status_code == 200

    history = await client.get(f"/api/channels/{channel}/messages", headers=member.headers)
    [item] = history.json()
    assert item["sender_id"] is None and item["message_type"] == "webhook"
    assert bytes(item["ciphertext"]) == b"Deploy finished" and item["nonce"] == [0]

    for user in (owner, member):
        unread = (await client.get("/api/channels/unread", headers=user.headers)).json()
        assert unread == [{"channel_id": str(channel), "unread_count": 1}]

    for url in (f"/api/channels/{channel}/messages/search", "/api/messages/search"):
        found = await client.get(url, params={"q": "deploy"}, headers=member.headers)
        assert found.status_code == 200, found.text
        assert [m["id"] for m in found.json()] == [item["id"]]


async def test_creator_deleted_webhook_still_posts(
    ctx: Ctx, client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    """After its creator's account is gone the webhook keeps working; the event's sender_id
    (never null) is then the webhook's id, and the admin overview shows created_by null."""
    owner, _, channel = await room(ctx)
    hook = await make_webhook(client, owner, channel)
    await sql(ctx, "DELETE FROM users WHERE id = $1", owner.id)
    sink.published.clear()
    assert (await execute(client, hook["token"])).status_code == 200
    [emitted] = sink.published
    assert isinstance(emitted.event, events.NewMessage)
    assert emitted.event.sender_id == hook["id"]
    admin = await make_user(ctx, is_admin=True)
    overview = (await client.get("/api/admin/webhooks", headers=admin.headers)).json()
    assert overview["webhooks"][0]["created_by"] is None


async def test_flood_is_one_message_a_second_per_token(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Many executes at once: the first passes, the rest get the original's 400; a second
    later one passes again; another webhook is not affected."""
    clock = ctx.clock
    assert isinstance(clock, FakeClock)
    owner, _, channel = await room(ctx)
    hook = await make_webhook(client, owner, channel)
    other = await make_webhook(client, owner, channel, name="Other")
    ctx.limiter = LocalRateLimiter(monotonic=clock.monotonic)
    answers = [await execute(client, hook["token"]) for _ in range(10)]
    assert answers[0].status_code == 200
    for response in answers[1:]:
        assert error(response) == (400, "webhook rate limited (max 1 msg/sec)")
        assert response.json()["error"]["code"] == "validation_error"
    assert (await execute(client, other["token"])).status_code == 200
    clock.advance(0.5)
    assert (await execute(client, hook["token"])).status_code == 400
    clock.advance(0.5)
    assert (await execute(client, hook["token"])).status_code == 200
    assert await message_count(ctx, channel) == 3
    # unknown tokens are limited too (the original's order: the limit comes first)
    assert (await execute(client, "Z" * 64)).status_code == 404
    assert error(await execute(client, "Z" * 64))[0] == 400


async def test_guessing_tokens_is_throttled_per_address(
    ctx: Ctx, client: httpx.AsyncClient
) -> None:
    """Unknown tokens from one address soon get 429 for any token, that address only; the
    budget refills with time."""
    clock = ctx.clock
    assert isinstance(clock, FakeClock)
    owner, _, channel = await room(ctx)
    hook = await make_webhook(client, owner, channel)
    ctx.limiter = LocalRateLimiter(monotonic=clock.monotonic)
    guesser = {"X-Forwarded-For": "203.0.113.7"}
    statuses = []
    for i in range(15):
        response = await client.post(
            f"/api/webhooks/execute/{i:064d}", json={"content": "x"}, headers=guesser
        )
        statuses.append(response.status_code)
    assert statuses[:10] == [404] * 10 and set(statuses[10:]) == {429}
    blocked = await client.post(
        f"/api/webhooks/execute/{hook['token']}", json={"content": "x"}, headers=guesser
    )
    assert blocked.status_code == 429 and blocked.json()["error"]["code"] == "rate_limited"
    assert int(blocked.headers["retry-after"]) >= 1
    assert (await execute(client, hook["token"])).status_code == 200  # another address
    clock.advance(31)  # the budget refills (5 a second)
    again = await client.post(
        f"/api/webhooks/execute/{hook['token']}", json={"content": "y"}, headers=guesser
    )
    assert again.status_code == 200


async def test_the_token_is_not_logged(
    ctx: Ctx, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    owner, _, channel = await room(ctx)
    hook = await make_webhook(client, owner, channel)
    with caplog.at_level(logging.INFO, logger="chatalot_server"):
        assert (await execute(client, hook["token"])).status_code == 200
        assert (await execute(client, "Q" * 64)).status_code == 404
    # the server's own lines (the test client's httpx logs the URL it requested)
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("chatalot"))
    assert "/api/webhooks/execute/[token] 200" in ours
    assert hook["token"] not in ours and "Q" * 64 not in ours


# -- admin overview -------------------------------------------------------------------------


async def test_admin_overview(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Every webhook, newest first, paged, with the total; never a token; 403 for users."""
    clock = ctx.clock
    assert isinstance(clock, FakeClock)
    owner, member, channel = await room(ctx)
    made = []
    for i in range(3):
        made.append(await make_webhook(client, owner, channel, name=f"W{i}"))
        clock.advance(1)
    admin = await make_user(ctx, is_admin=True)
    response = await client.get("/api/admin/webhooks", headers=admin.headers)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"webhooks", "total"} and body["total"] == 3
    assert [w["id"] for w in body["webhooks"]] == [w["id"] for w in reversed(made)]
    first = body["webhooks"][0]
    assert first == {
        "id": made[2]["id"],
        "channel_id": str(channel),
        "name": "W2",
        "active": True,
        "created_by": str(owner.id),
        "created_at": made[2]["created_at"],
    }
    assert not any(w["token"] in response.text for w in made)
    paged = await client.get(
        "/api/admin/webhooks", params={"page": 2, "per_page": 2}, headers=admin.headers
    )
    assert [w["id"] for w in paged.json()["webhooks"]] == [made[0]["id"]]
    assert paged.json()["total"] == 3
    for params in ({"page": 0}, {"page": "x"}, {"per_page": 0}, {"per_page": 101}, {"page": -1}):
        bad = await client.get("/api/admin/webhooks", params=params, headers=admin.headers)
        assert bad.status_code == 400, params
    assert (await client.get("/api/admin/webhooks", headers=member.headers)).status_code == 403


async def test_original_webhook_rows_are_indexed_by_their_content(
    ctx: Ctx, client: httpx.AsyncClient
) -> None:
    """A webhook message written by the original server (one zero byte as ciphertext, the
    content only in the plaintext JSON, never classified) is indexed by the indexing job from
    its plaintext, and found."""
    from chatalot.services.search_index import index_messages

    _, member, channel = await room(ctx)
    plaintext = json.dumps(
        {"content": "Nightly backup complete", "webhook_name": "Ops", "webhook_avatar": None}
    )
    await sql(
        ctx,
        "INSERT INTO messages (id, channel_id, sender_id, ciphertext, nonce, message_type,"
        " plaintext) VALUES (gen_random_uuid(), $1, NULL, $2, $2, 'webhook', $3)",
        channel,
        b"\x00",
        plaintext,
    )
    await sql(ctx, "UPDATE messages SET search_config = NULL")
    report = await index_messages(ctx)
    assert report.indexed >= 1
    found = await client.get(
        f"/api/channels/{channel}/messages/search", params={"q": "backup"}, headers=member.headers
    )
    assert found.status_code == 200
    assert [m["message_type"] for m in found.json()] == ["webhook"]


def test_error_logs_leave_the_token_out() -> None:
    """The path as written by the unexpected-error log and the request log."""
    from chatalot.api.errors import loggable_path

    assert loggable_path("/api/webhooks/execute/" + "a" * 64) == "/api/webhooks/execute/[token]"
    assert loggable_path("/api/webhooks/0190f000-0000-7000-8000-000000000001") == (
        "/api/webhooks/0190f000-0000-7000-8000-000000000001"
    )
