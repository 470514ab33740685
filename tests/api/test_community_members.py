"""A community's members and bans: the member list, roles, nicknames, kicks, bans and unbans,
with their events (access revoked, sender-key rotation) and audit entries."""

from __future__ import annotations

import dataclasses
import re
import uuid
from typing import Any

import httpx
import pytest

from chatalot.context import Ctx
from chatalot.ids import ChannelId, CommunityId, uuid7
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


def error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["error"]["message"])


async def fetch(ctx: Ctx, sql: str, *args: Any) -> list[dict[str, Any]]:
    async with ctx.db.transaction("test_fetch") as tx:
        return [dict(r) for r in await tx.conn.fetch(sql, *args)]


@dataclasses.dataclass
class Space:
    owner: TestUser
    admin: TestUser
    moderator: TestUser
    member: TestUser
    community: CommunityId
    channels: list[ChannelId]

    def url(self, tail: str = "") -> str:
        return f"/api/communities/{self.community}{tail}"


async def make_space(ctx: Ctx) -> Space:
    """Owner, admin, moderator and member, all in a group with two channels."""
    owner = await make_user(ctx, "sowner")
    admin = await make_user(ctx, "sadmin")
    moderator = await make_user(ctx, "smod")
    member = await make_user(ctx, "smember")
    community = await make_community(ctx, owner.id)
    group = await make_group(ctx, community, owner.id)
    channels = [await make_channel(ctx, group, owner.id) for _ in range(2)]
    for user, role in ((admin, "admin"), (moderator, "moderator"), (member, "member")):
        await add_community_member(ctx, community, user.id, role)
        await add_group_member(ctx, group, user.id)
        for channel in channels:
            await add_channel_member(ctx, channel, user.id)
    return Space(owner, admin, moderator, member, community, channels)


async def role_of(ctx: Ctx, space: Space, user: TestUser) -> str | None:
    rows = await fetch(
        ctx,
        "SELECT role FROM community_members WHERE community_id = $1 AND user_id = $2",
        space.community,
        user.id,
    )
    return rows[0]["role"] if rows else None


# -- the member list -------------------------------------------------------------------------


