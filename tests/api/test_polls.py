"""POST/GET /api/channels/{id}/polls, GET /api/polls/{id}, POST /api/polls/{id}/vote,
DELETE /api/polls/{id}/vote/{idx}, POST /api/polls/{id}/close."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import httpx
import pytest

from chatalot.clock import FakeClock
from chatalot.context import Ctx
from chatalot.protocol import events
from chatalot.protocol.time import rfc3339
from chatalot.services.audience import ChannelSubscribers
from tests.conftest import RecordingSink
from tests.support.auth import TestUser, make_user
from tests.support.responses import error
from tests.support.spaces import add_channel_member, make_channel, room, sql

KEYS = {
    "id",
    "channel_id",
    "created_by",
    "question",
    "options",
    "multi_select",
    "anonymous",
    "closed",
    "expires_at",
    "created_at",
    "votes",
}


def body(**overrides: Any) -> dict[str, Any]:
    return {"question": "Lunch?", "options": ["Pizza", "Sushi", "Salad"], **overrides}


async def create(
    client: httpx.AsyncClient, user: TestUser, channel: Any, **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/api/channels/{channel}/polls", json=body(**overrides), headers=user.headers
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def vote(client: httpx.AsyncClient, user: TestUser, poll: Any, index: Any) -> httpx.Response:
    return await client.post(
        f"/api/polls/{poll}/vote", json={"option_index": index}, headers=user.headers
    )


async def unvote(
    client: httpx.AsyncClient, user: TestUser, poll: Any, index: Any
) -> httpx.Response:
    return await client.delete(f"/api/polls/{poll}/vote/{index}", headers=user.headers)


async def get(client: httpx.AsyncClient, user: TestUser, poll: Any) -> dict[str, Any]:
    response = await client.get(f"/api/polls/{poll}", headers=user.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def votes_in_db(ctx: Ctx, poll: Any) -> list[tuple[Any, int]]:
    rows = await sql(
        ctx,
        "SELECT user_id, option_index FROM poll_votes WHERE poll_id = $1::text::uuid"
        " ORDER BY option_index",
        str(poll),
    )
    return [(r["user_id"], r["option_index"]) for r in rows]


async def poll_count(ctx: Ctx) -> int:
    return int((await sql(ctx, "SELECT count(*) FROM polls"))[0][0])


# -- creating --------------------------------------------------------------------------------


async def test_create_answers_the_poll_and_emits_poll_created(
    ctx: Ctx, client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    """PollResponse with the original's keys, options trimmed, one zero tally per option
    (``voter_ids: []``: the original client breaks without it); ``poll_created`` to the channel's subscribers after commit."""
    owner, member, channel = await room(ctx)
    sink.published.clear()
    poll = await create(
        client,
        member,
        channel,
        question="  Where do we eat?\n ",
        options=[" Pizza ", "Sushi"],
        expires_in_minutes=90,
    )
    now = ctx.clock.now()
    assert set(poll) == KEYS
    uuid.UUID(poll["id"])
    assert poll["channel_id"] == str(channel)
    assert poll["created_by"] == str(member.id)
    assert poll["question"] == "Where do we eat?"
    assert poll["options"] == ["Pizza", "Sushi"]
    assert poll["multi_select"] is False and poll["anonymous"] is False
    assert poll["closed"] is False
    assert poll["created_at"] == rfc3339(now)
    assert poll["expires_at"] == rfc3339(now + timedelta(minutes=90))
    assert poll["votes"] == [
        {"option_index": 0, "count": 0, "voter_ids": []},
        {"option_index": 1, "count": 0, "voter_ids": []},
    ]
    [emitted] = sink.published
    assert emitted.event == events.PollCreated(
        poll_id=poll["id"],
        channel_id=str(channel),
        created_by=str(member.id),
        question="Where do we eat?",
    )
    assert emitted.audience == ChannelSubscribers(channel)
    assert await get(client, owner, poll["id"]) == poll
    stored = await sql(ctx, "SELECT options FROM polls WHERE id = $1::text::uuid", poll["id"])
    assert stored[0]["options"] == ["Pizza", "Sushi"]


