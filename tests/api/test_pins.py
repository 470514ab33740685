"""GET /api/channels/{id}/pins, POST and DELETE /api/channels/{id}/pins/{msg_id}."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx

from chatalot.clock import FakeClock
from chatalot.context import Ctx
from chatalot.ids import ChannelId, uuid7
from chatalot.protocol import events
from chatalot.protocol.time import rfc3339
from chatalot.services.audience import ChannelSubscribers
from chatalot.services.instance_settings import InstanceValues
from tests.conftest import RecordingSink
from tests.support.auth import TestUser, make_user
from tests.support.responses import error
from tests.support.spaces import add_channel_member, make_channel, room, sql

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
    "pinned_by",
    "pinned_at",
}


async def insert(ctx: Ctx, channel: ChannelId, sender: Any, **columns: Any) -> uuid.UUID:
    """A message (extra ``columns``: deleted_at, quarantined_at, expires_at, ...)."""
    message_id = uuid7()
    values = {
        "id": message_id,
        "channel_id": channel,
        "sender_id": sender,
        "ciphertext": b"\x00\xff",
        "nonce": b"\x01",
        **columns,
    }
    names = ", ".join(values)
    params = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    async with ctx.db.transaction("test_insert_message") as tx:
        await tx.conn.execute(
            f"INSERT INTO messages ({names}) VALUES ({params})",
            *values.values(),
        )
    return message_id


def url(channel: Any, message: Any = None) -> str:
    base = f"/api/channels/{channel}/pins"
    return base if message is None else f"{base}/{message}"


async def pin(client: httpx.AsyncClient, user: TestUser, channel: Any, message: Any) -> Any:
    return await client.post(url(channel, message), headers=user.headers)


async def test_pin_then_list(ctx: Ctx, client: httpx.AsyncClient, sink: RecordingSink) -> None:
    """Pinning answers 200 with an empty body, stores the pin and sends message_pinned to the
    channel's subscribers after commit; members list it with the original's keys."""
    owner, member, channel = await room(ctx)
    message = await insert(ctx, channel, member.id)
    sink.published.clear()
    response = await pin(client, owner, channel, message)
    assert response.status_code == 200, response.text
    assert response.content == b""
    assert "content-type" not in response.headers
    now = ctx.clock.now()
    [emitted] = sink.published
    assert emitted.event == events.MessagePinned(
        message_id=str(message),
        channel_id=str(channel),
        pinned_by=str(owner.id),
        pinned_at=rfc3339(now),
    )
    assert emitted.audience == ChannelSubscribers(channel)
    listed = await client.get(url(channel), headers=member.headers)
    assert listed.status_code == 200
    [item] = listed.json()
    assert set(item) == KEYS
    assert item["id"] == str(message) and item["channel_id"] == str(channel)
    assert item["sender_id"] == str(member.id)
    assert item["ciphertext"] == [0, 255] and item["nonce"] == [1]
    assert item["message_type"] == "text"
    assert item["reply_to_id"] is None and item["sender_key_id"] is None
    assert item["edited_at"] is None
    assert item["pinned_by"] == str(owner.id)
    assert item["pinned_at"] == rfc3339(now)


async def test_list_order_and_hidden_messages(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Most recently pinned first; pins of deleted, quarantined or expired messages are not
    listed."""
    assert isinstance(ctx.clock, FakeClock)
    owner, member, channel = await room(ctx)
    first, second, third = [await insert(ctx, channel, member.id) for _ in range(3)]
    for message in (second, first, third):
        assert (await pin(client, owner, channel, message)).status_code == 200
        ctx.clock.advance(1)
    now = ctx.clock.now()
    hidden = [
        await insert(ctx, channel, member.id, quarantined_at=now),
        await insert(ctx, channel, member.id, expires_at=now + timedelta(seconds=5)),
        await insert(ctx, channel, member.id),
    ]
    for message in hidden:
        assert (await pin(client, owner, channel, message)).status_code == 200
    await sql(ctx, "UPDATE messages SET deleted_at = now() WHERE id = $1", hidden[2])
    ctx.clock.advance(10)  # the expiring one expires
    listed = (await client.get(url(channel), headers=member.headers)).json()
    assert [p["id"] for p in listed] == [str(third), str(first), str(second)]