async def test_members_ordered_with_shape(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Owner, admin, moderator, others; each with user fields and nickname."""
    space = await make_space(ctx)
    late = await make_user(ctx, "slate")
    await add_community_member(ctx, space.community, late.id, "admin")
    response = await client.get(space.url("/members"), headers=space.member.headers)
    assert response.status_code == 200
    body = response.json()
    assert [m["username"] for m in body] == ["sowner", "sadmin", "slate", "smod", "smember"]
    first = body[0]
    assert set(first) == {
        "user_id",
        "username",
        "display_name",
        "avatar_url",
        "role",
        "nickname",
        "joined_at",
    }
    assert first["role"] == "owner"
    assert first["display_name"] == "Sowner"
    assert first["nickname"] is None
    assert first["joined_at"].endswith("+00:00")


@pytest.mark.parametrize(
    ("query", "count"),
    [("limit=2", 2), ("limit=0", 1), ("limit=-1", 1), ("offset=3", 1), ("offset=-9", 4)],
)
async def test_members_paging(client: httpx.AsyncClient, ctx: Ctx, query: str, count: int) -> None:
    """limit clamped to 1..500 (default 200), offset >= 0."""
    space = await make_space(ctx)
    response = await client.get(space.url(f"/members?{query}"), headers=space.member.headers)
    assert len(response.json()) == count


async def test_members_bad_query(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A non-numeric offset is a 400."""
    space = await make_space(ctx)
    response = await client.get(space.url("/members?offset=a"), headers=space.member.headers)
    assert "offset" in error(response, 400)


# -- roles -----------------------------------------------------------------------------------


async def test_role_changes(client: httpx.AsyncClient, ctx: Ctx, sink: RecordingSink) -> None:
    """Admins promote members to moderator; the owner makes admins; no event."""
    space = await make_space(ctx)
    response = await client.put(
        space.url(f"/members/{space.member.id}/role"),
        json={"role": "moderator"},
        headers=space.admin.headers,
    )
    assert response.status_code == 200
    assert response.content == b""
    assert await role_of(ctx, space, space.member) == "moderator"
    denied = await client.put(
        space.url(f"/members/{space.member.id}/role"),
        json={"role": "admin"},
        headers=space.admin.headers,
    )
    assert error(denied, 403) == "forbidden"
    response = await client.put(
        space.url(f"/members/{space.member.id}/role"),
        json={"role": "admin"},
        headers=space.owner.headers,
    )
    assert response.status_code == 200
    assert await role_of(ctx, space, space.member) == "admin"
    assert sink.published == []


@pytest.mark.parametrize(
    ("actor", "target", "role", "status", "message"),
    [
        ("moderator", "member", "member", 403, "forbidden"),
        ("admin", "admin", "member", 400, "you cannot change your own role"),
        ("admin", "member", "owner", 400, "role must be member, moderator, or admin"),
        ("admin", "member", "", 400, "role must be member, moderator, or admin"),
        ("admin", "nobody", "member", 404, "member not found"),
        (
            "admin",
            "owner",
            "member",
            400,
            "cannot change the owner's role; use transfer-ownership instead",
        ),
        ("admin", "other_admin", "member", 403, "forbidden"),
    ],
)
async def test_role_errors(
    client: httpx.AsyncClient,
    ctx: Ctx,
    actor: str,
    target: str,
    role: str,
    status: int,
    message: str,
) -> None:
    """The original's checks and messages, in its order."""
    space = await make_space(ctx)
    other_admin = await make_user(ctx)
    await add_community_member(ctx, space.community, other_admin.id, "admin")
    by_name = {
        "owner": space.owner,
        "admin": space.admin,
        "moderator": space.moderator,
        "member": space.member,
        "other_admin": other_admin,
    }
    target_id = by_name[target].id if target in by_name else uuid.uuid4()
    response = await client.put(
        space.url(f"/members/{target_id}/role"),
        json={"role": role},
        headers=by_name[actor].headers,
    )
    assert error(response, status) == message


async def test_instance_owner_is_untouchable(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """The instance owner, as a plain member, cannot be demoted, kicked or banned."""
    space = await make_space(ctx)
    boss = await make_user(ctx, is_admin=True, is_owner=True)
    await add_community_member(ctx, space.community, boss.id, "moderator")
    headers = space.owner.headers
    role = await client.put(
        space.url(f"/members/{boss.id}/role"), json={"role": "member"}, headers=headers
    )
    assert error(role, 403)
    assert error(await client.delete(space.url(f"/members/{boss.id}"), headers=headers), 403)
    ban = await client.post(space.url(f"/bans/{boss.id}"), json={}, headers=headers)
    assert error(ban, 403)
    nick = await client.put(
        space.url(f"/members/{boss.id}/nickname"), json={"nickname": "x"}, headers=headers
    )
    assert error(nick, 403)


# -- nicknames -------------------------------------------------------------------------------


async def nickname_of(ctx: Ctx, space: Space, user: TestUser) -> str | None:
    rows = await fetch(
        ctx,
        "SELECT nickname FROM community_members WHERE community_id = $1 AND user_id = $2",
        space.community,
        user.id,
    )
    value: str | None = rows[0]["nickname"]
    return value


@pytest.mark.parametrize(
    ("nickname", "stored"),
    [("  Nick  ", "Nick"), ("", None), ("   ", None), (None, None), ("é" * 32, "é" * 32)],
)
async def test_own_nickname(
    client: httpx.AsyncClient, ctx: Ctx, nickname: str | None, stored: str | None
) -> None:
    """Trimmed; empty, blank and null clear it."""
    space = await make_space(ctx)
    await client.put(
        space.url(f"/members/{space.member.id}/nickname"),
        json={"nickname": "Old"},
        headers=space.member.headers,
    )
    response = await client.put(
        space.url(f"/members/{space.member.id}/nickname"),
        json={"nickname": nickname},
        headers=space.member.headers,
    )
    assert response.status_code == 200
    assert response.content == b""
    assert await nickname_of(ctx, space, space.member) == stored


@pytest.mark.parametrize(
    ("nickname", "message"),
    [("n" * 65, "nickname must be 1-64 characters"), ("é" * 33, None), ("a\tb", None)],
)
async def test_nickname_errors(
    client: httpx.AsyncClient, ctx: Ctx, nickname: str, message: str | None
) -> None:
    """Over 64 bytes or with control characters: 400."""
    space = await make_space(ctx)
    response = await client.put(
        space.url(f"/members/{space.member.id}/nickname"),
        json={"nickname": nickname},
        headers=space.member.headers,
    )
    text = error(response, 400)
    if message:
        assert text == message


async def test_others_nicknames(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Managers rename members below them; members and moderators cannot rename others;
    a non-member target is a silent no-op."""
    space = await make_space(ctx)
    ok = await client.put(
        space.url(f"/members/{space.member.id}/nickname"),
        json={"nickname": "Renamed"},
        headers=space.admin.headers,
    )
    assert ok.status_code == 200
    assert await nickname_of(ctx, space, space.member) == "Renamed"
    for actor, target in ((space.member, space.moderator), (space.moderator, space.member)):
        denied = await client.put(
            space.url(f"/members/{target.id}/nickname"),
            json={"nickname": "x"},
            headers=actor.headers,
        )
        assert error(denied, 403)
    above = await client.put(
        space.url(f"/members/{space.owner.id}/nickname"),
        json={"nickname": "x"},
        headers=space.admin.headers,
    )
    assert error(above, 403)
    nobody = await client.put(
        space.url(f"/members/{uuid.uuid4()}/nickname"),
        json={"nickname": "x"},
        headers=space.owner.headers,
    )
    assert nobody.status_code == 200


# -- kicks -----------------------------------------------------------------------------------


async def add_sender_keys(ctx: Ctx, space: Space, user: TestUser) -> None:
    async with ctx.db.transaction("test_sender_keys") as tx:
        for channel in space.channels:
            await tx.conn.execute(
                "INSERT INTO sender_key_distributions (id, channel_id, user_id, chain_id,"
                " distribution) VALUES ($1, $2, $3, 1, '{}'::jsonb)",
                uuid7(),
                channel,
                user.id,
            )


def assert_removed(sink: RecordingSink, space: Space, user: TestUser, reason: str) -> None:
    """Access revoked first, then one rotation request per channel, then the removed user is
    told (community_member_removed, to their sessions only)."""
    first, *rotations, told = sink.published
    assert told.event == events.CommunityMemberRemoved(
        community_id=str(space.community), user_id=str(user.id), reason=reason
    )
    assert told.audience == Users.of([user.id])
    assert first.audience == SERVER_ONLY
    assert first.event == AccessRevoked(user.id, frozenset(space.channels), reason)
    expected = [
        (
            events.SenderKeyRotationRequired(channel_id=str(c), reason="member_removed"),
            ChannelSubscribers(c),
        )
        for c in space.channels
    ]
    expected.sort(key=lambda pair: str(pair[1]))
    got = sorted(((e.event, e.audience) for e in rotations), key=lambda pair: str(pair[1]))
    assert got == expected


async def assert_gone(ctx: Ctx, space: Space, user: TestUser) -> None:
    assert await role_of(ctx, space, user) is None
    for table in ("group_members", "channel_members", "sender_key_distributions"):
        rows = await fetch(ctx, f"SELECT 1 FROM {table} WHERE user_id = $1", user.id)
        assert rows == [], table


async def test_kick(client: httpx.AsyncClient, ctx: Ctx, sink: RecordingSink) -> None:
    """A moderator kicks a member: out of everything, keys gone, others rotate, audited."""
    space = await make_space(ctx)
    await add_sender_keys(ctx, space, space.member)
    response = await client.delete(
        space.url(f"/members/{space.member.id}"), headers=space.moderator.headers
    )
    assert response.status_code == 200
    assert response.content == b""
    await assert_gone(ctx, space, space.member)
    assert_removed(sink, space, space.member, "kicked")
    [row] = await fetch(
        ctx, "SELECT user_id, metadata FROM audit_log WHERE action = 'community_kick'"
    )
    assert row == {
        "user_id": space.moderator.id,
        "metadata": {"community_id": str(space.community), "target_user_id": str(space.member.id)},
    }
    again = await client.get(space.url(), headers=space.member.headers)
    assert error(again, 403)


@pytest.mark.parametrize(
    ("actor", "target", "status", "message"),
    [
        ("moderator", "moderator", 400, "you cannot kick yourself; use leave instead"),
        ("moderator", "nobody", 404, "member not found"),
        ("moderator", "admin", 403, "forbidden"),
        ("admin", "owner", 403, "forbidden"),
        ("member", "moderator", 403, "forbidden"),
    ],
)
async def test_kick_errors(
    client: httpx.AsyncClient,
    ctx: Ctx,
    sink: RecordingSink,
    actor: str,
    target: str,
    status: int,
    message: str,
) -> None:
    """Self, non-members and anyone at or above the kicker's level; a refused kick emits
    nothing."""
    space = await make_space(ctx)
    by_name = {
        "owner": space.owner,
        "admin": space.admin,
        "moderator": space.moderator,
        "member": space.member,
    }
    target_id = by_name[target].id if target in by_name else uuid.uuid4()
    response = await client.delete(
        space.url(f"/members/{target_id}"), headers=by_name[actor].headers
    )
    assert error(response, status) == message
    assert sink.published == []


async def test_nobody_removes_the_community_owner(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Not even instance staff (above the owner's level) can kick or ban a community's owner:
    that would leave a community whose owner is not a member."""
    space = await make_space(ctx)
    admin = await make_user(ctx, is_admin=True)
    kick = await client.delete(space.url(f"/members/{space.owner.id}"), headers=admin.headers)
    ban = await client.post(space.url(f"/bans/{space.owner.id}"), json={}, headers=admin.headers)
    assert (kick.status_code, ban.status_code) == (403, 403)
    members = await client.get(space.url("/members"), headers=admin.headers)
    assert str(space.owner.id) in {m["user_id"] for m in members.json()}


# -- bans ------------------------------------------------------------------------------------


async def test_ban_member(client: httpx.AsyncClient, ctx: Ctx, sink: RecordingSink) -> None:
    """A ban removes the member like a kick, is listed, blocks the gate, and is audited."""
    space = await make_space(ctx)
    await add_sender_keys(ctx, space, space.member)
    response = await client.post(
        space.url(f"/bans/{space.member.id}"),
        json={"reason": "  spamming  "},
        headers=space.moderator.headers,
    )
    assert response.status_code == 200
    assert response.content == b""
    await assert_gone(ctx, space, space.member)
    assert_removed(sink, space, space.member, "banned")
    listed = await client.get(space.url("/bans"), headers=space.moderator.headers)
    [ban] = listed.json()
    assert set(ban) == {"user_id", "username", "display_name", "reason", "created_at"}
    assert ban["user_id"] == str(space.member.id)
    assert ban["username"] == "smember"
    assert ban["display_name"] == "Smember"
    assert ban["reason"] == "spamming"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", ban["created_at"])
    [row] = await fetch(ctx, "SELECT metadata FROM audit_log WHERE action = 'community_ban'")
    assert row["metadata"] == {
        "community_id": str(space.community),
        "target_user_id": str(space.member.id),
    }
    assert error(await client.get(space.url(), headers=space.member.headers), 403)


async def test_existing_ban_keeps_reason_and_prebans(
    client: httpx.AsyncClient, ctx: Ctx, sink: RecordingSink
) -> None:
    """Banning again keeps the first reason; non-members can be banned in advance (no event:
    they had nothing to lose); an empty reason is null."""
    space = await make_space(ctx)
    stranger = await make_user(ctx)
    headers = space.owner.headers
    await client.post(space.url(f"/bans/{stranger.id}"), json={"reason": "   "}, headers=headers)
    await client.post(space.url(f"/bans/{stranger.id}"), json={"reason": "later"}, headers=headers)
    assert sink.published == []
    [ban] = (await client.get(space.url("/bans"), headers=headers)).json()
    assert ban["reason"] is None


async def test_bans_newest_first(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """The ban list is newest first."""
    space = await make_space(ctx)
    first, second = await make_user(ctx, "bfirst"), await make_user(ctx, "bsecond")
    await ban_from_community(ctx, space.community, first.id)
    async with ctx.db.transaction("test_age") as tx:
        await tx.conn.execute(
            "UPDATE community_bans SET created_at = now() - interval '1 hour' WHERE user_id = $1",
            first.id,
        )
    await ban_from_community(ctx, space.community, second.id)
    bans = (await client.get(space.url("/bans"), headers=space.admin.headers)).json()
    assert [b["username"] for b in bans] == ["bsecond", "bfirst"]
    assert error(await client.get(space.url("/bans"), headers=space.member.headers), 403)


@pytest.mark.parametrize(
    ("actor", "target", "body", "status", "message"),
    [
        ("moderator", "moderator", {}, 400, "you cannot ban yourself"),
        ("moderator", "admin", {}, 403, "forbidden"),
        ("admin", "owner", {}, 403, "forbidden"),
        ("member", "member2", {}, 403, "forbidden"),
        ("moderator", "nobody", {}, 404, "user not found"),
        (
            "moderator",
            "member",
            {"reason": "r" * 501},
            400,
            "reason must be at most 500 characters",
        ),
        ("moderator", "member", {"reason": 5}, 400, None),
    ],
)
async def test_ban_errors(
    client: httpx.AsyncClient,
    ctx: Ctx,
    actor: str,
    target: str,
    body: dict[str, Any],
    status: int,
    message: str | None,
) -> None:
    """Self, higher targets, unknown users, long reasons, wrong types."""
    space = await make_space(ctx)
    member2 = await make_user(ctx)
    await add_community_member(ctx, space.community, member2.id)
    by_name = {
        "owner": space.owner,
        "admin": space.admin,
        "moderator": space.moderator,
        "member": space.member,
        "member2": member2,
    }
    target_id = by_name[target].id if target in by_name else uuid.uuid4()
    response = await client.post(
        space.url(f"/bans/{target_id}"), json=body, headers=by_name[actor].headers
    )
    text = error(response, status)
    if message is not None:
        assert text == message


async def test_unban(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Unban lifts the ban (audited); a second unban is 404 ``ban not found``."""
    space = await make_space(ctx)
    stranger = await make_user(ctx)
    await ban_from_community(ctx, space.community, stranger.id)
    response = await client.delete(
        space.url(f"/bans/{stranger.id}"), headers=space.moderator.headers
    )
    assert response.status_code == 200
    assert response.content == b""
    [row] = await fetch(ctx, "SELECT metadata FROM audit_log WHERE action = 'community_unban'")
    assert row["metadata"] == {
        "community_id": str(space.community),
        "target_user_id": str(stranger.id),
    }
    again = await client.delete(space.url(f"/bans/{stranger.id}"), headers=space.moderator.headers)
    assert error(again, 404) == "ban not found"
    bad = await client.delete(space.url("/bans/zzz"), headers=space.moderator.headers)
    assert error(bad, 400) == "invalid user id"


async def test_staff_ban_on_missing_community(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Instance staff banning in a community that does not exist: 404, not a 500."""
    admin = await make_user(ctx, is_admin=True)
    target = await make_user(ctx)
    response = await client.post(
        f"/api/communities/{uuid.uuid4()}/bans/{target.id}", json={}, headers=admin.headers
    )
    assert error(response, 404) == "community not found"