async def test_create_flags_and_no_expiry(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """``multi_select``/``anonymous`` are stored; no ``expires_in_minutes`` (or null) means
    no expiry; the bounds 2 and 10 options, 500/200 bytes and 1/10080 minutes are accepted."""
    owner, _, channel = await room(ctx)
    poll = await create(client, owner, channel, multi_select=True, anonymous=True)
    assert poll["multi_select"] is True and poll["anonymous"] is True
    assert poll["expires_at"] is None
    assert (await create(client, owner, channel, expires_in_minutes=None))["expires_at"] is None
    widest = await create(
        client,
        owner,
        channel,
        question="q" * 500,
        options=[str(i) * 200 for i in range(10)],
        expires_in_minutes=10080,
    )
    assert len(widest["votes"]) == 10
    assert widest["expires_at"] == rfc3339(ctx.clock.now() + timedelta(days=7))
    shortest = await create(client, owner, channel, options=["a", "b"], expires_in_minutes=1)
    assert shortest["expires_at"] == rfc3339(ctx.clock.now() + timedelta(minutes=1))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"question": ""}, "question must be 1-500 characters"),
        ({"question": " \n\t "}, "question must be 1-500 characters"),
        ({"question": "q" * 501}, "question must be 1-500 characters"),
        ({"options": []}, "polls must have 2-10 options"),
        ({"options": ["only"]}, "polls must have 2-10 options"),
        ({"options": [str(i) for i in range(11)]}, "polls must have 2-10 options"),
        ({"options": ["a", ""]}, "each option must be 1-200 characters"),
        ({"options": ["a", "   "]}, "each option must be 1-200 characters"),
        ({"options": ["a", "b" * 201]}, "each option must be 1-200 characters"),
        ({"expires_in_minutes": 0}, "expires_in_minutes must be 1-10080"),
        ({"expires_in_minutes": -5}, "expires_in_minutes must be 1-10080"),
        ({"expires_in_minutes": 10081}, "expires_in_minutes must be 1-10080"),
        ({"expires_in_minutes": 2**70}, "expires_in_minutes must be 1-10080"),
        # the order: question, number of options, each option, expiry
        ({"question": "", "options": ["a"]}, "question must be 1-500 characters"),
        (
            {"options": ["", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"]},
            "polls must have 2-10 options",
        ),
        ({"options": ["a", ""], "expires_in_minutes": 0}, "each option must be 1-200 characters"),
        # beyond the original: no control or invisible characters
        (
            {"question": "why\u202e?"},
            "question must not contain control or invisible formatting characters",
        ),
        (
            {"options": ["a\nb", "c"]},
            "option must not contain control or invisible formatting characters",
        ),
    ],
)
async def test_create_refuses_bad_input(
    ctx: Ctx,
    client: httpx.AsyncClient,
    sink: RecordingSink,
    overrides: dict[str, Any],
    message: str,
) -> None:
    """Each rule with the original's message, in its order; nothing is stored or sent."""
    owner, _, channel = await room(ctx)
    sink.published.clear()
    response = await client.post(
        f"/api/channels/{channel}/polls", json=body(**overrides), headers=owner.headers
    )
    assert error(response) == (400, message)
    assert await poll_count(ctx) == 0
    assert sink.published == []


