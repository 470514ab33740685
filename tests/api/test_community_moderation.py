"""/api/communities/{cid}/channels/{chid}/timeout|warn|warnings: community moderators'
timeouts and warnings in the community's channels."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest

from chatalot.clock import FakeClock
from chatalot.context import Ctx
from chatalot.ids import ChannelId, CommunityId
from chatalot.protocol.events import UserTimedOut, UserWarned
from chatalot.protocol.time import rfc3339
from chatalot.services.audience import ChannelSubscribers
from chatalot.services.moderation import active_timeout
from tests.conftest import RecordingSink
from tests.support.auth import TestUser, make_user
from tests.support.spaces import (
    add_channel_member,
    add_community_member,
    make_channel,
    make_community,
    make_group,
    time_out,
)

TIMEOUT_KEYS = {"id", "user_id", "channel_id", "issued_by", "reason", "expires_at", "created_at"}
WARNING_KEYS = {"id", "user_id", "channel_id", "issued_by", "reason", "created_at"}


def error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["error"]["message"])


@dataclass
class Place:
    owner: TestUser
    admin: TestUser
    mod: TestUser
    member: TestUser
    community: CommunityId
    channel: ChannelId

    def url(self, suffix: str) -> str:
        return f"/api/communities/{self.community}/channels/{self.channel}/{suffix}"


async def place(ctx: Ctx) -> Place:
    owner, admin, mod, member = [await make_user(ctx) for _ in range(4)]
    community = await make_community(ctx, owner.id)
    await add_community_member(ctx, community, admin.id, "admin")
    await add_community_member(ctx, community, mod.id, "moderator")
    await add_community_member(ctx, community, member.id)
    group = await make_group(ctx, community, owner.id)
    channel = await make_channel(ctx, group, owner.id)
    for user in (admin, mod, member):
        await add_channel_member(ctx, channel, user.id)
    return Place(owner, admin, mod, member, community, channel)


async def timeout(
    client: httpx.AsyncClient, p: Place, by: TestUser, target: object, **body: object
) -> httpx.Response:
    payload: dict[str, object] = {"user_id": str(target), "duration_seconds": 600, **body}
    return await client.post(p.url("timeout"), json=payload, headers=by.headers)


async def test_timeout(client: httpx.AsyncClient, ctx: Ctx, sink: RecordingSink) -> None:
    """A moderator times a member out: TimeoutResponse, user_timed_out to the subscribers,
    reason trimmed, times from the clock, no audit."""
    p = await place(ctx)
    now = ctx.clock.now()
    response = await timeout(client, p, p.mod, p.member.id, reason="  calm down ")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == TIMEOUT_KEYS
    assert body["user_id"] == str(p.member.id)
    assert body["channel_id"] == str(p.channel)
    assert body["issued_by"] == str(p.mod.id)
    assert body["reason"] == "calm down"
    assert body["created_at"] == rfc3339(now)
    assert body["expires_at"] == rfc3339(now + timedelta(seconds=600))
    [emitted] = sink.published
    assert emitted.event == UserTimedOut(
        channel_id=str(p.channel),
        user_id=str(p.member.id),
        expires_at=rfc3339(now + timedelta(seconds=600)),
        reason="calm down",
    )
    assert emitted.audience == ChannelSubscribers(p.channel)
    async with ctx.db.connection() as conn:
        active = await active_timeout(conn, p.channel, p.member.id, now)
        assert active is not None and str(active.id) == body["id"]
        assert await conn.fetchval("SELECT count(*) FROM audit_log") == 0


async def test_timeout_replaces_and_blank_reason(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A second timeout replaces the first; a blank reason is stored as null."""
    p = await place(ctx)
    await timeout(client, p, p.mod, p.member.id)
    response = await timeout(client, p, p.admin, p.member.id, duration_seconds=60, reason="  ")
    assert response.json()["reason"] is None
    async with ctx.db.connection() as conn:
        rows = await conn.fetch("SELECT id FROM user_timeouts WHERE user_id = $1", p.member.id)
    assert [str(r["id"]) for r in rows] == [response.json()["id"]]


