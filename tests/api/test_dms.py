"""/api/dms: listing the caller's DMs and get-or-create, with the original's checks in order."""

from __future__ import annotations

import uuid

import httpx

from chatalot.context import Ctx
from tests.api.test_channels import CHANNEL_KEYS
from tests.conftest import RecordingSink
from tests.support.auth import TestUser, make_user
from tests.support.spaces import add_community_member, make_community

USER_KEYS = {
    "id",
    "username",
    "display_name",
    "avatar_url",
    "banner_url",
    "status",
    "custom_status",
    "is_admin",
    "is_owner",
    "created_at",
}


def error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["error"]["message"])


async def neighbours(ctx: Ctx, count: int = 2) -> list[TestUser]:
    """Users who share a community."""
    users = [await make_user(ctx) for _ in range(count)]
    community = await make_community(ctx, users[0].id)
    for user in users[1:]:
        await add_community_member(ctx, community, user.id)
    return users


async def open_dm(client: httpx.AsyncClient, user: TestUser, target: object) -> httpx.Response:
    return await client.post("/api/dms", json={"target_user_id": str(target)}, headers=user.headers)


async def test_create_dm(client: httpx.AsyncClient, ctx: Ctx, sink: RecordingSink) -> None:
    """A new DM: forced channel values, the smaller id as creator, both members, the other
    user as UserPublic; no event."""
    alice, bob = await neighbours(ctx)
    response = await open_dm(client, alice, bob.id)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"channel", "other_user"}
    channel = body["channel"]
    assert set(channel) == CHANNEL_KEYS
    assert channel["channel_type"] == "dm"
    assert channel["name"] is None and channel["topic"] is None and channel["group_id"] is None
    assert channel["created_by"] == str(min(alice.id, bob.id))
    assert (channel["read_only"], channel["slow_mode_seconds"]) == (False, 0)
    assert (channel["discoverable"], channel["archived"]) == (True, False)
    assert set(body["other_user"]) == USER_KEYS
    assert body["other_user"]["id"] == str(bob.id)
    async with ctx.db.connection() as conn:
        members = await conn.fetch(
            "SELECT user_id, role FROM channel_members WHERE channel_id = $1",
            uuid.UUID(channel["id"]),
        )
        pair = await conn.fetchrow("SELECT user_a, user_b FROM dm_pairs")
    assert {(r["user_id"], r["role"]) for r in members} == {
        (alice.id, "member"),
        (bob.id, "member"),
    }
    assert (pair["user_a"], pair["user_b"]) == tuple(sorted((alice.id, bob.id)))
    assert sink.published == []


async def test_existing_dm_is_returned(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Either side asking again gets the same channel; a member who left is back in it."""
    alice, bob = await neighbours(ctx)
    first = (await open_dm(client, alice, bob.id)).json()["channel"]["id"]
    await client.post(f"/api/channels/{first}/leave", headers=bob.headers)
    again = await open_dm(client, bob, alice.id)
    assert again.json()["channel"]["id"] == first
    assert again.json()["other_user"]["id"] == str(alice.id)
    channels = await client.get("/api/channels", headers=bob.headers)
    assert [c["id"] for c in channels.json()] == [first]


async def test_create_dm_errors_in_order(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """self 400, unknown 404, blocked either way 400, no shared community 403."""
    alice, bob = await neighbours(ctx)
    stranger = await make_user(ctx)
    assert error(await open_dm(client, alice, alice.id), 400) == "cannot DM yourself"
    assert error(await open_dm(client, alice, uuid.uuid4()), 404) == "user not found"
    assert error(await open_dm(client, alice, stranger.id), 403) == "forbidden"
    await client.post("/api/users/block", json={"user_id": str(alice.id)}, headers=bob.headers)
    assert error(await open_dm(client, alice, bob.id), 400) == "cannot create DM with this user"
    assert error(await open_dm(client, bob, alice.id), 400) == "cannot create DM with this user"
    assert error(await open_dm(client, alice, "nope"), 400)
    response = await client.post("/api/dms", json={}, headers=alice.headers)
    assert 400 <= response.status_code < 500


async def test_instance_owner_needs_no_shared_community(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """The instance owner may DM anyone; an instance admin may not."""
    owner = await make_user(ctx, is_admin=True, is_owner=True)
    admin = await make_user(ctx, is_admin=True)
    stranger = await make_user(ctx)
    assert (await open_dm(client, owner, stranger.id)).status_code == 200
    assert error(await open_dm(client, admin, stranger.id), 403)


async def test_list_dms_newest_first(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """GET /api/dms: each pair with the other user, newest pair first; others' DMs absent."""
    alice, bob, carol = await neighbours(ctx, 3)
    first = await open_dm(client, alice, bob.id)
    async with ctx.db.transaction("test_age_pair") as tx:
        await tx.conn.execute("UPDATE dm_pairs SET created_at = created_at - interval '1 hour'")
    second = await open_dm(client, carol, alice.id)
    await open_dm(client, bob, carol.id)
    response = await client.get("/api/dms", headers=alice.headers)
    assert response.status_code == 200
    body = response.json()
    assert [d["channel"]["id"] for d in body] == [
        second.json()["channel"]["id"],
        first.json()["channel"]["id"],
    ]
    assert [d["other_user"]["id"] for d in body] == [str(carol.id), str(bob.id)]
    assert set(body[0]["channel"]) == CHANNEL_KEYS
    assert body[0]["channel"]["channel_type"] == "dm"
