"""/api/channels and /api/channels/{id}: listing, creating, reading and editing channels."""

from __future__ import annotations

import uuid

import httpx
import pytest

from chatalot.context import Ctx
from chatalot.ids import ChannelId
from chatalot.protocol.events import ChannelUpdated
from chatalot.services.audience import ChannelSubscribers
from tests.conftest import RecordingSink
from tests.support.auth import TestUser, make_user
from tests.support.spaces import (
    add_channel_member,
    add_community_member,
    ban_from_community,
    make_channel,
    make_community,
    make_group,
)

CHANNEL_KEYS = {
    "id",
    "name",
    "channel_type",
    "topic",
    "created_by",
    "created_at",
    "group_id",
    "read_only",
    "slow_mode_seconds",
    "discoverable",
    "archived",
}


def error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["error"]["message"])


async def create(client: httpx.AsyncClient, user: TestUser, **body: object) -> httpx.Response:
    payload: dict[str, object] = {"name": "general", "channel_type": "text", **body}
    return await client.post("/api/channels", json=payload, headers=user.headers)


async def test_create_standalone_channel(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A standalone channel: the caller is its owner; keys as the original's ChannelResponse."""
    alice = await make_user(ctx)
    response = await create(client, alice, name="  lobby  ", topic="  hi ")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == CHANNEL_KEYS
    assert body["name"] == "lobby"
    assert body["topic"] == "hi"
    assert body["channel_type"] == "text"
    assert body["created_by"] == str(alice.id)
    assert body["group_id"] is None
    assert body["discoverable"] is True
    assert body["read_only"] is False and body["archived"] is False
    assert body["slow_mode_seconds"] == 0
    assert body["created_at"].endswith("+00:00")
    async with ctx.db.connection() as conn:
        role = await conn.fetchval(
            "SELECT role FROM channel_members WHERE channel_id = $1 AND user_id = $2",
            uuid.UUID(body["id"]),
            alice.id,
        )
    assert role == "owner"


async def test_create_channel_types_and_defaults(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """voice and gallery are allowed, dm is not; discoverable false is kept; empty topic
    is stored as an empty string."""
    alice = await make_user(ctx)
    for kind in ("voice", "gallery"):
        response = await create(client, alice, channel_type=kind)
        assert response.json()["channel_type"] == kind
    response = await create(client, alice, discoverable=False, topic="  ")
    assert response.json()["discoverable"] is False
    assert response.json()["topic"] == ""
    assert error(await create(client, alice, channel_type="dm"), 400) == "invalid channel type"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"channel_type": "forum"}, "invalid channel type"),
        ({"name": "   "}, "channel name must be 1-64 characters"),
        ({"name": "x" * 65}, "channel name must be 1-64 characters"),
        ({"name": "bad\u0007name"}, "channel name must not contain control or invisible"),
        ({"topic": "t" * 513}, "topic must be at most 512 characters"),
        ({"group_id": "nope"}, "invalid group id"),
    ],
)
async def test_create_channel_validation(
    client: httpx.AsyncClient, ctx: Ctx, body: dict[str, object], message: str
) -> None:
    """Bad input is a 400 with the original's message."""
    alice = await make_user(ctx)
    assert error(await create(client, alice, **body), 400).startswith(message)