async def test_pin_errors_in_order(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Unknown message 404, another channel's 400, a deleted one 400, the limit 400 (before
    the already-pinned check), already pinned 409; the limit is the instance setting."""
    owner, member, channel = await room(ctx)
    other = await make_channel(ctx, None, owner.id)
    elsewhere = await insert(ctx, other, owner.id)
    deleted = await insert(ctx, channel, member.id, deleted_at=ctx.clock.now())
    a, b, c = [await insert(ctx, channel, member.id) for _ in range(3)]
    assert error(await pin(client, owner, channel, uuid.uuid4())) == (404, "message not found")
    assert error(await pin(client, owner, channel, elsewhere)) == (
        400,
        "message does not belong to this channel",
    )
    assert error(await pin(client, owner, channel, deleted)) == (
        400,
        "cannot pin a deleted message",
    )
    ctx.instance.values = InstanceValues(max_pins_per_channel=2)
    assert (await pin(client, owner, channel, a)).status_code == 200
    assert error(await pin(client, owner, channel, a)) == (409, "message is already pinned")
    assert (await pin(client, owner, channel, b)).status_code == 200
    assert error(await pin(client, owner, channel, c)) == (400, "maximum of 2 pins per channel")
    assert error(await pin(client, owner, channel, a)) == (400, "maximum of 2 pins per channel")
    ctx.instance.values = InstanceValues(max_pins_per_channel=3)
    assert (await pin(client, owner, channel, c)).status_code == 200
    rows = await sql(ctx, "SELECT count(*) FROM pinned_messages WHERE channel_id = $1", channel)
    assert rows[0][0] == 3


async def test_hidden_pins_do_not_count(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """A pin whose message was deleted since does not use up the channel's limit."""
    owner, member, channel = await room(ctx)
    a, b = await insert(ctx, channel, member.id), await insert(ctx, channel, member.id)
    ctx.instance.values = InstanceValues(max_pins_per_channel=1)
    assert (await pin(client, owner, channel, a)).status_code == 200
    assert (await pin(client, owner, channel, b)).status_code == 400
    await sql(ctx, "UPDATE messages SET deleted_at = now() WHERE id = $1", a)
    assert (await pin(client, owner, channel, b)).status_code == 200


