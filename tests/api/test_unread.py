"""GET /api/channels/unread and GET /api/channels/{id}/read-cursors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from chatalot.context import Ctx
from chatalot.ids import ChannelId, UserId, uuid7
from tests.support.auth import make_user
from tests.support.spaces import add_channel_member, make_channel

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


async def post(
    ctx: Ctx,
    channel: ChannelId,
    sender: UserId | None,
    minutes: int,
    *,
    deleted: bool = False,
) -> str:
    """A message written with SQL ``minutes`` after T0 (``sender`` None: a webhook's)."""
    message_id = uuid7()
    async with ctx.db.transaction("test_post") as tx:
        await tx.conn.execute(
            """
            INSERT INTO messages (id, channel_id, sender_id, ciphertext, nonce, message_type,
                                  created_at, deleted_at)
            VALUES ($1, $2, $3, '\\x01', '\\x02', $4, $5, CASE WHEN $6 THEN now() END)
            """,
            message_id,
            channel,
            sender,
            "text" if sender is not None else "webhook",
            T0 + timedelta(minutes=minutes),
            deleted,
        )
    return str(message_id)


async def set_cursor(
    ctx: Ctx, user: UserId, channel: ChannelId, message_id: str | None, at: datetime
) -> None:
    async with ctx.db.transaction("test_cursor") as tx:
        await tx.conn.execute(
            "INSERT INTO read_cursors (user_id, channel_id, last_read_message_id, last_read_at)"
            " VALUES ($1, $2, $3, $4)",
            user,
            channel,
            message_id,
            at,
        )


async def test_unread_counts(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Others' and webhooks' messages after the cursor count; the caller's own, deleted ones
    and channels without unread messages do not; channels the caller is not in are absent."""
    alice, bob = await make_user(ctx), await make_user(ctx)
    read, unread, quiet = [await make_channel(ctx, None, alice.id) for _ in range(3)]
    elsewhere = await make_channel(ctx, None, bob.id)
    for channel in (read, unread, quiet):
        await add_channel_member(ctx, channel, bob.id)
    seen = await post(ctx, read, bob.id, 1)
    await post(ctx, read, bob.id, 2)  # after the cursor: 1
    await set_cursor(ctx, alice.id, read, seen, T0 + timedelta(minutes=1))
    await post(ctx, unread, bob.id, 1)
    await post(ctx, unread, None, 2)  # a webhook's message counts
    await post(ctx, unread, alice.id, 3)  # her own does not
    await post(ctx, unread, bob.id, 4, deleted=True)
    await post(ctx, quiet, alice.id, 1)
    await post(ctx, elsewhere, bob.id, 1)

    response = await client.get("/api/channels/unread", headers=alice.headers)
    assert response.status_code == 200
    assert sorted(response.json(), key=lambda r: r["unread_count"]) == [
        {"channel_id": str(read), "unread_count": 1},
        {"channel_id": str(unread), "unread_count": 2},
    ]


async def test_cursor_on_a_removed_message_falls_back_to_its_time(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """A cursor whose message is gone counts what came after the cursor's time."""
    alice, bob = await make_user(ctx), await make_user(ctx)
    channel = await make_channel(ctx, None, alice.id)
    await add_channel_member(ctx, channel, bob.id)
    await post(ctx, channel, bob.id, 1)
    await post(ctx, channel, bob.id, 5)
    await set_cursor(ctx, alice.id, channel, None, T0 + timedelta(minutes=2))
    response = await client.get("/api/channels/unread", headers=alice.headers)
    assert response.json() == [{"channel_id": str(channel), "unread_count": 1}]


async def test_read_cursors(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Members see the cursors of current members; others get 403, instance staff 404 for a
    channel that does not exist."""
    alice, bob, carol = await make_user(ctx), await make_user(ctx), await make_user(ctx)
    channel = await make_channel(ctx, None, alice.id)
    await add_channel_member(ctx, channel, bob.id)
    seen = await post(ctx, channel, bob.id, 1)
    await set_cursor(ctx, bob.id, channel, seen, T0 + timedelta(minutes=1))
    await set_cursor(ctx, carol.id, channel, seen, T0)  # carol is not a member (any more)

    response = await client.get(f"/api/channels/{channel}/read-cursors", headers=alice.headers)
    assert response.status_code == 200
    assert response.json() == [
        {
            "user_id": str(bob.id),
            "last_read_message_id": seen,
            "last_read_at": (T0 + timedelta(minutes=1)).isoformat(),
        }
    ]
    outsider = await client.get(f"/api/channels/{channel}/read-cursors", headers=carol.headers)
    assert outsider.status_code == 403
    admin = await make_user(ctx, is_admin=True)
    missing = await client.get(f"/api/channels/{uuid7()}/read-cursors", headers=admin.headers)
    assert (missing.status_code, missing.json()["error"]["message"]) == (404, "channel not found")
    bad = await client.get("/api/channels/nope/read-cursors", headers=alice.headers)
    assert bad.status_code == 400


async def test_expired_messages_are_not_unread(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A message past its lifetime, not yet deleted by the clean-up job, is not unread (the
    history no longer shows it either)."""
    alice, bob = await make_user(ctx), await make_user(ctx)
    channel = await make_channel(ctx, None, alice.id)
    await add_channel_member(ctx, channel, bob.id)
    expired, alive = await post(ctx, channel, alice.id, 1), await post(ctx, channel, alice.id, 2)
    async with ctx.db.transaction("test_expiry") as tx:
        await tx.conn.execute(
            "UPDATE messages SET expires_at = $2 WHERE id = $1::uuid",
            expired,
            ctx.clock.now() - timedelta(seconds=1),
        )
        await tx.conn.execute(
            "UPDATE messages SET expires_at = $2 WHERE id = $1::uuid",
            alive,
            ctx.clock.now() + timedelta(minutes=5),
        )
    response = await client.get("/api/channels/unread", headers=bob.headers)
    assert response.status_code == 200
    assert response.json() == [{"channel_id": str(channel), "unread_count": 1}]