async def test_create_channel_wrong_types(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Wrong JSON types and null for a defaulted boolean are refused, never a 500."""
    alice = await make_user(ctx)
    for body in ({"name": 5}, {"discoverable": None}, {"channel_type": None}):
        response = await create(client, alice, **body)
        assert 400 <= response.status_code < 500
        assert response.json()["error"]["code"]


async def test_create_channel_in_group(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """In a group: community members may (no group role needed), outsiders and banned users
    may not, an unknown group is a 404."""
    owner, member, outsider, banned = [await make_user(ctx) for _ in range(4)]
    community = await make_community(ctx, owner.id)
    await add_community_member(ctx, community, member.id)
    await ban_from_community(ctx, community, banned.id, by=owner.id)
    group = await make_group(ctx, community, owner.id)
    response = await create(client, member, group_id=str(group))
    assert response.status_code == 200
    assert response.json()["group_id"] == str(group)
    assert error(await create(client, outsider, group_id=str(group)), 403) == "forbidden"
    assert error(await create(client, banned, group_id=str(group)), 403) == "forbidden"
    assert error(await create(client, member, group_id=str(uuid.uuid4())), 404) == (
        "group not found"
    )


async def test_list_channels_includes_dms_oldest_first(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """GET /api/channels: every channel the caller is in, DMs with forced values, by age."""
    alice, bob = await make_user(ctx), await make_user(ctx)
    first = await make_channel(ctx, None, alice.id, name="one")
    await make_channel(ctx, None, bob.id, name="not mine")
    dm = await make_channel(ctx, None, None, name=None, channel_type="dm")
    await add_channel_member(ctx, dm, alice.id)
    response = await client.get("/api/channels", headers=alice.headers)
    assert response.status_code == 200
    body = response.json()
    assert [c["id"] for c in body] == [str(first), str(dm)]
    assert body[1]["channel_type"] == "dm"
    assert body[1]["name"] is None and body[1]["group_id"] is None
    assert "voice_background" not in body[1]


async def test_get_channel(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Members and instance staff read it; others 403 even for an unknown id."""
    alice, bob = await make_user(ctx), await make_user(ctx)
    admin = await make_user(ctx, is_admin=True)
    channel = await make_channel(ctx, None, alice.id)
    response = await client.get(f"/api/channels/{channel}", headers=alice.headers)
    assert response.status_code == 200
    assert response.json()["id"] == str(channel)
    assert (await client.get(f"/api/channels/{channel}", headers=admin.headers)).status_code == 200
    assert error(await client.get(f"/api/channels/{channel}", headers=bob.headers), 403)
    assert error(await client.get(f"/api/channels/{uuid.uuid4()}", headers=bob.headers), 403)
    assert error(await client.get(f"/api/channels/{uuid.uuid4()}", headers=admin.headers), 404) == (
        "channel not found"
    )
    assert error(await client.get("/api/channels/xyz", headers=bob.headers), 400) == (
        "invalid channel id"
    )


async def test_patch_channel_updates_and_notifies(
    client: httpx.AsyncClient, ctx: Ctx, sink: RecordingSink
) -> None:
    """The owner edits; channel_updated goes to the channel's subscribers."""
    alice = await make_user(ctx)
    channel = await make_channel(ctx, None, alice.id)
    background = f"/api/group-assets/{channel}_voicebg.png?v=12"
    response = await client.patch(
        f"/api/channels/{channel}",
        json={
            "name": " renamed ",
            "topic": "about",
            "read_only": True,
            "slow_mode_seconds": 30,
            "message_ttl_seconds": 3600,
            "discoverable": False,
            "archived": True,
            "voice_background": background,
        },
        headers=alice.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == CHANNEL_KEYS | {"voice_background"}
    assert body["name"] == "renamed"
    assert body["topic"] == "about"
    assert body["read_only"] is True and body["archived"] is True
    assert body["discoverable"] is False
    assert body["slow_mode_seconds"] == 30
    assert body["voice_background"] == background
    [emitted] = sink.published
    assert emitted.event == ChannelUpdated(
        channel_id=str(channel),
        name="renamed",
        topic="about",
        read_only=True,
        slow_mode_seconds=30,
        archived=True,
        voice_background=background,
    )
    assert emitted.audience == ChannelSubscribers(ChannelId(channel))
    async with ctx.db.connection() as conn:
        ttl = await conn.fetchval("SELECT message_ttl_seconds FROM channels WHERE id = $1", channel)
    assert ttl == 3600


async def test_patch_channel_clears(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """``""`` clears topic and voice background; a TTL of 0 clears the TTL; null keeps."""
    alice = await make_user(ctx)
    channel = await make_channel(ctx, None, alice.id)
    url = f"/api/channels/{channel}"
    await client.patch(
        url,
        json={
            "topic": "t",
            "voice_background": "https://example.com/a.png",
            "message_ttl_seconds": 60,
        },
        headers=alice.headers,
    )
    response = await client.patch(url, json={"topic": None}, headers=alice.headers)
    assert response.json()["topic"] == "t"
    response = await client.patch(
        url,
        json={"topic": "", "voice_background": "", "message_ttl_seconds": 0},
        headers=alice.headers,
    )
    body = response.json()
    assert body["topic"] is None
    assert "voice_background" not in body
    async with ctx.db.connection() as conn:
        ttl = await conn.fetchval("SELECT message_ttl_seconds FROM channels WHERE id = $1", channel)
    assert ttl is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": ""}, "channel name must be 1-64 characters"),
        ({"topic": "x" * 513}, "topic must be at most 512 characters"),
        ({"slow_mode_seconds": -1}, "slow_mode_seconds must be between 0 and 86400"),
        ({"slow_mode_seconds": 86401}, "slow_mode_seconds must be between 0 and 86400"),
        ({"message_ttl_seconds": -5}, "message_ttl_seconds must be between 0 and 2592000"),
        ({"message_ttl_seconds": 2592001}, "message_ttl_seconds must be between 0 and 2592000"),
        ({"voice_background": "ftp://x"}, "voice background URL must be an HTTP(S) URL"),
        ({"voice_background": "/api/../etc/passwd"}, "voice background URL must be the address"),
        ({"voice_background": "https://x/" + "a" * 2048}, "voice background URL must be at most"),
    ],
)
async def test_patch_channel_validation(
    client: httpx.AsyncClient, ctx: Ctx, sink: RecordingSink, body: dict[str, object], message: str
) -> None:
    """Bad values: 400 with the message, nothing changed, no event."""
    alice = await make_user(ctx)
    channel = await make_channel(ctx, None, alice.id)
    response = await client.patch(f"/api/channels/{channel}", json=body, headers=alice.headers)
    assert error(response, 400).startswith(message)
    assert sink.published == []


async def test_patch_channel_permissions(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Only the channel owner or instance staff; a moderator or admin member may not."""
    alice, bob = await make_user(ctx), await make_user(ctx)
    admin = await make_user(ctx, is_admin=True)
    channel = await make_channel(ctx, None, alice.id)
    await add_channel_member(ctx, channel, bob.id, "admin")
    url = f"/api/channels/{channel}"
    assert error(await client.patch(url, json={"name": "x"}, headers=bob.headers), 403)
    assert (await client.patch(url, json={"name": "x"}, headers=admin.headers)).status_code == 200
    missing = f"/api/channels/{uuid.uuid4()}"
    assert error(await client.patch(missing, json={}, headers=admin.headers), 404) == (
        "channel not found"
    )
    assert error(await client.patch(missing, json={}, headers=bob.headers), 403)