async def test_sizes_are_utf8_bytes(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """500/200 bytes, not characters: multi-byte text over the byte limit is refused with a
    message that says why (the character count is within the limit)."""
    owner, _, channel = await room(ctx)
    assert (await create(client, owner, channel, question="é" * 250))["question"] == "é" * 250
    too_long = await client.post(
        f"/api/channels/{channel}/polls", json=body(question="é" * 251), headers=owner.headers
    )
    assert too_long.status_code == 400
    assert "at most 500 bytes" in too_long.json()["error"]["message"]
    option = await client.post(
        f"/api/channels/{channel}/polls", json=body(options=["a", "€" * 67]), headers=owner.headers
    )
    assert option.status_code == 400
    assert "at most 200 bytes" in option.json()["error"]["message"]


@pytest.mark.parametrize(
    "payload",
    [
        {"options": ["a", "b"]},
        {"question": "q"},
        {"question": None, "options": ["a", "b"]},
        {"question": 5, "options": ["a", "b"]},
        {"question": "q", "options": "a,b"},
        {"question": "q", "options": ["a", 2]},
        {"question": "q", "options": ["a", "b"], "multi_select": None},
        {"question": "q", "options": ["a", "b"], "anonymous": "yes"},
        {"question": "q", "options": ["a", "b"], "expires_in_minutes": 1.5},
        ["q"],
    ],
)
async def test_create_refuses_wrong_shapes(
    ctx: Ctx, client: httpx.AsyncClient, payload: Any
) -> None:
    """Missing fields, wrong types and ``null`` flags: a 4xx in the error shape, never a 500,
    nothing stored."""
    owner, _, channel = await room(ctx)
    response = await client.post(
        f"/api/channels/{channel}/polls", json=payload, headers=owner.headers
    )
    assert response.status_code in (400, 422), response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert await poll_count(ctx) == 0


async def test_only_members_create_and_read(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Outsiders and instance staff who are not members: 403 (before the body is judged);
    an unknown channel 403; a bad channel id 400."""
    owner, _, channel = await room(ctx)
    outsider = await make_user(ctx)
    staff = await make_user(ctx, is_admin=True, is_owner=True)
    for user in (outsider, staff):
        for payload in (body(), body(options=["one"])):
            response = await client.post(
                f"/api/channels/{channel}/polls", json=payload, headers=user.headers
            )
            assert error(response) == (403, "forbidden")
        listed = await client.get(f"/api/channels/{channel}/polls", headers=user.headers)
        assert listed.status_code == 403
    unknown = await client.post(
        f"/api/channels/{uuid.uuid4()}/polls", json=body(), headers=owner.headers
    )
    assert unknown.status_code == 403
    bad = await client.post("/api/channels/nope/polls", json=body(), headers=owner.headers)
    assert bad.status_code == 400
    assert await poll_count(ctx) == 0


# -- reading ---------------------------------------------------------------------------------


async def test_list_newest_first_with_expired_and_closed(
    ctx: Ctx, client: httpx.AsyncClient
) -> None:
    """Every poll of the channel (closed and expired too), newest first, each with its tallies;
    another channel's polls are not listed."""
    assert isinstance(ctx.clock, FakeClock)
    owner, member, channel = await room(ctx)
    other = await make_channel(ctx, None, owner.id)
    first = await create(client, owner, channel, expires_in_minutes=1)
    ctx.clock.advance(1)
    second = await create(client, member, channel)
    ctx.clock.advance(1)
    third = await create(client, owner, channel, options=["yes", "no"])
    await create(client, owner, other)
    assert (await vote(client, member, third["id"], 1)).status_code == 200
    assert (await vote(client, owner, third["id"], 1)).status_code == 200
    assert (
        await client.post(f"/api/polls/{second['id']}/close", headers=member.headers)
    ).status_code == 200
    ctx.clock.advance(120)  # the first one expires
    response = await client.get(f"/api/channels/{channel}/polls", headers=member.headers)
    assert response.status_code == 200
    listed = response.json()
    assert [p["id"] for p in listed] == [third["id"], second["id"], first["id"]]
    assert all(set(p) == KEYS for p in listed)
    assert listed[0]["votes"] == [
        {"option_index": 0, "count": 0, "voter_ids": []},
        {"option_index": 1, "count": 2, "voter_ids": [str(member.id), str(owner.id)]},
    ]
    assert listed[1]["closed"] is True
    assert listed[2]["closed"] is False and listed[2]["expires_at"] is not None
    empty = await client.get(
        f"/api/channels/{await make_channel(ctx, None, owner.id)}/polls", headers=owner.headers
    )
    assert empty.json() == []


async def test_get_one(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """404 ``poll not found`` for an unknown poll; 403 for a non-member (also instance staff);
    400 for a bad id."""
    owner, member, channel = await room(ctx)
    poll = await create(client, owner, channel)
    assert (await get(client, member, poll["id"]))["id"] == poll["id"]
    unknown = await client.get(f"/api/polls/{uuid.uuid4()}", headers=member.headers)
    assert error(unknown) == (404, "poll not found")
    for user in (await make_user(ctx), await make_user(ctx, is_admin=True)):
        response = await client.get(f"/api/polls/{poll['id']}", headers=user.headers)
        assert error(response) == (403, "forbidden")
    assert (await client.get("/api/polls/42", headers=member.headers)).status_code == 400


async def test_anonymous_polls_never_show_voters(
    ctx: Ctx, client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    """Counts but no ``voter_ids`` in GET and in the list, and ``voter_id: null`` in every
    event, for the voter too."""
    owner, member, channel = await room(ctx)
    poll = await create(client, owner, channel, anonymous=True)
    sink.published.clear()
    assert (await vote(client, member, poll["id"], 0)).status_code == 200
    assert (await vote(client, member, poll["id"], 2)).status_code == 200
    assert (await vote(client, owner, poll["id"], 2)).status_code == 200
    assert (await unvote(client, owner, poll["id"], 2)).status_code == 200
    for seen in (
        await get(client, member, poll["id"]),
        (await client.get(f"/api/channels/{channel}/polls", headers=owner.headers)).json()[0],
    ):
        assert seen["votes"] == [
            {"option_index": 0, "count": 0},
            {"option_index": 1, "count": 0},
            {"option_index": 2, "count": 1},
        ]
    sent = [e.event for e in sink.published]
    assert [type(e).__name__ for e in sent] == [
        "PollVoted",
        "PollVoteRemoved",
        "PollVoted",
        "PollVoted",
        "PollVoteRemoved",
    ]
    assert all(e.voter_id is None for e in sent)
    assert await votes_in_db(ctx, poll["id"]) == [(member.id, 2)]


# -- voting ----------------------------------------------------------------------------------


async def test_single_select_vote_replaces_the_previous_one(
    ctx: Ctx, client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    """First vote: ``poll_voted``. Another option: ``poll_vote_removed`` for the old one, then
    ``poll_voted``; one vote stored. The same option again: nothing changes, nothing sent."""
    owner, member, channel = await room(ctx)
    poll = await create(client, owner, channel)
    pid = poll["id"]
    sink.published.clear()
    response = await vote(client, member, pid, 0)
    assert response.status_code == 200 and response.content == b""
    assert "content-type" not in response.headers
    assert (await vote(client, member, pid, 2)).status_code == 200
    assert (await vote(client, member, pid, 2)).status_code == 200
    voted = {"poll_id": pid, "channel_id": str(channel), "voter_id": str(member.id)}
    assert [e.event for e in sink.published] == [
        events.PollVoted(option_index=0, **voted),
        events.PollVoteRemoved(option_index=0, **voted),
        events.PollVoted(option_index=2, **voted),
    ]
    assert all(e.audience == ChannelSubscribers(channel) for e in sink.published)
    assert await votes_in_db(ctx, pid) == [(member.id, 2)]
    tallies = (await get(client, owner, pid))["votes"]
    assert tallies[2] == {"option_index": 2, "count": 1, "voter_ids": [str(member.id)]}


async def test_multi_select_adds_votes(
    ctx: Ctx, client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    """Each option once; voting an option again is a silent 200 (no event)."""
    owner, member, channel = await room(ctx)
    pid = (await create(client, owner, channel, multi_select=True))["id"]
    sink.published.clear()
    for index in (0, 2, 0):
        assert (await vote(client, member, pid, index)).status_code == 200
    voted = {"poll_id": pid, "channel_id": str(channel), "voter_id": str(member.id)}
    assert [e.event for e in sink.published] == [
        events.PollVoted(option_index=0, **voted),
        events.PollVoted(option_index=2, **voted),
    ]
    assert await votes_in_db(ctx, pid) == [(member.id, 0), (member.id, 2)]
    assert [v["count"] for v in (await get(client, owner, pid))["votes"]] == [1, 0, 1]


async def test_vote_errors_in_order(
    ctx: Ctx, client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    """404, then closed, then expired (both before membership, as in the original), then 403,
    then the option index (< 0 or >= the number of options)."""
    assert isinstance(ctx.clock, FakeClock)
    owner, member, channel = await room(ctx)
    outsider = await make_user(ctx)
    staff = await make_user(ctx, is_admin=True)
    open_poll = (await create(client, owner, channel))["id"]
    closed = (await create(client, owner, channel))["id"]
    expiring = (await create(client, owner, channel, expires_in_minutes=1))["id"]
    assert (
        await client.post(f"/api/polls/{closed}/close", headers=owner.headers)
    ).status_code == 200
    sink.published.clear()
    assert error(await vote(client, member, uuid.uuid4(), 0)) == (404, "poll not found")
    assert error(await vote(client, outsider, closed, 99)) == (400, "poll is closed")
    assert error(await vote(client, member, closed, 0)) == (400, "poll is closed")
    assert (await vote(client, member, expiring, 0)).status_code == 200
    assert [type(e.event) for e in sink.published] == [events.PollVoted]
    sink.published.clear()
    ctx.clock.advance(60)  # expires_at is now: expired
    assert error(await vote(client, member, expiring, 1)) == (400, "poll has expired")
    assert error(await vote(client, outsider, expiring, 99)) == (400, "poll has expired")
    for user in (outsider, staff):
        assert error(await vote(client, user, open_poll, 99)) == (403, "forbidden")
    for index in (-1, 3, 2**31 - 1, -(2**31)):
        assert error(await vote(client, member, open_poll, index)) == (400, "invalid option index")
    assert sink.published == []
    assert await votes_in_db(ctx, open_poll) == []
    assert await votes_in_db(ctx, expiring) == [(member.id, 0)]


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"option_index": None},
        {"option_index": 1.5},
        {"option_index": 2**31},
        {"option_index": -(2**31) - 1},
        [1],
    ],
)
async def test_vote_refuses_wrong_shapes(ctx: Ctx, client: httpx.AsyncClient, payload: Any) -> None:
    """Missing, null, non-integer and beyond 32 bits: a 4xx, never a 500, nothing stored."""
    owner, member, channel = await room(ctx)
    pid = (await create(client, owner, channel))["id"]
    response = await client.post(f"/api/polls/{pid}/vote", json=payload, headers=member.headers)
    assert response.status_code in (400, 422), response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert await votes_in_db(ctx, pid) == []
    bad_id = await client.post(
        "/api/polls/x/vote", json={"option_index": 0}, headers=member.headers
    )
    assert bad_id.status_code == 400


async def test_remove_vote(ctx: Ctx, client: httpx.AsyncClient, sink: RecordingSink) -> None:
    """Removes the caller's vote for that option and sends ``poll_vote_removed``; removing a vote
    not held (any index, no range check) is a silent 200; others' votes stay."""
    owner, member, channel = await room(ctx)
    pid = (await create(client, owner, channel, multi_select=True))["id"]
    for user, index in ((member, 0), (member, 1), (owner, 0)):
        assert (await vote(client, user, pid, index)).status_code == 200
    sink.published.clear()
    response = await unvote(client, member, pid, 0)
    assert response.status_code == 200 and response.content == b""
    for index in (0, 2, 99, -7):
        assert (await unvote(client, member, pid, index)).status_code == 200
    assert [e.event for e in sink.published] == [
        events.PollVoteRemoved(
            poll_id=pid, channel_id=str(channel), option_index=0, voter_id=str(member.id)
        )
    ]
    assert sink.published[0].audience == ChannelSubscribers(channel)
    assert await votes_in_db(ctx, pid) == [(owner.id, 0), (member.id, 1)]


async def test_remove_vote_errors(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """404, closed, expired, not a member; a non-integer or beyond-32-bit index 400."""
    assert isinstance(ctx.clock, FakeClock)
    owner, member, channel = await room(ctx)
    outsider = await make_user(ctx)
    pid = (await create(client, owner, channel, expires_in_minutes=5))["id"]
    assert (await vote(client, member, pid, 0)).status_code == 200
    assert error(await unvote(client, member, uuid.uuid4(), 0)) == (404, "poll not found")
    assert error(await unvote(client, outsider, pid, 0)) == (403, "forbidden")
    for index in ("x", "1.5", "2147483648", "-2147483649", "9" * 200):
        response = await unvote(client, member, pid, index)
        assert response.status_code == 400, (index, response.text)
    assert (
        await client.delete("/api/polls/nope/vote/0", headers=member.headers)
    ).status_code == 400
    ctx.clock.advance(300)
    assert error(await unvote(client, member, pid, 0)) == (400, "poll has expired")
    closed = (await create(client, owner, channel))["id"]
    assert (
        await client.post(f"/api/polls/{closed}/close", headers=owner.headers)
    ).status_code == 200
    assert error(await unvote(client, member, closed, 0)) == (400, "poll is closed")
    assert await votes_in_db(ctx, pid) == [(member.id, 0)]


# -- closing ---------------------------------------------------------------------------------


async def test_close_by_creator_or_channel_owner(
    ctx: Ctx, client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    """The creator (even after leaving the channel) and the channel's stored owner may close;
    closing again is a 200 that sends ``poll_closed`` again; afterwards voting is refused."""
    owner, member, channel = await room(ctx)
    by_member = (await create(client, member, channel))["id"]
    by_member_2 = (await create(client, member, channel))["id"]
    sink.published.clear()
    response = await client.post(f"/api/polls/{by_member}/close", headers=member.headers)
    assert response.status_code == 200 and response.content == b""
    assert (
        await client.post(f"/api/polls/{by_member}/close", json={}, headers=owner.headers)
    ).status_code == 200
    closed = events.PollClosed(poll_id=by_member, channel_id=str(channel))
    assert [e.event for e in sink.published] == [closed, closed]
    assert all(e.audience == ChannelSubscribers(channel) for e in sink.published)
    assert (await get(client, owner, by_member))["closed"] is True
    assert error(await vote(client, owner, by_member, 0)) == (400, "poll is closed")
    await sql(
        ctx,
        "DELETE FROM channel_members WHERE channel_id = $1 AND user_id = $2",
        channel,
        member.id,
    )
    response = await client.post(f"/api/polls/{by_member_2}/close", headers=member.headers)
    assert response.status_code == 200


async def test_who_may_not_close(ctx: Ctx, client: httpx.AsyncClient, sink: RecordingSink) -> None:
    """Members, channel admins and moderators, instance staff (not considered, as in the
    original) and outsiders: 403; unknown poll 404 (first); bad id 400."""
    owner, member, channel = await room(ctx)
    admin, moderator = await make_user(ctx), await make_user(ctx)
    await add_channel_member(ctx, channel, admin.id, "admin")
    await add_channel_member(ctx, channel, moderator.id, "moderator")
    staff = await make_user(ctx, is_admin=True, is_owner=True)
    outsider = await make_user(ctx)
    pid = (await create(client, owner, channel))["id"]
    sink.published.clear()
    for user in (member, admin, moderator, staff, outsider):
        response = await client.post(f"/api/polls/{pid}/close", headers=user.headers)
        assert error(response) == (403, "forbidden")
    unknown = await client.post(f"/api/polls/{uuid.uuid4()}/close", headers=owner.headers)
    assert error(unknown) == (404, "poll not found")
    assert (await client.post("/api/polls/x/close", headers=owner.headers)).status_code == 400
    assert sink.published == []
    assert (await get(client, owner, pid))["closed"] is False


async def test_deleted_creator_shows_as_null(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """After its creator's account is deleted the poll stays, ``created_by: null``."""
    owner, member, channel = await room(ctx)
    pid = (await create(client, member, channel))["id"]
    assert (await vote(client, member, pid, 1)).status_code == 200
    await sql(ctx, "DELETE FROM users WHERE id = $1", member.id)
    poll = await get(client, owner, pid)
    assert poll["created_by"] is None
    assert [v["count"] for v in poll["votes"]] == [0, 0, 0]


# -- concurrency -----------------------------------------------------------------------------


async def test_concurrent_votes_on_single_select_leave_one_vote(
    pooled: tuple[Any, Ctx, httpx.AsyncClient],
) -> None:
    """One user sends 20 votes for different options at once (several rounds): all answer 200
    and exactly one vote of theirs remains, never two."""
    pool, ctx, client = pooled
    owner = await make_user(ctx, "pollracer")
    channel = await make_channel(ctx, None, owner.id)
    options = [f"option {i}" for i in range(10)]
    for _ in range(3):
        pid = (await create(client, owner, channel, options=options))["id"]
        responses = await asyncio.gather(*(vote(client, owner, pid, i % 10) for i in range(20)))
        assert Counter(r.status_code for r in responses) == {200: 20}, [r.text for r in responses]
        async with pool.acquire() as conn:
            count = await conn.fetchval(
                "SELECT count(*) FROM poll_votes WHERE poll_id = $1::text::uuid", pid
            )
        assert count == 1


async def test_concurrent_votes_and_close(pooled: tuple[Any, Ctx, httpx.AsyncClient]) -> None:
    """Votes racing a close: every vote either lands before the close (200) or is refused
    (400 ``poll is closed``); no vote is stored that answered 400, none after the close."""
    pool, ctx, client = pooled
    owner = await make_user(ctx, "closeracer")
    voters = [await make_user(ctx, f"voter{i}") for i in range(8)]
    channel = await make_channel(ctx, None, owner.id)
    for user in voters:
        await add_channel_member(ctx, channel, user.id)
    pid = (await create(client, owner, channel, multi_select=True))["id"]
    calls = [vote(client, user, pid, 0) for user in voters]
    calls.insert(4, client.post(f"/api/polls/{pid}/close", headers=owner.headers))
    responses = await asyncio.gather(*calls)
    close = responses.pop(4)
    assert close.status_code == 200
    accepted = sum(r.status_code == 200 for r in responses)
    refused = [r for r in responses if r.status_code != 200]
    assert all(error(r) == (400, "poll is closed") for r in refused)
    async with pool.acquire() as conn:
        stored = await conn.fetchval(
            "SELECT count(*) FROM poll_votes WHERE poll_id = $1::text::uuid", pid
        )
    assert stored == accepted
