"""POST and GET /api/channels/{channel_id}/sender-keys: channel members' sender-key
distributions, the sender_key_updated event, and bad input."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import msgspec
import pytest

from chatalot.clock import FakeClock
from chatalot.context import Ctx
from chatalot.ids import ChannelId
from chatalot.protocol.events import SenderKeyUpdated
from chatalot.protocol.time import rfc3339
from chatalot.services.audience import ChannelSubscribers
from tests.conftest import RecordingSink
from tests.support.auth import TestUser, make_user
from tests.support.spaces import add_channel_member, make_channel

ROW_KEYS = {"id", "channel_id", "user_id", "chain_id", "distribution", "created_at"}
DISTRIBUTION = {
    "chain_id": 4_000_000_000,
    "iteration": 0,
    "chain_key": list(range(32)),
    "sender_id": list(b"0190b2d4-user"),
    "note": "ünïcödé ✓",
}


def error(response: httpx.Response, status: int = 400) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["error"]["message"])


async def channel_with(ctx: Ctx, *members: TestUser) -> ChannelId:
    channel = await make_channel(ctx, None, members[0].id)
    for member in members[1:]:
        await add_channel_member(ctx, channel, member.id)
    return channel


async def upload(
    client: httpx.AsyncClient,
    user: TestUser,
    channel: Any,
    chain_id: Any = 1,
    distribution: Any = None,
) -> httpx.Response:
    body = {
        "chain_id": chain_id,
        "distribution": DISTRIBUTION if distribution is None else distribution,
    }
    return await client.post(
        f"/api/channels/{channel}/sender-keys", json=body, headers=user.headers
    )


async def listing(client: httpx.AsyncClient, user: TestUser, channel: Any) -> httpx.Response:
    return await client.get(f"/api/channels/{channel}/sender-keys", headers=user.headers)


async def test_upload_shape_and_event(
    client: httpx.AsyncClient, ctx: Ctx, sink: RecordingSink
) -> None:
    alice = await make_user(ctx)
    bob = await make_user(ctx)
    channel = await channel_with(ctx, alice, bob)
    response = await upload(client, bob, channel, chain_id=4_294_967_295)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == ROW_KEYS
    assert uuid.UUID(body["id"]).version == 7
    assert body["channel_id"] == str(channel)
    assert body["user_id"] == str(bob.id)
    assert body["chain_id"] == 4_294_967_295
    assert body["distribution"] == DISTRIBUTION
    assert body["created_at"] == rfc3339(ctx.clock.now())
    assert body["created_at"].endswith("+00:00")
    [emitted] = sink.published
    assert emitted.audience == ChannelSubscribers(channel)
    assert isinstance(emitted.event, SenderKeyUpdated)
    assert msgspec.json.decode(msgspec.json.encode(emitted.event)) == {
        "type": "sender_key_updated",
        "channel_id": str(channel),
        "user_id": str(bob.id),
        "chain_id": 4_294_967_295,
        "distribution": DISTRIBUTION,
    }


async def test_upload_replaces_the_row_and_listing_is_oldest_first(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    alice = await make_user(ctx)
    bob = await make_user(ctx)
    carol = await make_user(ctx)
    channel = await channel_with(ctx, alice, bob, carol)
    assert (await listing(client, alice, channel)).json() == []
    clock = ctx.clock
    assert isinstance(clock, FakeClock)
    first = (await upload(client, alice, channel, chain_id=1)).json()
    clock.advance(1)
    await upload(client, bob, channel, chain_id=2)
    clock.advance(1)
    await upload(client, carol, channel, chain_id=3)
    clock.advance(1)
    again = (await upload(client, alice, channel, chain_id=9, distribution={"v": 2})).json()
    assert again["id"] != first["id"]
    assert again["created_at"] > first["created_at"]
    rows = (await listing(client, carol, channel)).json()
    assert [(r["user_id"], r["chain_id"]) for r in rows] == [
        (str(bob.id), 2),
        (str(carol.id), 3),
        (str(alice.id), 9),
    ]
    assert rows[-1] == again
    assert all(set(r) == ROW_KEYS for r in rows)


@pytest.mark.parametrize(
    "distribution", [[1, 2, 3], "text", 42, 1.5, True, {"deep": {"er": [{"x": None}]}}]
)
async def test_distribution_is_any_json(
    client: httpx.AsyncClient, ctx: Ctx, distribution: Any
) -> None:
    alice = await make_user(ctx)
    channel = await channel_with(ctx, alice)
    response = await upload(client, alice, channel, distribution=distribution)
    assert response.status_code == 200, response.text
    assert response.json()["distribution"] == distribution
    assert (await listing(client, alice, channel)).json()[0]["distribution"] == distribution


async def test_null_distribution_is_stored_as_json_null(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    alice = await make_user(ctx)
    channel = await channel_with(ctx, alice)
    response = await client.post(
        f"/api/channels/{channel}/sender-keys",
        json={"chain_id": 5, "distribution": None},
        headers=alice.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["distribution"] is None


async def test_distribution_size_limit(client: httpx.AsyncClient, ctx: Ctx) -> None:
    alice = await make_user(ctx)
    channel = await channel_with(ctx, alice)
    fits = {"k": "x" * (65_536 - 8)}  # {"k":"..."} is exactly 64 KiB
    assert len(msgspec.json.encode(fits)) == 65_536
    assert (await upload(client, alice, channel, distribution=fits)).status_code == 200
    too_big = {"k": "x" * (65_536 - 7)}
    response = await upload(client, alice, channel, distribution=too_big)
    assert error(response) == "sender key distribution too large (max 64 KB)"
    assert (await listing(client, alice, channel)).json()[0]["distribution"] == fits


async def test_non_members_are_refused(client: httpx.AsyncClient, ctx: Ctx) -> None:
    alice = await make_user(ctx)
    outsider = await make_user(ctx)
    staff = await make_user(ctx, is_admin=True, is_owner=True)
    channel = await channel_with(ctx, alice)
    await upload(client, alice, channel)
    for user in (outsider, staff):
        assert error(await upload(client, user, channel), 403) == "forbidden"
        assert error(await listing(client, user, channel), 403) == "forbidden"
    missing = uuid.uuid4()
    assert error(await upload(client, alice, missing), 403) == "forbidden"
    assert error(await listing(client, alice, missing), 403) == "forbidden"


async def test_a_removed_member_loses_access(client: httpx.AsyncClient, ctx: Ctx) -> None:
    alice = await make_user(ctx)
    bob = await make_user(ctx)
    channel = await channel_with(ctx, alice, bob)
    async with ctx.db.transaction("test_remove") as tx:
        await tx.conn.execute(
            "DELETE FROM channel_members WHERE channel_id = $1 AND user_id = $2", channel, bob.id
        )
    assert (await upload(client, bob, channel)).status_code == 403
    assert (await listing(client, bob, channel)).status_code == 403


@pytest.mark.parametrize("bad", ["nope", "1234", "{}", "00000000-0000-0000-0000-00000000000z"])
async def test_bad_channel_id(client: httpx.AsyncClient, ctx: Ctx, bad: str) -> None:
    alice = await make_user(ctx)
    assert error(await upload(client, alice, bad)) == "invalid channel id"
    assert error(await listing(client, alice, bad)) == "invalid channel id"


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {},
        {"chain_id": 1},
        {"distribution": {}},
        {"chain_id": "x", "distribution": {}},
        {"chain_id": 1.5, "distribution": {}},
        {"chain_id": 2**63, "distribution": {}},
        {"chain_id": -(2**63) - 1, "distribution": {}},
        {"chain_id": None, "distribution": {}},
    ],
)
async def test_malformed_bodies(client: httpx.AsyncClient, ctx: Ctx, body: Any) -> None:
    alice = await make_user(ctx)
    channel = await channel_with(ctx, alice)
    response = await client.post(
        f"/api/channels/{channel}/sender-keys", json=body, headers=alice.headers
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "validation_error"


async def test_chain_id_bounds(client: httpx.AsyncClient, ctx: Ctx) -> None:
    alice = await make_user(ctx)
    channel = await channel_with(ctx, alice)
    for chain_id in (2**63 - 1, -(2**63), 0):
        response = await upload(client, alice, channel, chain_id=chain_id)
        assert response.status_code == 200, response.text
        assert response.json()["chain_id"] == chain_id
    for chain_id in (2**63, 2**70, -(2**63) - 1):
        response = await upload(client, alice, channel, chain_id=chain_id)
        assert error(response) == "chain_id must be a 64-bit integer"
    big = {"n": 2**70, "m": -(2**80)}
    assert (await upload(client, alice, channel, distribution=big)).json()["distribution"] == big


async def test_malformed_json_and_nesting(client: httpx.AsyncClient, ctx: Ctx) -> None:
    alice = await make_user(ctx)
    channel = await channel_with(ctx, alice)
    headers = {**alice.headers, "Content-Type": "application/json"}
    path = f"/api/channels/{channel}/sender-keys"
    for raw in (
        b'{"chain_id": 1, "distribution": "\\ud800"}',
        b'{"chain_id": 1, "distribution": ' + b"[" * 200 + b"]" * 200 + b"}",
        b'{"chain_id": 1, "distribution": "a\\u0000b"}',
        b'{"chain_id": 1, "distribution": 1e400}',
        b"{",
    ):
        response = await client.post(path, content=raw, headers=headers)
        assert response.status_code == 400, (raw[:60], response.text)
    assert (await listing(client, alice, channel)).json() == []
