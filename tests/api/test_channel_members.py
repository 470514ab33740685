"""/api/channels/{id}/join|leave|members|transfer-ownership and member role, kick, ban,
unban: rules, messages, events, audit entries and revoked access."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from chatalot.context import Ctx
from chatalot.ids import ChannelId, UserId
from chatalot.protocol.events import (
    MemberBanned,
    MemberKicked,
    MemberRoleUpdated,
    SenderKeyRotationRequired,
)
from chatalot.services.audience import SERVER_ONLY, AccessRevoked, ChannelSubscribers
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

MEMBER_KEYS = {"user_id", "username", "display_name", "avatar_url", "role", "joined_at"}


def error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["error"]["message"])


async def role_of(ctx: Ctx, channel: uuid.UUID, user: TestUser) -> str | None:
    async with ctx.db.connection() as conn:
        role: str | None = await conn.fetchval(
            "SELECT role FROM channel_members WHERE channel_id = $1 AND user_id = $2",
            channel,
            user.id,
        )
    return role


async def audits(ctx: Ctx, action: str) -> list[tuple[Any, Any]]:
    async with ctx.db.connection() as conn:
        rows = await conn.fetch("SELECT user_id, metadata FROM audit_log WHERE action = $1", action)
    return [(r["user_id"], r["metadata"]) for r in rows]


async def owned_channel(ctx: Ctx, *members: tuple[TestUser, str]) -> tuple[TestUser, ChannelId]:
    owner = await make_user(ctx)
    channel = await make_channel(ctx, None, owner.id)
    for user, role in members:
        await add_channel_member(ctx, channel, user.id, role)
    return owner, channel


# -- join / leave ----------------------------------------------------------------------------


async def test_join_standalone_channel(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Anyone joins a standalone channel as member; joining twice is fine; no event."""
    bob = await make_user(ctx)
    _, channel = await owned_channel(ctx)
    for _ in range(2):
        response = await client.post(f"/api/channels/{channel}/join", headers=bob.headers)
        assert response.status_code == 200
        assert response.content == b""
    assert await role_of(ctx, channel, bob) == "member"


