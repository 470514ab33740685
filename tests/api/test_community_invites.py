"""Community invites: create / list / revoke inside the community, look up and accept by code
(shapes, messages, limits, banned users, auto-joining public groups)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx

from chatalot.clock import FakeClock
from chatalot.context import Ctx
from chatalot.ids import CommunityId
from chatalot.protocol.time import rfc3339
from tests.support.auth import TestUser, make_user
from tests.support.spaces import (
    add_community_member,
    ban_from_community,
    make_channel,
    make_community,
    make_community_invite,
    make_group,
)

INVITE_KEYS = {"id", "code", "community_id", "max_uses", "used_count", "expires_at", "created_at"}


def error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["error"]["message"])


async def setup(ctx: Ctx, **community: Any) -> tuple[TestUser, CommunityId]:
    owner = await make_user(ctx)
    community_id = await make_community(ctx, owner.id, **community)
    return owner, community_id


async def test_create_invite_shape(client: httpx.AsyncClient, ctx: Ctx) -> None:
    owner, community = await setup(ctx)
    response = await client.post(
        f"/api/communities/{community}/invites",
        json={"max_uses": 3, "expires_in_hours": 2},
        headers=owner.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == INVITE_KEYS
    assert re.fullmatch(r"[A-Za-z0-9]{12}", body["code"])
    assert body["community_id"] == str(community)
    assert body["max_uses"] == 3
    assert body["used_count"] == 0
    now = ctx.clock.now()
    assert body["expires_at"] == rfc3339(now + timedelta(hours=2))
    assert body["created_at"].endswith("+00:00")


async def test_create_invite_without_limits(client: httpx.AsyncClient, ctx: Ctx) -> None:
    owner, community = await setup(ctx)
    response = await client.post(
        f"/api/communities/{community}/invites", json={}, headers=owner.headers
    )
    assert response.status_code == 200
    assert response.json()["max_uses"] is None
    assert response.json()["expires_at"] is None


async def test_create_invite_validation(client: httpx.AsyncClient, ctx: Ctx) -> None:
    owner, community = await setup(ctx)
    url = f"/api/communities/{community}/invites"
    for hours in (0, -1, 8761, 2**31 - 1):
        response = await client.post(url, json={"expires_in_hours": hours}, headers=owner.headers)
        assert error(response, 400) == "expires_in_hours must be between 1 and 8760"
    for uses in (0, -5):
        response = await client.post(url, json={"max_uses": uses}, headers=owner.headers)
        assert error(response, 400) == "max_uses must be at least 1"
    response = await client.post(url, json={"max_uses": 2**31}, headers=owner.headers)
    assert error(response, 400) == "max_uses must be at most 2147483647"
    response = await client.post(url, json={"max_uses": "three"}, headers=owner.headers)
    assert 400 <= response.status_code < 500
    assert response.json()["error"]["code"]


async def test_create_invite_policy(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """``who_can_create_invites`` decides who may create them."""
    _, community = await setup(ctx, who_can_create_invites="everyone")
    member = await make_user(ctx)
    await add_community_member(ctx, community, member.id)
    url = f"/api/communities/{community}/invites"
    assert (await client.post(url, json={}, headers=member.headers)).status_code == 200
    _, community2 = await setup(ctx, who_can_create_invites="moderator")
    mod = await make_user(ctx)
    await add_community_member(ctx, community2, member.id)
    await add_community_member(ctx, community2, mod.id, "moderator")
    url2 = f"/api/communities/{community2}/invites"
    assert (await client.post(url2, json={}, headers=member.headers)).status_code == 403
    assert (await client.post(url2, json={}, headers=mod.headers)).status_code == 200


async def test_list_invites_newest_first_and_managers_only(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    owner, community = await setup(ctx, who_can_create_invites="everyone")
    mod = await make_user(ctx)
    await add_community_member(ctx, community, mod.id, "moderator")
    url = f"/api/communities/{community}/invites"
    first = (await client.post(url, json={}, headers=owner.headers)).json()
    assert isinstance(ctx.clock, FakeClock)
    ctx.clock.advance(1)
    second = (await client.post(url, json={}, headers=mod.headers)).json()
    listed = await client.get(url, headers=owner.headers)
    assert listed.status_code == 200
    assert [i["id"] for i in listed.json()] == [second["id"], first["id"]]
    assert all(set(i) == INVITE_KEYS for i in listed.json())
    assert (await client.get(url, headers=mod.headers)).status_code == 403


async def test_revoke_invite(client: httpx.AsyncClient, ctx: Ctx) -> None:
    owner, community = await setup(ctx)
    other_owner, other = await setup(ctx)
    invite_id, code = await make_community_invite(ctx, community, owner.id)
    foreign_id, _ = await make_community_invite(ctx, other, other_owner.id)
    url = f"/api/communities/{community}/invites"
    response = await client.delete(f"{url}/{foreign_id}", headers=owner.headers)
    assert error(response, 404) == "invite not found"
    response = await client.delete(f"{url}/{invite_id}", headers=owner.headers)
    assert response.status_code == 200
    assert response.content == b""
    response = await client.delete(f"{url}/{invite_id}", headers=owner.headers)
    assert error(response, 404) == "invite not found"
    response = await client.get(f"/api/community-invites/{code}", headers=owner.headers)
    assert error(response, 404) == "invite not found"
    response = await client.delete(f"{url}/nope", headers=owner.headers)
    assert response.status_code == 400


async def test_invite_info(client: httpx.AsyncClient, ctx: Ctx) -> None:
    owner, community = await setup(ctx)
    stranger = await make_user(ctx)
    _, code = await make_community_invite(ctx, community, owner.id)
    response = await client.get(f"/api/community-invites/{code}", headers=stranger.headers)
    assert response.status_code == 200
    assert response.json() == {
        "community_name": response.json()["community_name"],
        "community_description": "",
        "member_count": 1,
        "code": code,
    }
    assert response.json()["community_name"].startswith("Community")
    # needs a token
    assert (await client.get(f"/api/community-invites/{code}")).status_code == 401


async def test_invite_info_private_community(client: httpx.AsyncClient, ctx: Ctx) -> None:
    owner, community = await setup(ctx, discoverable=False)
    _, code = await make_community_invite(ctx, community, owner.id)
    response = await client.get(f"/api/community-invites/{code}", headers=owner.headers)
    assert response.json()["community_name"] == "Private Community"
    assert response.json()["community_description"] is None


async def test_info_and_accept_errors(client: httpx.AsyncClient, ctx: Ctx) -> None:
    owner, community = await setup(ctx)
    user = await make_user(ctx)
    now = ctx.clock.now()
    _, expired = await make_community_invite(
        ctx,
        community,
        owner.id,
        expires_at=now - timedelta(seconds=1),
    )
    _, used = await make_community_invite(
        ctx,
        community,
        owner.id,
        max_uses=2,
        used_count=2,
    )
    for suffix in ("", "/accept"):
        method = "GET" if not suffix else "POST"

        async def call(code: str, suffix: str = suffix, method: str = method) -> httpx.Response:
            return await client.request(
                method, f"/api/community-invites/{code}{suffix}", headers=user.headers
            )

        assert error(await call("x" * 101), 400) == "invalid invite code"
        assert error(await call("Unknown12345"), 404) == "invite not found"
        assert error(await call("y" * 100), 404) == "invite not found"
        assert error(await call(expired), 400) == "invite expired"
        assert error(await call(used), 400) == "invite fully used"


async def test_accept_joins_community_and_public_groups(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    owner, community = await setup(ctx)
    public = await make_group(ctx, community, owner.id)
    general = await make_channel(ctx, public, owner.id)
    hidden = await make_channel(ctx, public, owner.id, name="hidden", discoverable=False)
    private = await make_group(ctx, community, owner.id, visibility="private")
    await make_channel(ctx, private, owner.id)
    invite_id, code = await make_community_invite(ctx, community, owner.id, max_uses=5)
    user = await make_user(ctx)
    response = await client.post(f"/api/community-invites/{code}/accept", headers=user.headers)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"community_id", "community_name"}
    assert response.json()["community_id"] == str(community)
    async with ctx.db.transaction("check") as tx:
        role = await tx.conn.fetchval(
            "SELECT role FROM community_members WHERE community_id = $1 AND user_id = $2",
            community,
            user.id,
        )
        groups = await tx.conn.fetch(
            "SELECT group_id, role FROM group_members WHERE user_id = $1", user.id
        )
        channels = await tx.conn.fetch(
            "SELECT channel_id FROM channel_members WHERE user_id = $1", user.id
        )
        used = await tx.conn.fetchval(
            "SELECT used_count FROM community_invites WHERE id = $1::uuid", invite_id
        )
    assert role == "member"
    assert [(r["group_id"], r["role"]) for r in groups] == [(public, "member")]
    assert [r["channel_id"] for r in channels] == [general]
    assert hidden not in [r["channel_id"] for r in channels]
    assert used == 1
    again = await client.post(f"/api/community-invites/{code}/accept", headers=user.headers)
    assert error(again, 409) == "already a member of this community"


async def test_accept_private_community_shows_real_name(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    owner = await make_user(ctx)
    community = await make_community(ctx, owner.id, name="Secret Club", discoverable=False)
    _, code = await make_community_invite(ctx, community, owner.id)
    user = await make_user(ctx)
    response = await client.post(f"/api/community-invites/{code}/accept", headers=user.headers)
    assert response.json()["community_name"] == "Secret Club"


async def test_banned_user_cannot_accept(client: httpx.AsyncClient, ctx: Ctx) -> None:
    owner, community = await setup(ctx)
    user = await make_user(ctx)
    await ban_from_community(ctx, community, user.id, by=owner.id)
    _, code = await make_community_invite(ctx, community, owner.id, max_uses=1)
    response = await client.post(f"/api/community-invites/{code}/accept", headers=user.headers)
    assert error(response, 403) == "forbidden"
    info = await client.get(f"/api/community-invites/{code}", headers=user.headers)
    assert info.json()["member_count"] == 1  # the seat was not used


async def test_last_seat_then_fully_used(client: httpx.AsyncClient, ctx: Ctx) -> None:
    owner, community = await setup(ctx)
    _, code = await make_community_invite(ctx, community, owner.id, max_uses=1)
    first, second = await make_user(ctx), await make_user(ctx)
    url = f"/api/community-invites/{code}/accept"
    assert (await client.post(url, headers=first.headers)).status_code == 200
    assert error(await client.post(url, headers=second.headers), 400) == "invite fully used"


async def test_invite_expires_with_the_clock(client: httpx.AsyncClient, ctx: Ctx) -> None:
    owner, community = await setup(ctx)
    response = await client.post(
        f"/api/communities/{community}/invites",
        json={"expires_in_hours": 1},
        headers=owner.headers,
    )
    code = response.json()["code"]
    assert isinstance(ctx.clock, FakeClock)
    ctx.clock.advance(3600)
    user = await make_user(ctx)  # (a token issued at the new time)
    response = await client.post(f"/api/community-invites/{code}/accept", headers=user.headers)
    assert error(response, 400) == "invite expired"


async def test_staff_on_missing_community(client: httpx.AsyncClient, ctx: Ctx) -> None:
    admin = await make_user(ctx, is_admin=True)
    url = "/api/communities/01900000-0000-7000-8000-000000000000/invites"
    assert error(await client.get(url, headers=admin.headers), 404) == "community not found"
    assert error(await client.post(url, json={}, headers=admin.headers), 404) == (
        "community not found"
    )
