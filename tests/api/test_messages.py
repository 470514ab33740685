"""GET /api/channels/{id}/messages (paging) and .../history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from chatalot.context import Ctx
from chatalot.ids import uuid7
from tests.support.auth import make_user
from tests.support.spaces import make_channel

KEYS = {
    "id",
    "channel_id",
    "sender_id",
    "ciphertext",
    "nonce",
    "message_type",
    "reply_to_id",
    "sender_key_id",
    "edited_at",
    "created_at",
}


async def insert(ctx: Ctx, channel: Any, sender: Any, at: datetime, **extra: Any) -> Any:
    message_id = uuid7()
    async with ctx.db.transaction("test_insert_message") as tx:
        await tx.conn.execute(
            "INSERT INTO messages (id, channel_id, sender_id, ciphertext, nonce, created_at,"
            " thread_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            message_id,
            channel,
            sender,
            b"\x00\xff",
            b"\x01",
            at,
            extra.get("thread_id"),
        )
    return message_id


async def test_paging_with_equal_timestamps(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Five messages sharing one created_at: pages of 2 give each exactly once, newest first."""
    alice = await make_user(ctx)
    channel = await make_channel(ctx, None, alice.id)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    ids = [str(await insert(ctx, channel, alice.id, at)) for _ in range(5)]
    seen: list[str] = []
    before = ""
    while True:
        r = await client.get(
            f"/api/channels/{channel}/messages?limit=2{before}", headers=alice.headers
        )
        assert r.status_code == 200
        page = r.json()
        if not page:
            break
        seen += [m["id"] for m in page]
        before = f"&before={page[-1]['id']}"
    assert seen == sorted(ids, reverse=True)
    first = (await client.get(f"/api/channels/{channel}/messages", headers=alice.headers)).json()[0]
    assert set(first) == KEYS
    assert first["ciphertext"] == [0, 255] and first["nonce"] == [1]
    assert first["created_at"] == "2026-01-01T00:00:00+00:00"


async def test_thread_fields_and_history(ctx: Ctx, client: httpx.AsyncClient) -> None:
    alice = await make_user(ctx)
    outsider = await make_user(ctx)
    channel = await make_channel(ctx, None, alice.id)
    root = await insert(ctx, channel, alice.id, datetime(2026, 1, 1, tzinfo=UTC))
    await insert(ctx, channel, alice.id, datetime(2026, 1, 2, tzinfo=UTC), thread_id=root)
    page = (await client.get(f"/api/channels/{channel}/messages", headers=alice.headers)).json()
    assert page[0]["thread_id"] == str(root)
    assert page[1]["thread_reply_count"] == 1
    assert page[1]["thread_last_reply_at"] == "2026-01-02T00:00:00+00:00"
    async with ctx.db.transaction("test_edit") as tx:
        await tx.conn.execute(
            "INSERT INTO message_edits (message_id, old_ciphertext, old_nonce) VALUES ($1, $2, $3)",
            root,
            b"ab",
            b"n",
        )
    url = f"/api/channels/{channel}/messages/{root}/history"
    r = await client.get(url, headers=alice.headers)
    assert r.status_code == 200
    [edit] = r.json()
    assert set(edit) == {"id", "old_ciphertext", "old_nonce", "edited_at"}
    assert edit["old_ciphertext"] == [97, 98]
    assert (await client.get(url, headers=outsider.headers)).status_code == 403
    other = await make_channel(ctx, None, alice.id)
    r = await client.get(f"/api/channels/{other}/messages/{root}/history", headers=alice.headers)
    assert r.status_code == 404 and r.json()["error"]["message"] == "message not found"
