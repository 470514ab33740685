"""Groups: create (public, private, personal), list, discover, read, PATCH, delete, transfer,
join, leave, members, and the group's channels (list, create, PATCH, delete), with their
messages, events and audit entries."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from chatalot.context import Ctx
from chatalot.ids import CommunityId, UserId
from chatalot.protocol import events
from chatalot.services.audience import SERVER_ONLY, AccessRevoked, ChannelSubscribers, Users
from tests.conftest import RecordingSink
from tests.support.auth import TestUser, make_user
from tests.support.spaces import (
    add_channel_member,
    add_community_member,
    add_group_member,
    ban_from_community,
    make_channel,
    make_community,
    make_group,
)

GROUP_KEYS = {
    "id",
    "name",
    "description",
    "owner_id",
    "community_id",
    "created_at",
    "member_count",
    "visibility",
    "discoverable",
    "assigned_member_id",
    "allow_invites",
    "icon_url",
    "banner_url",
    "accent_color",
}
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
MEMBER_KEYS = {"user_id", "username", "display_name", "avatar_url", "role", "joined_at"}


def error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["error"]["message"])


class Space:
    """A community with an owner, an admin, a moderator and two members."""

    def __init__(self, users: dict[str, TestUser], community: CommunityId) -> None:
        self.users = users
        self.community = community

    def __getattr__(self, name: str) -> TestUser:
        return self.users[name]


async def space(ctx: Ctx, **community: Any) -> Space:
    users = {name: await make_user(ctx) for name in ("owner", "admin", "mod", "alice", "bob")}
    community_id = await make_community(ctx, users["owner"].id, **community)
    for name, role in (
        ("admin", "admin"),
        ("mod", "moderator"),
        ("alice", "member"),
        ("bob", "member"),
    ):
        await add_community_member(ctx, community_id, users[name].id, role)
    return Space(users, community_id)


async def fetch(ctx: Ctx, sql: str, *args: Any) -> list[Any]:
    async with ctx.db.transaction("test_fetch") as tx:
        return list(await tx.conn.fetch(sql, *args))


async def group_members(ctx: Ctx, group: Any) -> dict[UserId, str]:
    rows = await fetch(ctx, "SELECT user_id, role FROM group_members WHERE group_id = $1", group)
    return {r["user_id"]: r["role"] for r in rows}


async def channel_members(ctx: Ctx, channel: Any) -> dict[UserId, str]:
    rows = await fetch(
        ctx, "SELECT user_id, role FROM channel_members WHERE channel_id = $1", channel
    )
    return {r["user_id"]: r["role"] for r in rows}


async def create(
    client: httpx.AsyncClient, user: TestUser, community: Any, **body: Any
) -> httpx.Response:
    return await client.post(
        "/api/groups", json={"community_id": str(community), **body}, headers=user.headers
    )


# -- create ------------------------------------------------------------------------------------


async def test_create_public_group(client: httpx.AsyncClient, ctx: Ctx) -> None:
    s = await space(ctx)
    response = await create(client, s.admin, s.community, name="  Team  ", description=" hi ")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == GROUP_KEYS
    assert body["name"] == "Team"
    assert body["description"] == "hi"
    assert body["owner_id"] == str(s.admin.id)
    assert body["community_id"] == str(s.community)
    assert body["visibility"] == "public"
    assert body["discoverable"] is True
    assert body["allow_invites"] is False
    assert body["assigned_member_id"] is None
    assert body["icon_url"] is None and body["banner_url"] is None and body["accent_color"] is None
    assert body["member_count"] == 5
    group = uuid.UUID(body["id"])
    members = await group_members(ctx, group)
    assert members[s.admin.id] == "owner"
    assert sorted(members.values()) == ["member"] * 4 + ["owner"]
    channels = await fetch(
        ctx,
        "SELECT id, name, channel_type::text, created_by FROM channels WHERE group_id = $1",
        group,
    )
    assert [(c["name"], c["channel_type"], c["created_by"]) for c in channels] == [
        ("general", "text", s.admin.id)
    ]
    general = await channel_members(ctx, channels[0]["id"])
    assert general[s.admin.id] == "owner"
    assert len(general) == 5


async def test_create_private_group_adds_community_owner(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    s = await space(ctx)
    response = await create(client, s.admin, s.community, name="Staff", visibility="private")
    body = response.json()
    assert body["visibility"] == "private"
    assert body["member_count"] == 2
    members = await group_members(ctx, uuid.UUID(body["id"]))
    assert members == {s.admin.id: "owner", s.owner.id: "member"}
    # the community owner creating a private group is alone in it
    response = await create(client, s.owner, s.community, name="Mine", visibility="private")
    assert response.json()["member_count"] == 1


async def test_create_personal_group(client: httpx.AsyncClient, ctx: Ctx) -> None:
    s = await space(ctx, who_can_create_groups="everyone")
    response = await create(
        client,
        s.mod,
        s.community,
        name="Alice's",
        visibility="public",
        assigned_member_id=str(s.alice.id),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["visibility"] == "private"  # forced
    assert body["assigned_member_id"] == str(s.alice.id)
    assert body["owner_id"] == str(s.mod.id)
    assert body["member_count"] == 1
    group = uuid.UUID(body["id"])
    assert await group_members(ctx, group) == {s.alice.id: "owner"}
    general = await fetch(ctx, "SELECT id, created_by FROM channels WHERE group_id = $1", group)
    assert general[0]["created_by"] == s.alice.id
    assert await channel_members(ctx, general[0]["id"]) == {s.alice.id: "owner"}
    # the creating moderator acts as a group admin (community moderator of a personal group)
    get = await client.get(f"/api/groups/{group}", headers=s.mod.headers)
    assert get.status_code == 200
    # plain members may not make personal groups; the target must be a community member
    response = await create(
        client, s.bob, s.community, name="X", assigned_member_id=str(s.alice.id)
    )
    assert error(response, 403) == "forbidden"
    stranger = await make_user(ctx)
    response = await create(
        client, s.mod, s.community, name="X", assigned_member_id=str(stranger.id)
    )
    assert error(response, 400) == "assigned member must be a member of this community"


async def test_create_validation_and_permissions(client: httpx.AsyncClient, ctx: Ctx) -> None:
    s = await space(ctx)
    assert error(await create(client, s.owner, s.community, name=" "), 400) == (
        "group name must be 1-64 characters"
    )
    assert error(await create(client, s.owner, s.community, name="x" * 65), 400) == (
        "group name must be 1-64 characters"
    )
    assert (await create(client, s.owner, s.community, name="é" * 32)).status_code == 200
    response = await create(client, s.owner, s.community, name="a\u202eb")
    assert error(response, 400).startswith("group name must not contain")
    response = await create(client, s.owner, s.community, name="X", description="d" * 2049)
    assert error(response, 400) == "description must be at most 2048 characters"
    response = await create(client, s.owner, s.community, name="X", visibility="hidden")
    assert error(response, 400) == "visibility must be 'public' or 'private'"
    # policy admin: moderators and members may not; outsiders and banned users neither
    assert error(await create(client, s.mod, s.community, name="X"), 403) == "forbidden"
    banned = await make_user(ctx)
    await ban_from_community(ctx, s.community, banned.id)
    assert error(await create(client, banned, s.community, name="X"), 403) == "forbidden"
    # the instance owner must be a member too; as one, they count as rank 3
    iowner = await make_user(ctx, is_admin=True, is_owner=True)
    assert error(await create(client, iowner, s.community, name="X"), 403) == "forbidden"
    await add_community_member(ctx, s.community, iowner.id)
    assert (await create(client, iowner, s.community, name="X")).status_code == 200
    response = await client.post(
        "/api/groups", json={"community_id": "bogus", "name": "X"}, headers=s.owner.headers
    )
    assert response.status_code == 400
    response = await client.post("/api/groups", json={"name": "X"}, headers=s.owner.headers)
    assert 400 <= response.status_code < 500


async def test_group_cap_per_community(client: httpx.AsyncClient, ctx: Ctx) -> None:
    s = await space(ctx)
    async with ctx.db.transaction("bulk") as tx:
        await tx.conn.execute(
            "INSERT INTO groups (id, name, owner_id, community_id)"
            " SELECT gen_random_uuid(), 'g' || n, $1, $2 FROM generate_series(1, 200) n",
            s.owner.id,
            s.community,
        )
    response = await create(client, s.owner, s.community, name="one too many")
    assert error(response, 400) == "maximum of 200 groups per community"


# -- list, discover, get -----------------------------------------------------------------------


async def test_list_and_discover(client: httpx.AsyncClient, ctx: Ctx) -> None:
    s = await space(ctx)
    other = await space(ctx)
    public = await make_group(ctx, s.community, s.owner.id, name="B public")
    hidden = await make_group(ctx, s.community, s.owner.id, name="A hidden", discoverable=False)
    private = await make_group(ctx, s.community, s.owner.id, name="C private", visibility="private")
    await make_group(ctx, other.community, other.owner.id, name="elsewhere")
    await add_group_member(ctx, hidden, s.alice.id)
    mine = await client.get("/api/groups", headers=s.alice.headers)
    assert [g["id"] for g in mine.json()] == [str(hidden)]
    assert set(mine.json()[0]) == GROUP_KEYS
    found = await client.get("/api/groups/discover", headers=s.alice.headers)
    assert [g["name"] for g in found.json()] == ["A hidden", "B public"]
    assert str(private) not in {g["id"] for g in found.json()}
    assert str(public) in {g["id"] for g in found.json()}
    iowner = await make_user(ctx, is_admin=True, is_owner=True)
    everything = await client.get("/api/groups/discover", headers=iowner.headers)
    assert {"A hidden", "B public", "C private", "elsewhere"} <= {
        g["name"] for g in everything.json()
    }
    assert (await client.get("/api/groups")).status_code == 401


async def test_get_group(client: httpx.AsyncClient, ctx: Ctx) -> None:
    s = await space(ctx)
    private = await make_group(ctx, s.community, s.owner.id, visibility="private")
    response = await client.get(f"/api/groups/{private}", headers=s.owner.headers)
    assert response.status_code == 200
    assert set(response.json()) == GROUP_KEYS
    assert response.json()["member_count"] == 1
    # no role: 403 whether the group exists or not; the instance owner sees the difference
    assert error(await client.get(f"/api/groups/{private}", headers=s.alice.headers), 403)
    missing = uuid.uuid4()
    assert error(await client.get(f"/api/groups/{missing}", headers=s.alice.headers), 403)
    iadmin = await make_user(ctx, is_admin=True)
    assert error(await client.get(f"/api/groups/{private}", headers=iadmin.headers), 403)
    iowner = await make_user(ctx, is_admin=True, is_owner=True)
    assert (await client.get(f"/api/groups/{private}", headers=iowner.headers)).status_code == 200
    response = await client.get(f"/api/groups/{missing}", headers=iowner.headers)
    assert error(response, 404) == "group not found"
    assert error(await client.get("/api/groups/nope", headers=s.alice.headers), 400)


# -- PATCH -------------------------------------------------------------------------------------


async def test_patch_group(client: httpx.AsyncClient, ctx: Ctx, sink: RecordingSink) -> None:
    s = await space(ctx)
    group = await make_group(ctx, s.community, s.alice.id)
    outsider = await make_user(ctx)
    url = f"/api/groups/{group}"
    response = await client.patch(
        url,
        json={
            "name": " New ",
            "description": "about",
            "visibility": "private",
            "discoverable": False,
            "accent_color": "#A0b",
            "icon_url": f"/api/group-assets/{group}_icon.png?v=1",
            "banner_url": "https://example.com/b.png",
        },
        headers=s.alice.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "New"
    assert body["description"] == "about"
    assert body["visibility"] == "private"
    assert body["discoverable"] is False
    assert body["accent_color"] == "#A0b"
    assert body["icon_url"] == f"/api/group-assets/{group}_icon.png?v=1"
    assert body["banner_url"] == "https://example.com/b.png"
    [emitted] = [e for e in sink.published if isinstance(e.event, events.GroupUpdated)]
    assert emitted.event == events.GroupUpdated(
        group_id=str(group),
        name="New",
        description="about",
        icon_url=body["icon_url"],
        banner_url=body["banner_url"],
        accent_color="#A0b",
        visibility="private",
    )
    assert emitted.audience == Users.of([s.owner.id, s.admin.id, s.mod.id, s.alice.id, s.bob.id])
    assert isinstance(emitted.audience, Users)
    assert outsider.id not in emitted.audience.user_ids
    # "" clears, null changes nothing
    response = await client.patch(
        url,
        json={
            "description": "",
            "accent_color": "",
            "icon_url": "",
            "banner_url": "",
            "name": None,
        },
        headers=s.alice.headers,
    )
    body = response.json()
    assert body["name"] == "New"
    assert body["description"] is None
    assert body["accent_color"] is None and body["icon_url"] is None and body["banner_url"] is None


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"name": ""}, "group name must be 1\u201364 characters"),
        ({"name": "n" * 65}, "group name must be 1\u201364 characters"),
        ({"description": "d" * 2049}, "description must be at most 2048 characters"),
        ({"visibility": "secret"}, "visibility must be 'public' or 'private'"),
        ({"accent_color": "#12345678"}, "accent_color must be a hex color (e.g. #ff0000)"),
        ({"accent_color": "#1234567"}, "accent_color must be a hex color (e.g. #ff0000)"),
        ({"accent_color": "#1234"}, "accent_color must be a hex color (e.g. #ff0000)"),
        ({"accent_color": "red"}, "accent_color must be a hex color (e.g. #ff0000)"),
        ({"accent_color": "#fff\n"}, "accent_color must be a hex color (e.g. #ff0000)"),
        ({"icon_url": "javascript:alert(1)"}, "icon URL must be an HTTP(S) URL or /api/ path"),
        ({"banner_url": "/api/admin/users"}, None),
    ],
)
async def test_patch_group_validation(
    client: httpx.AsyncClient, ctx: Ctx, patch: dict[str, Any], message: str | None
) -> None:
    s = await space(ctx)
    group = await make_group(ctx, s.community, s.alice.id)
    response = await client.patch(f"/api/groups/{group}", json=patch, headers=s.alice.headers)
    text = error(response, 400)
    if message is not None:
        assert text == message


async def test_patch_group_permissions(client: httpx.AsyncClient, ctx: Ctx) -> None:
    s = await space(ctx)
    group = await make_group(ctx, s.community, s.alice.id)
    await add_group_member(ctx, group, s.bob.id, "admin")
    await add_group_member(ctx, group, s.mod.id)
    url = f"/api/groups/{group}"
    # a group admin may edit, a group member may not
    assert (await client.patch(url, json={"name": "B"}, headers=s.bob.headers)).status_code == 200
    assert error(await client.patch(url, json={"name": "M"}, headers=s.mod.headers), 403)
    # allow_invites needs a community moderator as well
    response = await client.patch(url, json={"allow_invites": True}, headers=s.alice.headers)
    assert error(response, 403) == "forbidden"
    await add_group_member(ctx, group, s.admin.id, "admin")
    response = await client.patch(url, json={"allow_invites": True}, headers=s.admin.headers)
    assert response.json()["allow_invites"] is True


# -- delete, transfer --------------------------------------------------------------------------


async def test_delete_group(client: httpx.AsyncClient, ctx: Ctx, sink: RecordingSink) -> None:
    s = await space(ctx)
    group = await make_group(ctx, s.community, s.alice.id, name="Doomed")
    channel = await make_channel(ctx, group, s.alice.id)
    await add_group_member(ctx, group, s.bob.id, "admin")
    await add_channel_member(ctx, channel, s.bob.id)
    url = f"/api/groups/{group}"
    assert error(await client.delete(url, headers=s.bob.headers), 403) == "forbidden"
    iowner = await make_user(ctx, is_admin=True, is_owner=True)
    assert error(await client.delete(url, headers=iowner.headers), 403) == "forbidden"
    sink.published.clear()
    response = await client.delete(url, headers=s.alice.headers)
    assert response.status_code == 200
    assert response.content == b""
    assert await fetch(ctx, "SELECT 1 FROM groups WHERE id = $1", group) == []
    assert await fetch(ctx, "SELECT 1 FROM channels WHERE id = $1", channel) == []
    deleted = [e for e in sink.published if isinstance(e.event, events.GroupDeleted)]
    assert [e.event for e in deleted] == [events.GroupDeleted(group_id=str(group))]
    assert deleted[0].audience == Users.of([s.owner.id, s.admin.id, s.mod.id, s.alice.id, s.bob.id])
    revoked = {
        e.event.user_id: e.event
        for e in sink.published
        if isinstance(e.event, AccessRevoked) and e.audience == SERVER_ONLY
    }
    assert set(revoked) == {s.alice.id, s.bob.id}
    assert revoked[s.bob.id].channel_ids == frozenset({channel})
    assert revoked[s.bob.id].reason == "deleted"
    [audit] = await fetch(
        ctx, "SELECT user_id, metadata FROM audit_log WHERE action = 'group_deleted'"
    )
    assert audit["user_id"] == s.alice.id
    metadata = audit["metadata"]
    metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
    assert metadata == {"group_id": str(group), "group_name": "Doomed"}


async def test_delete_personal_group(client: httpx.AsyncClient, ctx: Ctx) -> None:
    s = await space(ctx)
    # created by the admin (owner_id), assigned to alice (group owner)
    personal = await make_group(ctx, s.community, s.admin.id, assigned_member_id=s.alice.id)
    url = f"/api/groups/{personal}"
    assert error(await client.delete(url, headers=s.alice.headers), 403) == "forbidden"
    assert (await client.delete(url, headers=s.mod.headers)).status_code == 200
    personal = await make_group(ctx, s.community, s.bob.id, assigned_member_id=s.alice.id)
    assert (
        await client.delete(f"/api/groups/{personal}", headers=s.bob.headers)
    ).status_code == 200


async def test_transfer_ownership(client: httpx.AsyncClient, ctx: Ctx) -> None:
    s = await space(ctx)
    group = await make_group(ctx, s.community, s.alice.id)
    await add_group_member(ctx, group, s.bob.id)
    url = f"/api/groups/{group}/transfer-ownership"
    response = await client.post(url, json={"new_owner_id": str(s.mod.id)}, headers=s.alice.headers)
    assert error(response, 400) == "target user must be a member of this group"
    response = await client.post(url, json={"new_owner_id": str(s.alice.id)}, headers=s.bob.headers)
    assert error(response, 403) == "forbidden"
    response = await client.post(url, json={"new_owner_id": str(s.bob.id)}, headers=s.alice.headers)
    assert response.status_code == 200
    assert response.content == b""
    assert await group_members(ctx, group) == {s.alice.id: "admin", s.bob.id: "owner"}
    got = await client.get(f"/api/groups/{group}", headers=s.bob.headers)
    assert got.json()["owner_id"] == str(s.bob.id)
    response = await client.post(url, json={"new_owner_id": "bogus"}, headers=s.bob.headers)
    assert response.status_code == 400
    personal = await make_group(ctx, s.community, s.admin.id, assigned_member_id=s.alice.id)
    response = await client.post(
        f"/api/groups/{personal}/transfer-ownership",
        json={"new_owner_id": str(s.bob.id)},
        headers=s.alice.headers,
    )
    assert error(response, 400) == "cannot transfer ownership of a personal group"


# -- join, leave -------------------------------------------------------------------------------


async def test_join_group(client: httpx.AsyncClient, ctx: Ctx) -> None:
    s = await space(ctx)
    group = await make_group(ctx, s.community, s.owner.id, visibility="private")  # discoverable
    open_channel = await make_channel(ctx, group, s.owner.id)
    secret_channel = await make_channel(ctx, group, s.owner.id, name="s", discoverable=False)
    response = await client.post(f"/api/groups/{group}/join", headers=s.alice.headers)
    assert response.status_code == 200
    assert response.content == b""
    assert (await group_members(ctx, group))[s.alice.id] == "member"
    assert s.alice.id in await channel_members(ctx, open_channel)
    assert s.alice.id in await channel_members(ctx, secret_channel)
    # idempotent, keeps the role
    assert (
        await client.post(f"/api/groups/{group}/join", headers=s.owner.headers)
    ).status_code == 200
    assert (await group_members(ctx, group))[s.owner.id] == "owner"
    closed = await make_group(
        ctx, s.community, s.owner.id, visibility="private", discoverable=False
    )
    assert error(await client.post(f"/api/groups/{closed}/join", headers=s.bob.headers), 403)
    outsider = await make_user(ctx)
    assert error(await client.post(f"/api/groups/{group}/join", headers=outsider.headers), 403)
    await ban_from_community(ctx, s.community, outsider.id)
    assert error(await client.post(f"/api/groups/{group}/join", headers=outsider.headers), 403)


async def test_leave_group(client: httpx.AsyncClient, ctx: Ctx, sink: RecordingSink) -> None:
    s = await space(ctx)
    group = await make_group(ctx, s.community, s.owner.id)
    first = await make_channel(ctx, group, s.owner.id)
    second = await make_channel(ctx, group, s.owner.id, name="second")
    await make_channel(ctx, group, s.owner.id, name="not mine")
    await add_group_member(ctx, group, s.alice.id)
    for channel in (first, second):
        await add_channel_member(ctx, channel, s.alice.id)
    async with ctx.db.transaction("keys") as tx:
        for channel in (first, second):
            for user in (s.alice.id, s.owner.id):
                await tx.conn.execute(
                    "INSERT INTO sender_key_distributions (id, channel_id, user_id, chain_id,"
                    " distribution) VALUES (gen_random_uuid(), $1, $2, 1, '{}'::jsonb)",
                    channel,
                    user,
                )
    sink.published.clear()
    response = await client.post(f"/api/groups/{group}/leave", headers=s.alice.headers)
    assert response.status_code == 200
    assert s.alice.id not in await group_members(ctx, group)
    assert await fetch(ctx, "SELECT 1 FROM channel_members WHERE user_id = $1", s.alice.id) == []
    keys = await fetch(ctx, "SELECT user_id FROM sender_key_distributions")
    assert {k["user_id"] for k in keys} == {s.owner.id}
    rotations = [e for e in sink.published if isinstance(e.event, events.SenderKeyRotationRequired)]
    rotated = {
        (e.event.channel_id, e.event.reason)
        for e in rotations
        if isinstance(e.event, events.SenderKeyRotationRequired)
    }
    assert rotated == {
        (str(first), "member_left"),
        (str(second), "member_left"),
    }
    assert {e.audience for e in rotations} == {
        ChannelSubscribers(first),
        ChannelSubscribers(second),
    }
    [revoked] = [e.event for e in sink.published if isinstance(e.event, AccessRevoked)]
    assert revoked == AccessRevoked(s.alice.id, frozenset({first, second}), "left")
    # not a member (any more): 403; the owner: 400
    assert error(await client.post(f"/api/groups/{group}/leave", headers=s.alice.headers), 403)
    response = await client.post(f"/api/groups/{group}/leave", headers=s.owner.headers)
    assert error(response, 400) == (
        "owner cannot leave; transfer ownership or delete the group instead"
    )


# -- members -----------------------------------------------------------------------------------


async def test_members_order_and_paging(client: httpx.AsyncClient, ctx: Ctx) -> None:
    s = await space(ctx)
    group = await make_group(ctx, s.community, s.mod.id)
    await add_group_member(ctx, group, s.alice.id)
    await add_group_member(ctx, group, s.bob.id, "admin")
    await add_group_member(ctx, group, s.owner.id)
    async with ctx.db.transaction("join_times") as tx:  # (one test transaction: same now())
        for minutes, user in enumerate((s.mod, s.alice, s.bob, s.owner)):
            await tx.conn.execute(
                "UPDATE group_members SET joined_at = now() + make_interval(mins => $3)"
                " WHERE group_id = $1 AND user_id = $2",
                group,
                user.id,
                minutes,
            )
    url = f"/api/groups/{group}/members"
    response = await client.get(url, headers=s.alice.headers)
    assert response.status_code == 200
    rows = response.json()
    assert all(set(r) == MEMBER_KEYS for r in rows)
    assert [(r["user_id"], r["role"]) for r in rows] == [
        (str(s.mod.id), "owner"),
        (str(s.bob.id), "admin"),
        (str(s.alice.id), "member"),
        (str(s.owner.id), "member"),
    ]
    assert rows[0]["username"] == s.mod.row.username
    assert rows[0]["joined_at"].endswith("+00:00")
    page = await client.get(f"{url}?limit=2&offset=1", headers=s.alice.headers)
    assert [r["user_id"] for r in page.json()] == [str(s.bob.id), str(s.alice.id)]
    clamped = await client.get(f"{url}?limit=0&offset=-3", headers=s.alice.headers)
    assert len(clamped.json()) == 1
    assert (await client.get(f"{url}?limit=99999", headers=s.alice.headers)).status_code == 200
    assert error(await client.get(f"{url}?offset=x", headers=s.alice.headers), 400)
    assert error(await client.get(url, headers=s.admin.headers), 403)


# -- channels ----------------------------------------------------------------------------------


async def test_list_group_channels(client: httpx.AsyncClient, ctx: Ctx) -> None:
    s = await space(ctx)
    group = await make_group(ctx, s.community, s.owner.id)
    await add_group_member(ctx, group, s.alice.id)
    first = await make_channel(ctx, group, s.owner.id, name="first")
    hidden = await make_channel(ctx, group, s.owner.id, name="hidden", discoverable=False)
    mine = await make_channel(ctx, group, s.owner.id, name="mine", discoverable=False)
    await add_channel_member(ctx, mine, s.alice.id)
    async with ctx.db.transaction("created_times") as tx:  # (one test transaction: same now())
        for minutes, channel in enumerate((first, hidden, mine)):
            await tx.conn.execute(
                "UPDATE channels SET created_at = now() + make_interval(mins => $2) WHERE id = $1",
                channel,
                minutes,
            )
    response = await client.get(f"/api/groups/{group}/channels", headers=s.alice.headers)
    assert [c["id"] for c in response.json()] == [str(first), str(mine)]
    assert set(response.json()[0]) == CHANNEL_KEYS  # voice_background omitted when null
    owner_view = await client.get(f"/api/groups/{group}/channels", headers=s.owner.headers)
    assert [c["id"] for c in owner_view.json()] == [str(first), str(hidden), str(mine)]


async def test_create_group_channel(client: httpx.AsyncClient, ctx: Ctx) -> None:
    s = await space(ctx)
    group = await make_group(ctx, s.community, s.owner.id)
    await add_group_member(ctx, group, s.alice.id)
    await add_group_member(ctx, group, s.bob.id, "admin")
    url = f"/api/groups/{group}/channels"
    response = await client.post(
        url,
        json={
            "name": " gallery ",
            "channel_type": "gallery",
            "topic": " pics ",
            "group_id": str(uuid.uuid4()),
            "discoverable": False,
        },
        headers=s.bob.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == CHANNEL_KEYS
    assert body["name"] == "gallery"
    assert body["channel_type"] == "gallery"
    assert body["topic"] == "pics"
    assert body["group_id"] == str(group)
    assert body["discoverable"] is True
    assert body["created_by"] == str(s.bob.id)
    assert body["read_only"] is False and body["slow_mode_seconds"] == 0
    members = await channel_members(ctx, uuid.UUID(body["id"]))
    assert members == {s.bob.id: "owner", s.alice.id: "member", s.owner.id: "member"}
    assert error(
        await client.post(url, json={"name": "x", "channel_type": "text"}, headers=s.alice.headers),
        403,
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "x", "channel_type": "dm"}, "invalid channel type"),
        ({"name": " ", "channel_type": "text"}, "channel name must be 1-64 characters"),
        ({"name": "n" * 65, "channel_type": "voice"}, "channel name must be 1-64 characters"),
        (
            {"name": "x", "channel_type": "text", "topic": "t" * 513},
            "topic must be at most 512 characters",
        ),
    ],
)
async def test_create_group_channel_validation(
    client: httpx.AsyncClient, ctx: Ctx, body: dict[str, Any], message: str
) -> None:
    s = await space(ctx)
    group = await make_group(ctx, s.community, s.owner.id)
    response = await client.post(
        f"/api/groups/{group}/channels", json=body, headers=s.owner.headers
    )
    assert error(response, 400) == message


async def test_channel_cap_per_group(client: httpx.AsyncClient, ctx: Ctx) -> None:
    s = await space(ctx)
    group = await make_group(ctx, s.community, s.owner.id)
    async with ctx.db.transaction("bulk") as tx:
        await tx.conn.execute(
            "INSERT INTO channels (id, name, channel_type, group_id)"
            " SELECT gen_random_uuid(), 'c' || n, 'text', $1 FROM generate_series(1, 100) n",
            group,
        )
    response = await client.post(
        f"/api/groups/{group}/channels",
        json={"name": "x", "channel_type": "text"},
        headers=s.owner.headers,
    )
    assert error(response, 400) == "maximum of 100 channels per group"


async def test_patch_group_channel(
    client: httpx.AsyncClient, ctx: Ctx, sink: RecordingSink
) -> None:
    s = await space(ctx)
    group = await make_group(ctx, s.community, s.owner.id)
    channel = await make_channel(ctx, group, s.owner.id)
    url = f"/api/groups/{group}/channels/{channel}"
    sink.published.clear()
    response = await client.patch(
        url,
        json={
            "name": "renamed",
            "topic": "t",
            "read_only": True,
            "slow_mode_seconds": 30,
            "message_ttl_seconds": 60,
            "archived": True,
            "discoverable": False,
            "voice_background": f"/api/group-assets/{channel}_voicebg.png?v=2",
        },
        headers=s.owner.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == CHANNEL_KEYS | {"voice_background"}
    assert (body["name"], body["topic"], body["read_only"], body["slow_mode_seconds"]) == (
        "renamed",
        "t",
        True,
        30,
    )
    assert body["archived"] is True and body["discoverable"] is False
    [emitted] = [e for e in sink.published if isinstance(e.event, events.ChannelUpdated)]
    assert emitted.audience == ChannelSubscribers(channel)
    assert emitted.event == events.ChannelUpdated(
        channel_id=str(channel),
        name="renamed",
        topic="t",
        read_only=True,
        slow_mode_seconds=30,
        archived=True,
        voice_background=body["voice_background"],
    )
    ttl = await fetch(ctx, "SELECT message_ttl_seconds FROM channels WHERE id = $1", channel)
    assert ttl[0]["message_ttl_seconds"] is None  # ignored, as in the original
    response = await client.patch(
        url, json={"topic": "", "voice_background": ""}, headers=s.owner.headers
    )
    assert response.json()["topic"] is None
    assert "voice_background" not in response.json()
    for patch, message in (
        ({"slow_mode_seconds": -1}, "slow_mode_seconds must be between 0 and 86400"),
        ({"name": ""}, "channel name must be 1-64 characters"),
        ({"topic": "t" * 513}, "topic must be at most 512 characters"),
    ):
        assert error(await client.patch(url, json=patch, headers=s.owner.headers), 400) == message
    missing = f"/api/groups/{group}/channels/{uuid.uuid4()}"
    assert error(await client.patch(missing, json={}, headers=s.owner.headers), 404) == (
        "channel not found"
    )
    other_group = await make_group(ctx, s.community, s.owner.id)
    other = await make_channel(ctx, other_group, s.owner.id)
    response = await client.patch(
        f"/api/groups/{group}/channels/{other}", json={"name": "x"}, headers=s.owner.headers
    )
    assert error(response, 403) == "forbidden"


async def test_delete_group_channel(
    client: httpx.AsyncClient, ctx: Ctx, sink: RecordingSink
) -> None:
    s = await space(ctx)
    group = await make_group(ctx, s.community, s.owner.id)
    channel = await make_channel(ctx, group, s.owner.id)
    await add_group_member(ctx, group, s.alice.id, "admin")
    await add_channel_member(ctx, channel, s.alice.id)
    sink.published.clear()
    url = f"/api/groups/{group}/channels/{channel}"
    response = await client.delete(url, headers=s.alice.headers)
    assert response.status_code == 200
    assert response.content == b""
    assert await fetch(ctx, "SELECT 1 FROM channels WHERE id = $1", channel) == []
    [deleted] = [e for e in sink.published if isinstance(e.event, events.ChannelDeleted)]
    assert deleted.event == events.ChannelDeleted(channel_id=str(channel))
    assert deleted.audience == Users.of([s.owner.id, s.admin.id, s.mod.id, s.alice.id, s.bob.id])
    revoked = {e.event.user_id for e in sink.published if isinstance(e.event, AccessRevoked)}
    assert revoked == {s.owner.id, s.alice.id}
    [audit] = await fetch(
        ctx, "SELECT user_id, metadata FROM audit_log WHERE action = 'channel_deleted'"
    )
    metadata = audit["metadata"]
    metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
    assert metadata == {"channel_id": str(channel), "group_id": str(group)}
    assert error(await client.delete(url, headers=s.alice.headers), 404) == "channel not found"


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("PATCH", "", {"discoverable": "yes"}),
        ("PATCH", "", {"name": 5}),
        ("PATCH", "", [1, 2]),
        ("POST", "/channels", {"name": "x"}),
        ("POST", "/channels", {"name": "x", "channel_type": "text", "discoverable": None}),
        ("POST", "/transfer-ownership", {}),
        ("POST", "/invites", {"max_uses": 1.5}),
        ("POST", "/invites", {"expires_in_hours": 10**30}),
    ],
)
async def test_wrong_shapes_are_client_errors(
    client: httpx.AsyncClient, ctx: Ctx, method: str, suffix: str, body: Any
) -> None:
    s = await space(ctx)
    group = await make_group(ctx, s.community, s.owner.id)
    response = await client.request(
        method, f"/api/groups/{group}{suffix}", json=body, headers=s.owner.headers
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["code"]


async def test_group_name_without_control_characters(client: httpx.AsyncClient, ctx: Ctx) -> None:
    s = await space(ctx)
    group = await make_group(ctx, s.community, s.owner.id)
    response = await client.patch(
        f"/api/groups/{group}", json={"name": "a\u200bb\x07"}, headers=s.owner.headers
    )
    assert error(response, 400).startswith("group name must not contain")