async def test_who_may_pin(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Channel moderators, admins and owners, and instance staff who are not members; plain
    members and outsiders get 403, before anything about the message is revealed."""
    owner, member, channel = await room(ctx)
    moderator, admin = await make_user(ctx), await make_user(ctx)
    await add_channel_member(ctx, channel, moderator.id, "moderator")
    await add_channel_member(ctx, channel, admin.id, "admin")
    staff = await make_user(ctx, is_admin=True)
    outsider = await make_user(ctx)
    for user in (member, outsider):
        assert error(await pin(client, user, channel, uuid.uuid4())) == (403, "forbidden")
    for user in (moderator, admin, owner, staff):
        message = await insert(ctx, channel, member.id)
        assert (await pin(client, user, channel, message)).status_code == 200
        unpinned = await client.delete(url(channel, message), headers=user.headers)
        assert unpinned.status_code == 200
    message = await insert(ctx, channel, member.id)
    assert (await pin(client, owner, channel, message)).status_code == 200
    for user in (member, outsider):
        response = await client.delete(url(channel, message), headers=user.headers)
        assert error(response) == (403, "forbidden")
    assert error(await pin(client, staff, uuid.uuid4(), message)) == (404, "channel not found")
    assert error(await pin(client, owner, uuid.uuid4(), message)) == (403, "forbidden")


async def test_a_body_is_ignored(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """The client may send anything as the body of a pin request (the original ignored it)."""
    owner, member, channel = await room(ctx)
    message = await insert(ctx, channel, member.id)
    response = await client.post(
        url(channel, message),
        content=b"not json",
        headers={**owner.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text


async def test_unpin(ctx: Ctx, client: httpx.AsyncClient, sink: RecordingSink) -> None:
    """Unpinning removes the pin and sends message_unpinned; a second time is 404."""
    owner, member, channel = await room(ctx)
    message = await insert(ctx, channel, member.id)
    assert (await pin(client, owner, channel, message)).status_code == 200
    sink.published.clear()
    response = await client.delete(url(channel, message), headers=owner.headers)
    assert response.status_code == 200 and response.content == b""
    [emitted] = sink.published
    assert emitted.event == events.MessageUnpinned(message_id=str(message), channel_id=str(channel))
    assert emitted.audience == ChannelSubscribers(channel)
    assert (await client.get(url(channel), headers=owner.headers)).json() == []
    again = await client.delete(url(channel, message), headers=owner.headers)
    assert error(again) == (404, "pin not found")
    assert len(sink.published) == 1


async def test_unpin_only_in_its_own_channel(
    ctx: Ctx, client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    """A moderator of channel B cannot remove a pin of channel A through B's path (the
    original removed it): 404, the pin stays, nobody is told."""
    owner, member, channel = await room(ctx)
    message = await insert(ctx, channel, member.id)
    assert (await pin(client, owner, channel, message)).status_code == 200
    intruder = await make_user(ctx)
    own_channel = await make_channel(ctx, None, intruder.id)
    sink.published.clear()
    response = await client.delete(url(own_channel, message), headers=intruder.headers)
    assert error(response) == (404, "pin not found")
    assert sink.published == []
    listed = (await client.get(url(channel), headers=member.headers)).json()
    assert [p["id"] for p in listed] == [str(message)]


async def test_dm_members_read_pins_but_cannot_pin(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """DM members hold the plain member role: they list the DM's pins but cannot pin or
    unpin (as in the original); instance staff can."""
    alice, bob = await make_user(ctx), await make_user(ctx)
    dm = await make_channel(ctx, None, None, name=None, channel_type="dm")
    await add_channel_member(ctx, dm, alice.id)
    await add_channel_member(ctx, dm, bob.id)
    message = await insert(ctx, dm, alice.id)
    assert error(await pin(client, alice, dm, message)) == (403, "forbidden")
    staff = await make_user(ctx, is_admin=True)
    assert (await pin(client, staff, dm, message)).status_code == 200
    listed = await client.get(url(dm), headers=bob.headers)
    assert listed.status_code == 200 and [p["id"] for p in listed.json()] == [str(message)]
    response = await client.delete(url(dm, message), headers=bob.headers)
    assert error(response) == (403, "forbidden")


async def test_pinned_by_is_null_once_the_pinner_is_deleted(
    ctx: Ctx, client: httpx.AsyncClient
) -> None:
    """Deleting the user who pinned a message keeps the pin, with ``pinned_by: null``."""
    owner, member, channel = await room(ctx)
    staff = await make_user(ctx, is_admin=True)
    message = await insert(ctx, channel, member.id)
    assert (await pin(client, staff, channel, message)).status_code == 200
    await sql(ctx, "DELETE FROM users WHERE id = $1", staff.id)
    [item] = (await client.get(url(channel), headers=owner.headers)).json()
    assert item["id"] == str(message) and item["pinned_by"] is None


async def test_list_access(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Outsiders 403 (also for a channel that does not exist); instance staff may list any
    channel's pins, and get 404 for one that does not exist."""
    _owner, _member, channel = await room(ctx)
    outsider = await make_user(ctx)
    staff = await make_user(ctx, is_admin=True)
    assert error(await client.get(url(channel), headers=outsider.headers)) == (403, "forbidden")
    unknown = await client.get(url(uuid.uuid4()), headers=outsider.headers)
    assert error(unknown) == (403, "forbidden")
    assert (await client.get(url(channel), headers=staff.headers)).json() == []
    unknown = await client.get(url(uuid.uuid4()), headers=staff.headers)
    assert error(unknown) == (404, "channel not found")
