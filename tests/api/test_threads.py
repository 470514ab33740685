"""GET /api/channels/{id}/threads/{msg_id}: a thread's replies, oldest first."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from chatalot.context import Ctx
from chatalot.ids import ChannelId
from tests.api.test_pins import error, insert, room, sql
from tests.support.auth import TestUser, make_user
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
    "thread_id",
}


def url(channel: Any, root: Any, query: str = "") -> str:
    return f"/api/channels/{channel}/threads/{root}{query}"


async def thread(
    client: httpx.AsyncClient, user: TestUser, channel: Any, root: Any, query: str = ""
) -> list[str]:
    """The reply ids of one page (asserting a 200)."""
    response = await client.get(url(channel, root, query), headers=user.headers)
    assert response.status_code == 200, response.text
    return [m["id"] for m in response.json()]


async def replies(
    ctx: Ctx, channel: ChannelId, root: uuid.UUID, sender: Any, count: int, *, step: float = 1
) -> list[str]:
    """``count`` replies, ``step`` seconds apart (0: all at the same instant)."""
    base = ctx.clock.now()
    return [
        str(
            await insert(
                ctx,
                channel,
                sender,
                thread_id=root,
                created_at=base + timedelta(seconds=i * step),
            )
        )
        for i in range(count)
    ]


async def test_replies_oldest_first_with_reactions(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Only this root's replies, oldest first, with reactions and thread_id and never the
    thread counts; deleted, quarantined and expired replies are left out."""
    owner, member, channel = await room(ctx)
    root = await insert(ctx, channel, owner.id, created_at=ctx.clock.now() - timedelta(hours=1))
    other_root = await insert(ctx, channel, owner.id)
    ids = await replies(ctx, channel, root, member.id, 3)
    await replies(ctx, channel, other_root, member.id, 2)
    now = ctx.clock.now()
    for column in ("deleted_at", "quarantined_at", "expires_at"):
        await insert(ctx, channel, member.id, thread_id=root, **{column: now})
    async with ctx.db.transaction("test_reactions") as tx:
        for i, (user, emoji) in enumerate(((owner, "👍"), (member, "🎉"), (member, "👍"))):
            await tx.conn.execute(
                "INSERT INTO reactions (message_id, user_id, emoji, created_at)"
                " VALUES ($1, $2, $3, $4)",
                uuid.UUID(ids[1]),
                user.id,
                emoji,
                now + timedelta(seconds=i),
            )
    response = await client.get(url(channel, root), headers=member.headers)
    assert response.status_code == 200
    page = response.json()
    assert [m["id"] for m in page] == ids
    assert set(page[0]) == KEYS
    assert page[0]["thread_id"] == str(root) and page[0]["channel_id"] == str(channel)
    assert page[0]["ciphertext"] == [0, 255] and page[0]["nonce"] == [1]
    assert page[1]["reactions"] == [
        {"emoji": "👍", "user_ids": [str(owner.id), str(member.id)]},
        {"emoji": "🎉", "user_ids": [str(member.id)]},
    ]
    assert set(page[1]) == KEYS | {"reactions"}
    assert await thread(client, member, channel, other_root) != []
    assert await thread(client, member, channel, ids[0]) == []  # a reply has no replies


async def test_limit_and_before(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """``limit`` takes the oldest; ``before`` keeps only older replies and still returns the
    OLDEST of them (the original's paging), ascending; an unknown or foreign cursor gives
    nothing."""
    owner, _member, channel = await room(ctx)
    root = await insert(ctx, channel, owner.id, created_at=ctx.clock.now() - timedelta(hours=1))
    ids = await replies(ctx, channel, root, owner.id, 6)
    assert await thread(client, owner, channel, root, "?limit=2") == ids[:2]
    assert await thread(client, owner, channel, root, f"?before={ids[4]}") == ids[:4]
    assert await thread(client, owner, channel, root, f"?before={ids[4]}&limit=3") == ids[:3]
    assert await thread(client, owner, channel, root, f"?before={root}") == []
    assert await thread(client, owner, channel, root, f"?before={uuid.uuid4()}") == []
    other = await make_channel(ctx, None, owner.id)
    foreign = await insert(ctx, other, owner.id, created_at=ctx.clock.now() + timedelta(days=1))
    assert await thread(client, owner, channel, root, f"?before={foreign}") == []


async def test_equal_timestamps(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Replies sharing a created_at are ordered by id, and ``before`` one of them keeps exactly
    those before it."""
    owner, _member, channel = await room(ctx)
    root = await insert(ctx, channel, owner.id, created_at=ctx.clock.now() - timedelta(hours=1))
    ids = sorted(await replies(ctx, channel, root, owner.id, 5, step=0))
    assert await thread(client, owner, channel, root) == ids
    assert await thread(client, owner, channel, root, f"?before={ids[3]}") == ids[:3]


async def test_default_and_maximum_page(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """50 replies by default, at most 100."""
    owner, _member, channel = await room(ctx)
    root = await insert(ctx, channel, owner.id, created_at=ctx.clock.now() - timedelta(hours=1))
    base = ctx.clock.now()
    await sql(
        ctx,
        "INSERT INTO messages (id, channel_id, sender_id, ciphertext, nonce, thread_id,"
        " created_at) SELECT gen_random_uuid(), $1, $2, '\\x01', '\\x02', $3,"
        " $4::timestamptz + make_interval(secs => i) FROM generate_series(1, 120) AS i",
        channel,
        owner.id,
        root,
        base,
    )
    assert len(await thread(client, owner, channel, root)) == 50
    assert len(await thread(client, owner, channel, root, "?limit=100")) == 100


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?limit=0", "limit must be between 1 and 100"),
        ("?limit=101", "limit must be between 1 and 100"),
        ("?limit=-1", "limit must be between 1 and 100"),
        ("?limit=ten", "limit must be a whole number between 1 and 100"),
        ("?before=nope", "invalid before"),
    ],
)
async def test_bad_query(ctx: Ctx, client: httpx.AsyncClient, query: str, message: str) -> None:
    """Bad ``limit`` / ``before``: 400 with the history route's texts."""
    owner, _member, channel = await room(ctx)
    root = await insert(ctx, channel, owner.id)
    response = await client.get(url(channel, root, query), headers=owner.headers)
    assert error(response) == (400, message)


async def test_root_must_be_in_the_channel(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """An unknown root, or one of another channel: 404 ``thread root not found``; a deleted
    root still shows its replies."""
    owner, _member, channel = await room(ctx)
    other = await make_channel(ctx, None, owner.id)
    foreign = await insert(ctx, other, owner.id)
    for root in (uuid.uuid4(), foreign):
        response = await client.get(url(channel, root), headers=owner.headers)
        assert error(response) == (404, "thread root not found")
    root = await insert(ctx, channel, owner.id, created_at=ctx.clock.now() - timedelta(hours=1))
    ids = await replies(ctx, channel, root, owner.id, 1)
    await sql(ctx, "UPDATE messages SET deleted_at = now() WHERE id = $1", root)
    assert await thread(client, owner, channel, root) == ids


async def test_members_only(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Outsiders and instance staff who are not members: 403, as for the history, also for a
    channel that does not exist."""
    owner, _member, channel = await room(ctx)
    root = await insert(ctx, channel, owner.id)
    for user in (await make_user(ctx), await make_user(ctx, is_admin=True, is_owner=True)):
        for path in (url(channel, root), url(uuid.uuid4(), root)):
            assert error(await client.get(path, headers=user.headers)) == (403, "forbidden")
