"""Group invites: create / list / revoke (grp-admin+), personal-group rule, look up and accept
by code (shapes, the original's 404-vs-400 split, community membership)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import httpx

from chatalot.clock import FakeClock
from chatalot.context import Ctx
from chatalot.protocol.time import rfc3339
from tests.support.auth import make_user
from tests.support.spaces import (
    add_community_member,
    add_group_member,
    ban_from_community,
    make_channel,
    make_community,
    make_group,
    make_group_invite,
)

INVITE_KEYS = {"id", "code", "group_id", "max_uses", "used_count", "expires_at", "created_at"}


def error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["error"]["message"])


async def test_create_list_revoke(client: httpx.AsyncClient, ctx: Ctx) -> None:
    owner = await make_user(ctx)
    member = await make_user(ctx)
    community = await make_community(ctx, owner.id)
    await add_community_member(ctx, community, member.id)
    group = await make_group(ctx, community, owner.id)
    await add_group_member(ctx, group, member.id)
    url = f"/api/groups/{group}/invites"
    response = await client.post(
        url, json={"max_uses": 2, "expires_in_hours": 8760}, headers=owner.headers
    )
    assert response.status_code == 200, response.text
    first = response.json()
    assert set(first) == INVITE_KEYS
    assert re.fullmatch(r"[A-Za-z0-9]{12}", first["code"])
    assert first["group_id"] == str(group)
    assert (first["max_uses"], first["used_count"]) == (2, 0)
    assert first["expires_at"] == rfc3339(ctx.clock.now() + timedelta(hours=8760))
    assert isinstance(ctx.clock, FakeClock)
    ctx.clock.advance(1)
    second = (await client.post(url, json={}, headers=owner.headers)).json()
    assert second["max_uses"] is None and second["expires_at"] is None
    listed = await client.get(url, headers=owner.headers)
    assert [i["id"] for i in listed.json()] == [second["id"], first["id"]]
    # plain group members may not
    assert error(await client.get(url, headers=member.headers), 403) == "forbidden"
    assert error(await client.post(url, json={}, headers=member.headers), 403) == "forbidden"
    assert error(await client.delete(f"{url}/{first['id']}", headers=member.headers), 403)
    # validation
    for body, message in (
        ({"expires_in_hours": 0}, "expires_in_hours must be between 1 and 8760"),
        ({"max_uses": 0}, "max_uses must be at least 1"),
        ({"max_uses": 2**31}, "max_uses must be at most 2147483647"),
    ):
        assert error(await client.post(url, json=body, headers=owner.headers), 400) == message
    # revoke
    response = await client.delete(f"{url}/{first['id']}", headers=owner.headers)
    assert response.status_code == 200 and response.content == b""
    response = await client.delete(f"{url}/{first['id']}", headers=owner.headers)
    assert error(response, 404) == "invite not found"
    other = await make_group(ctx, community, owner.id)
    other_invite, _ = await make_group_invite(ctx, other, owner.id)
    response = await client.delete(f"{url}/{other_invite}", headers=owner.headers)
    assert error(response, 404) == "invite not found"
    assert (await client.get(url, headers=owner.headers)).json()[0]["id"] == second["id"]


async def test_personal_group_invites(client: httpx.AsyncClient, ctx: Ctx) -> None:
    owner = await make_user(ctx)
    alice = await make_user(ctx)
    community = await make_community(ctx, owner.id)
    await add_community_member(ctx, community, alice.id)
    personal = await make_group(ctx, community, owner.id, assigned_member_id=alice.id)
    url = f"/api/groups/{personal}/invites"
    response = await client.post(url, json={}, headers=alice.headers)
    assert error(response, 400) == "invites are disabled for this personal group"
    # a community moderator (here: the owner, a group admin through the community) may
    assert (await client.post(url, json={}, headers=owner.headers)).status_code == 200
    async with ctx.db.transaction("allow") as tx:
        await tx.conn.execute("UPDATE groups SET allow_invites = true WHERE id = $1", personal)
    assert (await client.post(url, json={}, headers=alice.headers)).status_code == 200


async def test_info(client: httpx.AsyncClient, ctx: Ctx) -> None:
    owner = await make_user(ctx)
    stranger = await make_user(ctx)
    community = await make_community(ctx, owner.id)
    group = await make_group(ctx, community, owner.id, name="Readers")
    _, code = await make_group_invite(ctx, group, owner.id)
    response = await client.get(f"/api/invites/{code}", headers=stranger.headers)
    assert response.status_code == 200
    assert response.json() == {
        "group_name": "Readers",
        "group_description": "",
        "member_count": 1,
        "code": code,
    }
    hidden = await make_group(ctx, community, owner.id, name="Secret", discoverable=False)
    _, hidden_code = await make_group_invite(ctx, hidden, owner.id)
    response = await client.get(f"/api/invites/{hidden_code}", headers=stranger.headers)
    assert response.json()["group_name"] == "Private Group"
    assert response.json()["group_description"] is None
    assert (await client.get(f"/api/invites/{code}")).status_code == 401


async def test_info_and_accept_errors(client: httpx.AsyncClient, ctx: Ctx) -> None:
    owner = await make_user(ctx)
    user = await make_user(ctx)
    community = await make_community(ctx, owner.id)
    await add_community_member(ctx, community, user.id)
    group = await make_group(ctx, community, owner.id)
    now = ctx.clock.now()
    _, expired = await make_group_invite(ctx, group, owner.id, expires_at=now)
    _, used = await make_group_invite(ctx, group, owner.id, max_uses=1, used_count=1)

    async def info(code: str) -> httpx.Response:
        return await client.get(f"/api/invites/{code}", headers=user.headers)

    async def accept(code: str) -> httpx.Response:
        return await client.post(f"/api/invites/{code}/accept", headers=user.headers)

    assert error(await info("x" * 101), 404) == "invite not found"
    assert error(await info("NoSuchCode12"), 404) == "invite not found"
    assert error(await info(expired), 404) == "invite expired"
    assert error(await info(used), 404) == "invite fully used"
    assert error(await accept("x" * 101), 404) == "invite not found"
    assert error(await accept("NoSuchCode12"), 404) == "invite not found"
    assert error(await accept(expired), 400) == "invite expired"
    assert error(await accept(used), 400) == "invite fully used"


async def test_accept(client: httpx.AsyncClient, ctx: Ctx) -> None:
    owner = await make_user(ctx)
    user = await make_user(ctx)
    community = await make_community(ctx, owner.id)
    group = await make_group(ctx, community, owner.id, name="Club", visibility="private")
    visible = await make_channel(ctx, group, owner.id)
    hidden = await make_channel(ctx, group, owner.id, name="h", discoverable=False)
    invite_id, code = await make_group_invite(ctx, group, owner.id, max_uses=3)
    url = f"/api/invites/{code}/accept"
    response = await client.post(url, headers=user.headers)
    assert error(response, 400) == "you must be a member of this community to join this group"
    await add_community_member(ctx, community, user.id)
    response = await client.post(url, headers=user.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"group_id": str(group), "group_name": "Club"}
    async with ctx.db.transaction("check") as tx:
        role = await tx.conn.fetchval(
            "SELECT role FROM group_members WHERE group_id = $1 AND user_id = $2", group, user.id
        )
        channels = {
            r["channel_id"]
            for r in await tx.conn.fetch(
                "SELECT channel_id FROM channel_members WHERE user_id = $1", user.id
            )
        }
        used = await tx.conn.fetchval(
            "SELECT used_count FROM group_invites WHERE id = $1", uuid.UUID(invite_id)
        )
    assert role == "member"
    assert channels == {visible, hidden}
    assert used == 1
    response = await client.post(url, headers=user.headers)
    assert error(response, 409) == "already a member of this group"
    # the failed attempt took no seat
    info = await client.get(f"/api/invites/{code}", headers=user.headers)
    assert info.json()["member_count"] == 2


async def test_banned_user_and_instance_owner(client: httpx.AsyncClient, ctx: Ctx) -> None:
    owner = await make_user(ctx)
    banned = await make_user(ctx)
    iowner = await make_user(ctx, is_admin=True, is_owner=True)
    community = await make_community(ctx, owner.id)
    await ban_from_community(ctx, community, banned.id)
    group = await make_group(ctx, community, owner.id)
    _, code = await make_group_invite(ctx, group, owner.id)
    url = f"/api/invites/{code}/accept"
    response = await client.post(url, headers=banned.headers)
    assert error(response, 400) == "you must be a member of this community to join this group"
    assert (await client.post(url, headers=iowner.headers)).status_code == 200
