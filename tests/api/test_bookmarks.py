"""POST /api/bookmarks, GET /api/bookmarks, DELETE /api/bookmarks/{id}."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest

from chatalot.clock import FakeClock
from chatalot.context import Ctx
from chatalot.protocol.time import rfc3339
from tests.api.test_pins import insert
from tests.conftest import RecordingSink
from tests.support.auth import TestUser, make_user
from tests.support.responses import error
from tests.support.spaces import make_channel, room, sql

KEYS = {"id", "message_id", "note", "created_at"}


async def add(
    client: httpx.AsyncClient, user: TestUser, message: Any, note: Any = None
) -> httpx.Response:
    return await client.post(
        "/api/bookmarks", json={"message_id": str(message), "note": note}, headers=user.headers
    )


async def listed(client: httpx.AsyncClient, user: TestUser, query: str = "") -> list[Any]:
    response = await client.get(f"/api/bookmarks{query}", headers=user.headers)
    assert response.status_code == 200, response.text
    return list(response.json())


async def stored(ctx: Ctx) -> int:
    return int((await sql(ctx, "SELECT count(*) FROM bookmarks"))[0][0])


async def test_add_and_list(ctx: Ctx, client: httpx.AsyncClient, sink: RecordingSink) -> None:
    """BookmarkResponse ``{id, message_id, note, created_at}``; the note is stored as sent;
    the list is the caller's own, newest first; nothing is sent over the WebSocket."""
    assert isinstance(ctx.clock, FakeClock)
    owner, member, channel = await room(ctx)
    first, second = await insert(ctx, channel, owner.id), await insert(ctx, channel, owner.id)
    sink.published.clear()
    response = await add(client, member, first)
    assert response.status_code == 200, response.text
    made = response.json()
    assert set(made) == KEYS
    uuid.UUID(made["id"])
    assert made["message_id"] == str(first)
    assert made["note"] is None
    assert made["created_at"] == rfc3339(ctx.clock.now())
    ctx.clock.advance(5)
    note = "  read later\n(twice) é  "
    noted = (await add(client, member, second, note)).json()
    assert noted["note"] == note
    assert (await add(client, owner, first)).status_code == 200
    assert await listed(client, member) == [noted, made]
    assert [b["message_id"] for b in await listed(client, owner)] == [str(first)]
    assert await listed(client, await make_user(ctx)) == []
    assert sink.published == []