async def test_join_errors(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """404 unknown channel, 403 for DMs (fixed), 403 when banned from the channel."""
    bob, carol = await make_user(ctx), await make_user(ctx)
    assert error(
        await client.post(f"/api/channels/{uuid.uuid4()}/join", headers=bob.headers), 404
    ) == ("channel not found")
    dm = await make_channel(ctx, None, None, name=None, channel_type="dm")
    await add_channel_member(ctx, dm, carol.id)
    assert error(await client.post(f"/api/channels/{dm}/join", headers=bob.headers), 403)
    owner, channel = await owned_channel(ctx, (bob, "member"))
    await client.post(
        f"/api/channels/{channel}/members/{bob.id}/ban", json={}, headers=owner.headers
    )
    assert error(await client.post(f"/api/channels/{channel}/join", headers=bob.headers), 403)
    assert error(await client.post("/api/channels/nope/join", headers=bob.headers), 400)


async def test_join_group_channel_needs_community(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A group channel: community members join (no group membership needed); outsiders and
    users banned from the community may not."""
    owner, member, outsider, banned = [await make_user(ctx) for _ in range(4)]
    community = await make_community(ctx, owner.id)
    await add_community_member(ctx, community, member.id)
    await ban_from_community(ctx, community, banned.id, by=owner.id)
    group = await make_group(ctx, community, owner.id)
    channel = await make_channel(ctx, group, owner.id)
    url = f"/api/channels/{channel}/join"
    assert (await client.post(url, headers=member.headers)).status_code == 200
    assert error(await client.post(url, headers=outsider.headers), 403)
    assert error(await client.post(url, headers=banned.headers), 403)


async def test_leave_channel(client: httpx.AsyncClient, ctx: Ctx, sink: RecordingSink) -> None:
    """A member leaves (their subscriptions are revoked); the owner cannot; leaving a
    channel one is not in is fine and revokes nothing."""
    bob = await make_user(ctx)
    owner, channel = await owned_channel(ctx, (bob, "admin"))
    response = await client.post(f"/api/channels/{channel}/leave", headers=bob.headers)
    assert response.status_code == 200 and response.content == b""
    assert await role_of(ctx, channel, bob) is None
    [emitted] = sink.published
    assert emitted.event == AccessRevoked(bob.id, frozenset({channel}), "left")
    assert emitted.audience == SERVER_ONLY
    assert (
        await client.post(f"/api/channels/{channel}/leave", headers=bob.headers)
    ).status_code == 200
    assert len(sink.published) == 1
    assert error(
        await client.post(f"/api/channels/{channel}/leave", headers=owner.headers), 400
    ) == ("owner cannot leave; transfer ownership or delete the channel instead")


# -- members ---------------------------------------------------------------------------------


async def test_members_shape_and_order(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """owner, admin, moderator, then the rest; exact keys; limit and offset."""
    bob, carol, dave = [await make_user(ctx) for _ in range(3)]
    owner, channel = await owned_channel(
        ctx, (dave, "member"), (carol, "moderator"), (bob, "admin")
    )
    response = await client.get(f"/api/channels/{channel}/members", headers=dave.headers)
    assert response.status_code == 200
    body = response.json()
    assert [m["user_id"] for m in body] == [str(u.id) for u in (owner, bob, carol, dave)]
    assert [m["role"] for m in body] == ["owner", "admin", "moderator", "member"]
    assert set(body[0]) == MEMBER_KEYS
    assert body[0]["joined_at"].endswith("+00:00")
    page = await client.get(
        f"/api/channels/{channel}/members?limit=2&offset=1", headers=dave.headers
    )
    assert [m["user_id"] for m in page.json()] == [str(bob.id), str(carol.id)]
    clamped = await client.get(
        f"/api/channels/{channel}/members?limit=0&offset=-4", headers=dave.headers
    )
    assert [m["user_id"] for m in clamped.json()] == [str(owner.id)]
    bad = await client.get(f"/api/channels/{channel}/members?limit=abc", headers=dave.headers)
    assert error(bad, 400)


async def test_members_access(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """404 for an unknown channel first; outsiders 403; instance staff may look."""
    outsider = await make_user(ctx)
    admin = await make_user(ctx, is_admin=True)
    _, channel = await owned_channel(ctx)
    url = f"/api/channels/{channel}/members"
    assert error(await client.get(url, headers=outsider.headers), 403)
    assert (await client.get(url, headers=admin.headers)).status_code == 200
    missing = f"/api/channels/{uuid.uuid4()}/members"
    assert error(await client.get(missing, headers=outsider.headers), 404) == "channel not found"


async def test_members_of_discoverable_group_channel(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A discoverable group channel also lists group members who have not joined (role
    member, joined when they joined the group) and is visible to them; a non-discoverable
    one is not."""
    owner, grouped, stranger = [await make_user(ctx) for _ in range(3)]
    community = await make_community(ctx, owner.id)
    await add_community_member(ctx, community, grouped.id)
    await add_community_member(ctx, community, stranger.id)
    group = await make_group(ctx, community, owner.id)
    await add_group_member(ctx, group, grouped.id)
    channel = await make_channel(ctx, group, owner.id)
    hidden = await make_channel(ctx, group, owner.id, discoverable=False)
    response = await client.get(f"/api/channels/{channel}/members", headers=grouped.headers)
    assert response.status_code == 200
    assert [(m["user_id"], m["role"]) for m in response.json()] == [
        (str(owner.id), "owner"),
        (str(grouped.id), "member"),
    ]
    assert error(
        await client.get(f"/api/channels/{channel}/members", headers=stranger.headers), 403
    )
    assert error(await client.get(f"/api/channels/{hidden}/members", headers=grouped.headers), 403)
    listed = await client.get(f"/api/channels/{hidden}/members", headers=owner.headers)
    assert [m["user_id"] for m in listed.json()] == [str(owner.id)]


# -- roles -----------------------------------------------------------------------------------


async def test_change_role(client: httpx.AsyncClient, ctx: Ctx, sink: RecordingSink) -> None:
    """The owner sets a member's role; member_role_updated to the subscribers."""
    bob = await make_user(ctx)
    owner, channel = await owned_channel(ctx, (bob, "member"))
    response = await client.patch(
        f"/api/channels/{channel}/members/{bob.id}/role",
        json={"role": "moderator"},
        headers=owner.headers,
    )
    assert response.status_code == 200 and response.content == b""
    assert await role_of(ctx, channel, bob) == "moderator"
    [emitted] = sink.published
    assert emitted.event == MemberRoleUpdated(
        channel_id=str(channel), user_id=str(bob.id), role="moderator"
    )
    assert emitted.audience == ChannelSubscribers(channel)


async def test_change_role_errors(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """403 for non-owners; own role, bad role, non-member target; in that order."""
    bob = await make_user(ctx)
    owner, channel = await owned_channel(ctx, (bob, "admin"))

    async def put(user: TestUser, target: object, role: str) -> httpx.Response:
        return await client.patch(
            f"/api/channels/{channel}/members/{target}/role",
            json={"role": role},
            headers=user.headers,
        )

    assert error(await put(bob, owner.id, "member"), 403)
    assert error(await put(owner, owner.id, "bogus"), 400) == "cannot change your own role"
    assert error(await put(owner, bob.id, "owner"), 400) == (
        "role must be 'admin', 'moderator', or 'member'"
    )
    assert error(await put(owner, uuid.uuid4(), "member"), 404) == "member not found"


async def test_change_role_instance_levels(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """An instance admin may demote a channel owner; nobody touches the instance owner."""
    iowner = await make_user(ctx, is_admin=True, is_owner=True)
    iadmin = await make_user(ctx, is_admin=True)
    owner, channel = await owned_channel(ctx, (iowner, "member"))
    url = f"/api/channels/{channel}/members"
    response = await client.patch(
        f"{url}/{owner.id}/role", json={"role": "admin"}, headers=iadmin.headers
    )
    assert response.status_code == 200
    assert await role_of(ctx, channel, owner) == "admin"
    await add_channel_member(ctx, channel, owner.id, "owner")
    response = await client.patch(
        f"{url}/{iowner.id}/role", json={"role": "admin"}, headers=owner.headers
    )
    assert error(response, 403)


# -- kick / ban / unban ----------------------------------------------------------------------


async def test_kick(client: httpx.AsyncClient, ctx: Ctx, sink: RecordingSink) -> None:
    """A moderator kicks a member: membership and sender key gone, member_kicked and
    sender_key_rotation_required to the subscribers, access revoked, audit channel_kick."""
    mod, bob = await make_user(ctx), await make_user(ctx)
    _, channel = await owned_channel(ctx, (mod, "moderator"), (bob, "member"))
    async with ctx.db.transaction("test_sender_key") as tx:
        await tx.conn.execute(
            "INSERT INTO sender_key_distributions (id, channel_id, user_id, chain_id,"
            " distribution) VALUES ($1, $2, $3, 1, '{}'::jsonb)",
            uuid.uuid4(),
            channel,
            bob.id,
        )
    response = await client.post(
        f"/api/channels/{channel}/members/{bob.id}/kick", headers=mod.headers
    )
    assert response.status_code == 200 and response.content == b""
    assert await role_of(ctx, channel, bob) is None
    async with ctx.db.connection() as conn:
        assert not await conn.fetchval(
            "SELECT count(*) FROM sender_key_distributions WHERE user_id = $1", bob.id
        )
    audience = ChannelSubscribers(channel)
    assert [(e.event, e.audience) for e in sink.published] == [
        (
            MemberKicked(channel_id=str(channel), user_id=str(bob.id), kicked_by=str(mod.id)),
            audience,
        ),
        (SenderKeyRotationRequired(channel_id=str(channel), reason="member_removed"), audience),
        (AccessRevoked(bob.id, frozenset({channel}), "kicked"), SERVER_ONLY),
    ]
    assert await audits(ctx, "channel_kick") == [
        (mod.id, {"channel_id": str(channel), "target_user_id": str(bob.id)})
    ]


async def test_kick_rules(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """404 member not found before the permission check; strictly above the target; the
    instance owner cannot be kicked; instance admins can kick without membership."""
    mod, mod2, bob = [await make_user(ctx) for _ in range(3)]
    iowner = await make_user(ctx, is_admin=True, is_owner=True)
    iadmin = await make_user(ctx, is_admin=True)
    owner, channel = await owned_channel(
        ctx, (mod, "moderator"), (mod2, "moderator"), (bob, "member"), (iowner, "member")
    )

    async def kick(user: TestUser, target: object) -> httpx.Response:
        return await client.post(
            f"/api/channels/{channel}/members/{target}/kick", headers=user.headers
        )

    assert error(await kick(bob, uuid.uuid4()), 404) == "member not found"
    assert error(await kick(bob, mod.id), 403)
    assert error(await kick(mod, mod2.id), 403)
    assert error(await kick(mod, owner.id), 403)
    assert error(await kick(owner, iowner.id), 403)
    assert error(await kick(iadmin, iowner.id), 403)
    assert (await kick(iadmin, owner.id)).status_code == 200
    assert (
        error(
            await client.post(
                f"/api/channels/{uuid.uuid4()}/members/{bob.id}/kick", headers=mod.headers
            ),
            404,
        )
        == "channel not found"
    )


async def test_ban_and_unban(client: httpx.AsyncClient, ctx: Ctx, sink: RecordingSink) -> None:
    """Ban: ban row with reason, member_banned + rotation, revoked, audit channel_ban; the
    banned user cannot rejoin until unbanned (audit channel_unban)."""
    bob = await make_user(ctx)
    owner, channel = await owned_channel(ctx, (bob, "member"))
    response = await client.post(
        f"/api/channels/{channel}/members/{bob.id}/ban",
        json={"reason": "spam"},
        headers=owner.headers,
    )
    assert response.status_code == 200 and response.content == b""
    audience = ChannelSubscribers(channel)
    assert [(e.event, e.audience) for e in sink.published] == [
        (
            MemberBanned(channel_id=str(channel), user_id=str(bob.id), banned_by=str(owner.id)),
            audience,
        ),
        (SenderKeyRotationRequired(channel_id=str(channel), reason="member_removed"), audience),
        (AccessRevoked(UserId(bob.id), frozenset({channel}), "banned"), SERVER_ONLY),
    ]
    async with ctx.db.connection() as conn:
        ban = await conn.fetchrow(
            "SELECT banned_by, reason FROM channel_bans WHERE channel_id = $1 AND user_id = $2",
            channel,
            bob.id,
        )
    assert (ban["banned_by"], ban["reason"]) == (owner.id, "spam")
    assert await audits(ctx, "channel_ban") == [
        (owner.id, {"channel_id": str(channel), "target_user_id": str(bob.id)})
    ]
    assert error(await client.post(f"/api/channels/{channel}/join", headers=bob.headers), 403)
    unban = f"/api/channels/{channel}/members/{bob.id}/unban"
    assert (await client.post(unban, headers=owner.headers)).status_code == 200
    assert await audits(ctx, "channel_unban") == [
        (owner.id, {"channel_id": str(channel), "target_user_id": str(bob.id)})
    ]
    assert error(await client.post(unban, headers=owner.headers), 404) == "ban not found"
    assert (
        await client.post(f"/api/channels/{channel}/join", headers=bob.headers)
    ).status_code == 200


async def test_ban_errors(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """The reason length is checked first; only current members; the body is required."""
    bob, carol = await make_user(ctx), await make_user(ctx)
    owner, channel = await owned_channel(ctx, (bob, "member"))
    url = f"/api/channels/{channel}/members"
    long_reason = {"reason": "r" * 501}
    assert error(
        await client.post(f"{url}/{bob.id}/ban", json=long_reason, headers=carol.headers), 400
    ) == ("ban reason must be at most 500 characters")
    assert error(
        await client.post(f"{url}/{carol.id}/ban", json={}, headers=owner.headers), 404
    ) == ("member not found")
    assert error(await client.post(f"{url}/{owner.id}/ban", json={}, headers=bob.headers), 403)
    response = await client.post(f"{url}/{bob.id}/ban", headers=owner.headers)
    assert 400 <= response.status_code < 500


async def test_unban_needs_moderator(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Unban: ch-mod+ (a plain member 403; an instance admin may)."""
    bob = await make_user(ctx)
    iadmin = await make_user(ctx, is_admin=True)
    _, channel = await owned_channel(ctx, (bob, "member"))
    url = f"/api/channels/{channel}/members/{uuid.uuid4()}/unban"
    assert error(await client.post(url, headers=bob.headers), 403)
    assert error(await client.post(url, headers=iadmin.headers), 404) == "ban not found"


# -- ownership -------------------------------------------------------------------------------


async def test_transfer_ownership(client: httpx.AsyncClient, ctx: Ctx, sink: RecordingSink) -> None:
    """The owner hands over: caller admin, target owner, two member_role_updated events."""
    bob = await make_user(ctx)
    owner, channel = await owned_channel(ctx, (bob, "member"))
    response = await client.post(
        f"/api/channels/{channel}/transfer-ownership",
        json={"new_owner_id": str(bob.id)},
        headers=owner.headers,
    )
    assert response.status_code == 200 and response.content == b""
    assert await role_of(ctx, channel, owner) == "admin"
    assert await role_of(ctx, channel, bob) == "owner"
    assert [e.event for e in sink.published] == [
        MemberRoleUpdated(channel_id=str(channel), user_id=str(owner.id), role="admin"),
        MemberRoleUpdated(channel_id=str(channel), user_id=str(bob.id), role="owner"),
    ]


async def test_transfer_ownership_errors(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Non-owners 403; a non-member target 400; a bad id 400."""
    bob, carol = await make_user(ctx), await make_user(ctx)
    owner, channel = await owned_channel(ctx, (bob, "admin"))
    url = f"/api/channels/{channel}/transfer-ownership"
    assert error(
        await client.post(url, json={"new_owner_id": str(bob.id)}, headers=bob.headers), 403
    )
    assert (
        error(
            await client.post(url, json={"new_owner_id": str(carol.id)}, headers=owner.headers), 400
        )
        == "target user must be a member of this channel"
    )
    assert error(await client.post(url, json={"new_owner_id": "x"}, headers=owner.headers), 400)


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("POST", "join"),
        ("POST", "leave"),
        ("GET", "members"),
        ("POST", "members/{user}/kick"),
        ("POST", "members/{user}/unban"),
    ],
)
async def test_malformed_ids(client: httpx.AsyncClient, ctx: Ctx, method: str, suffix: str) -> None:
    """A malformed channel or user id is a 400, never a 404 or 500."""
    bob = await make_user(ctx)
    _, channel = await owned_channel(ctx)
    bad_channel = "/api/channels/not-a-uuid/" + suffix.format(user=bob.id)
    response = await client.request(method, bad_channel, headers=bob.headers)
    assert error(response, 400) == "invalid channel id"
    if "{user}" in suffix:
        bad_user = f"/api/channels/{channel}/" + suffix.format(user="zz")
        assert error(await client.request(method, bad_user, headers=bob.headers), 400) == (
            "invalid user id"
        )