async def test_timeout_errors_in_order(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Plain members 403; channel elsewhere 404; non-member target 400; target at or above
    the caller 403; duration bounds; reason length."""
    p = await place(ctx)
    outsider = await make_user(ctx)
    assert error(await timeout(client, p, p.member, p.mod.id), 403)
    other = await make_channel(ctx, None, p.owner.id)
    url = f"/api/communities/{p.community}/channels/{other}/timeout"
    body = {"user_id": str(p.member.id), "duration_seconds": 600}
    assert error(await client.post(url, json=body, headers=p.mod.headers), 404) == (
        "channel not found in this community"
    )
    assert error(await timeout(client, p, p.mod, outsider.id, duration_seconds=1), 400) == (
        "user is not a member of this channel"
    )
    assert error(await timeout(client, p, p.mod, p.admin.id, duration_seconds=1), 403)
    await add_community_member(ctx, p.community, outsider.id, "moderator")
    await add_channel_member(ctx, p.channel, outsider.id)
    assert error(await timeout(client, p, p.mod, outsider.id), 403)
    for duration in (59, 2_592_001, -1):
        assert error(
            await timeout(client, p, p.mod, p.member.id, duration_seconds=duration), 400
        ) == ("duration must be between 60 seconds and 30 days")
    assert error(await timeout(client, p, p.mod, p.member.id, reason="r" * 501), 400) == (
        "timeout reason must be at most 500 characters"
    )
    assert error(await timeout(client, p, p.mod, "bad"), 400)


async def test_nobody_times_out_the_instance_owner(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """The instance owner is out of reach even as a plain member; an instance admin can time
    out a community owner."""
    p = await place(ctx)
    iowner = await make_user(ctx, is_admin=True, is_owner=True)
    iadmin = await make_user(ctx, is_admin=True)
    await add_community_member(ctx, p.community, iowner.id)
    await add_channel_member(ctx, p.channel, iowner.id)
    assert error(await timeout(client, p, p.owner, iowner.id), 403)
    assert (await timeout(client, p, iadmin, p.owner.id)).status_code == 200


async def test_remove_timeout(client: httpx.AsyncClient, ctx: Ctx, sink: RecordingSink) -> None:
    """DELETE removes the active timeout (audit timeout_removed, no event); then 404."""
    p = await place(ctx)
    await time_out(ctx, p.channel, p.member.id, by=p.owner.id)
    url = p.url(f"timeout/{p.member.id}")
    response = await client.delete(url, headers=p.mod.headers)
    assert response.status_code == 200 and response.content == b""
    assert sink.published == []
    async with ctx.db.connection() as conn:
        rows = await conn.fetch(
            "SELECT user_id, metadata FROM audit_log WHERE action = 'timeout_removed'"
        )
    assert [(r["user_id"], r["metadata"]) for r in rows] == [
        (p.mod.id, {"channel_id": str(p.channel), "target_user_id": str(p.member.id)})
    ]
    assert error(await client.delete(url, headers=p.mod.headers), 404) == "no active timeout found"
    assert error(await client.delete(url, headers=p.member.headers), 403)


async def test_expired_timeout_is_not_active(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Once expired, the timeout is not active: DELETE answers 404."""
    p = await place(ctx)
    await time_out(ctx, p.channel, p.member.id, until=ctx.clock.now() + timedelta(minutes=1))
    assert isinstance(ctx.clock, FakeClock)
    ctx.clock.advance(120)
    async with ctx.db.connection() as conn:
        assert await active_timeout(conn, p.channel, p.member.id, ctx.clock.now()) is None
    response = await client.delete(p.url(f"timeout/{p.member.id}"), headers=p.mod.headers)
    assert error(response, 404) == "no active timeout found"


async def test_warn_and_list(client: httpx.AsyncClient, ctx: Ctx, sink: RecordingSink) -> None:
    """Warnings: WarningResponse, user_warned with the running count, listed newest first;
    the reason is kept as sent (not trimmed)."""
    p = await place(ctx)
    first = await client.post(
        p.url("warn"), json={"user_id": str(p.member.id), "reason": " one "}, headers=p.mod.headers
    )
    assert first.status_code == 200, first.text
    assert set(first.json()) == WARNING_KEYS
    assert first.json()["reason"] == " one "
    assert first.json()["issued_by"] == str(p.mod.id)
    assert isinstance(ctx.clock, FakeClock)
    ctx.clock.advance(5)
    second = await client.post(
        p.url("warn"), json={"user_id": str(p.member.id), "reason": "two"}, headers=p.owner.headers
    )
    assert [e.event for e in sink.published] == [
        UserWarned(
            channel_id=str(p.channel), user_id=str(p.member.id), reason=" one ", warning_count=1
        ),
        UserWarned(
            channel_id=str(p.channel), user_id=str(p.member.id), reason="two", warning_count=2
        ),
    ]
    assert {e.audience for e in sink.published} == {ChannelSubscribers(p.channel)}
    listed = await client.get(p.url(f"warnings/{p.member.id}"), headers=p.mod.headers)
    assert listed.status_code == 200
    assert [w["id"] for w in listed.json()] == [second.json()["id"], first.json()["id"]]
    assert set(listed.json()[0]) == WARNING_KEYS
    empty = await client.get(p.url(f"warnings/{p.mod.id}"), headers=p.mod.headers)
    assert empty.json() == []


async def test_warn_errors_in_order(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Channel elsewhere 404; target at or above 403 (before membership); non-member 400;
    reason empty or over 1000 bytes 400."""
    p = await place(ctx)
    outsider = await make_user(ctx)

    async def warn(
        by: TestUser, target: object, reason: str, channel: object = None
    ) -> httpx.Response:
        url = (
            p.url("warn")
            if channel is None
            else (f"/api/communities/{p.community}/channels/{channel}/warn")
        )
        return await client.post(
            url, json={"user_id": str(target), "reason": reason}, headers=by.headers
        )

    assert error(await warn(p.mod, p.member.id, "", uuid.uuid4()), 404) == (
        "channel not found in this community"
    )
    assert error(await warn(p.mod, p.owner.id, ""), 403)
    assert error(await warn(p.mod, outsider.id, ""), 400) == "user is not a member of this channel"
    assert error(await warn(p.mod, p.member.id, ""), 400) == "reason must be 1-1000 characters"
    assert error(await warn(p.mod, p.member.id, "x" * 1001), 400) == (
        "reason must be 1-1000 characters"
    )
    assert error(await warn(p.member, p.member.id, "x"), 403)


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", "warnings/{user}"), ("DELETE", "timeout/{user}")],
)
async def test_gate_and_bad_ids(
    client: httpx.AsyncClient, ctx: Ctx, method: str, suffix: str
) -> None:
    """Bad community id 400 ``invalid community ID``; bad channel or user id 400; outsiders
    403 (the gate)."""
    p = await place(ctx)
    outsider = await make_user(ctx)
    tail = suffix.format(user=p.member.id)
    bad_community = f"/api/communities/xyz/channels/{p.channel}/{tail}"
    assert error(await client.request(method, bad_community, headers=p.mod.headers), 400) == (
        "invalid community ID"
    )
    bad_channel = f"/api/communities/{p.community}/channels/xyz/{tail}"
    assert error(await client.request(method, bad_channel, headers=p.mod.headers), 400)
    bad_user = p.url(suffix.format(user="nope"))
    assert error(await client.request(method, bad_user, headers=p.mod.headers), 400)
    assert error(await client.request(method, p.url(tail), headers=outsider.headers), 403)