async def test_duplicate_is_a_conflict(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """The same message twice: 409 ``message already bookmarked`` (the original: 500), with or
    without a note; the first bookmark is unchanged."""
    owner, member, channel = await room(ctx)
    message = await insert(ctx, channel, owner.id)
    first = (await add(client, member, message, "first")).json()
    for note in (None, "second"):
        assert error(await add(client, member, message, note)) == (
            409,
            "message already bookmarked",
        )
    assert await listed(client, member) == [first]
    assert await stored(ctx) == 1


async def test_note_limit(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """At most 500 bytes (checked before the message is looked up); empty and exactly 500
    are fine; multi-byte text is counted in bytes; control characters other than line
    breaks and tabs are refused."""
    owner, member, channel = await room(ctx)
    over = "n" * 501
    assert error(await add(client, member, uuid.uuid4(), over)) == (
        400,
        "note must be at most 500 characters",
    )
    outsider = await make_user(ctx)
    message = await insert(ctx, channel, owner.id)
    assert error(await add(client, outsider, message, over))[0] == 400
    bytes_over = await add(client, member, message, "é" * 251)
    assert bytes_over.status_code == 400
    assert "at most 500 bytes" in bytes_over.json()["error"]["message"]
    hidden = await add(client, member, message, "a\u200bb")
    assert error(hidden) == (
        400,
        "note must not contain control or invisible formatting characters",
    )
    assert await stored(ctx) == 0
    assert (await add(client, member, message, "n" * 500)).status_code == 200
    other = await insert(ctx, channel, owner.id)
    assert (await add(client, member, other, "")).json()["note"] == ""


async def test_message_and_membership(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Unknown message 404 ``message not found``; a message of a channel the caller is not a
    member of 403 (instance staff too); a soft-deleted message can be bookmarked."""
    owner, member, channel = await room(ctx)
    message = await insert(ctx, channel, owner.id)
    assert error(await add(client, member, uuid.uuid4())) == (404, "message not found")
    for user in (await make_user(ctx), await make_user(ctx, is_admin=True, is_owner=True)):
        assert error(await add(client, user, message)) == (403, "forbidden")
    deleted = await insert(ctx, channel, owner.id, deleted_at=ctx.clock.now())
    assert (await add(client, member, deleted)).status_code == 200
    assert await stored(ctx) == 1


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"note": "x"},
        {"message_id": None},
        {"message_id": 7},
        {"message_id": "not-a-uuid"},
        {"message_id": ""},
        {"message_id": "0190f000-0000-7000-8000-000000000001", "note": 5},
        {"message_id": "0190f000-0000-7000-8000-000000000001", "note": ["x"]},
        ["0190f000-0000-7000-8000-000000000001"],
    ],
)
async def test_add_refuses_wrong_shapes(ctx: Ctx, client: httpx.AsyncClient, payload: Any) -> None:
    """Missing/bad ``message_id``, a non-string note: a 4xx in the error shape, never a 500."""
    _, member, _ = await room(ctx)
    response = await client.post("/api/bookmarks", json=payload, headers=member.headers)
    assert response.status_code in (400, 422), response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert await stored(ctx) == 0


async def test_paging(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """``limit`` (default 100, 1-500) and ``offset`` (>= 0) page through newest first; out of
    range or not a number: 400 (the original answered 500 for a negative offset)."""
    assert isinstance(ctx.clock, FakeClock)
    owner, member, channel = await room(ctx)
    ids = []
    for _ in range(105):
        message = await insert(ctx, channel, owner.id)
        ids.append((await add(client, member, message)).json()["id"])
        ctx.clock.advance(1)
    newest_first = ids[::-1]
    assert [b["id"] for b in await listed(client, member)] == newest_first[:100]
    assert [b["id"] for b in await listed(client, member, "?limit=3")] == newest_first[:3]
    page = await listed(client, member, "?limit=3&offset=101")
    assert [b["id"] for b in page] == newest_first[101:104]
    assert [b["id"] for b in await listed(client, member, "?limit=500")] == newest_first
    assert await listed(client, member, "?offset=105") == []
    assert len(await listed(client, member, "?limit=1&offset=0")) == 1
    for query, message in (
        ("?limit=0", "limit must be between 1 and 500"),
        ("?limit=-1", "limit must be between 1 and 500"),
        ("?limit=501", "limit must be between 1 and 500"),
        ("?limit=abc", "limit must be a whole number between 1 and 500"),
        ("?offset=-1", "offset must be between 0 and 1000000000"),
        ("?offset=-99999999999999999999999", "offset must be between 0 and 1000000000"),
        ("?offset=1.5", "offset must be a whole number between 0 and 1000000000"),
    ):
        response = await client.get(f"/api/bookmarks{query}", headers=member.headers)
        assert error(response) == (400, message), query


async def test_delete_only_own(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """The caller's own bookmark (by bookmark id): 200 empty; someone else's, an unknown one
    or one already deleted: 404 ``bookmark not found``; a bad id 400."""
    owner, member, channel = await room(ctx)
    message = await insert(ctx, channel, owner.id)
    mine = (await add(client, member, message)).json()["id"]
    theirs = (await add(client, owner, message)).json()["id"]
    response = await client.delete(f"/api/bookmarks/{theirs}", headers=member.headers)
    assert error(response) == (404, "bookmark not found")
    by_message = await client.delete(f"/api/bookmarks/{message}", headers=member.headers)
    assert error(by_message) == (404, "bookmark not found")
    response = await client.delete(f"/api/bookmarks/{mine}", headers=member.headers)
    assert response.status_code == 200 and response.content == b""
    assert "content-type" not in response.headers
    again = await client.delete(f"/api/bookmarks/{mine}", headers=member.headers)
    assert error(again) == (404, "bookmark not found")
    assert (await client.delete("/api/bookmarks/nope", headers=member.headers)).status_code == 400
    assert await listed(client, member) == []
    assert [b["id"] for b in await listed(client, owner)] == [theirs]
    assert (await add(client, member, message)).status_code == 200  # can bookmark it again


async def test_after_leaving_the_channel(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Bookmarks of a channel one has left stay listed (only the message id) and can be
    deleted, but the message itself stays behind the channel's history access (403), and no
    new bookmark can be added there; purging the message removes its bookmarks."""
    owner, member, channel = await room(ctx)
    message, other = await insert(ctx, channel, owner.id), await insert(ctx, channel, owner.id)
    kept = (await add(client, member, message)).json()
    await sql(
        ctx,
        "DELETE FROM channel_members WHERE channel_id = $1 AND user_id = $2",
        channel,
        member.id,
    )
    assert await listed(client, member) == [kept]
    history = await client.get(f"/api/channels/{channel}/messages", headers=member.headers)
    assert history.status_code == 403
    assert error(await add(client, member, other)) == (403, "forbidden")
    await sql(ctx, "DELETE FROM messages WHERE id = $1", message)
    assert await listed(client, member) == []


async def test_concurrent_duplicates(pooled: tuple[Any, Ctx, httpx.AsyncClient]) -> None:
    """Ten bookmarks of one message by one user at once: one 200, nine 409 ``message already
    bookmarked``, never a 500; one row."""
    pool, ctx, client = pooled
    user = await make_user(ctx, "bookmarker")
    channel = await make_channel(ctx, None, user.id)
    message = await insert(ctx, channel, user.id)
    responses = await asyncio.gather(*(add(client, user, message, f"n{i}") for i in range(10)))
    assert Counter(r.status_code for r in responses) == {200: 1, 409: 9}, [
        r.text for r in responses
    ]
    assert {r.json()["error"]["message"] for r in responses if r.status_code == 409} == {
        "message already bookmarked"
    }
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM bookmarks") == 1
