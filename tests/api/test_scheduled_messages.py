"""POST /api/messages/schedule, GET /api/messages/scheduled, DELETE /api/messages/scheduled/{id}:
the checks in the original's order with its texts, every field's bad input, the per-user
limit under concurrent requests."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from chatalot.app import create_app
from chatalot.clock import SystemClock
from chatalot.config import PoolSettings, Settings
from chatalot.context import Ctx
from chatalot.db.database import Database
from chatalot.db.pool import open_pool
from chatalot.ids import ChannelId, UserId, uuid7
from chatalot.protocol.time import rfc3339
from chatalot.security.passwords import PasswordHasher
from chatalot.security.tokens import JwtKeys
from tests.conftest import RecordingSink, build_ctx
from tests.support.auth import TestUser, make_user
from tests.support.pg import PgServer
from tests.support.responses import error
from tests.support.spaces import add_channel_member, room, sql, time_out

SCHEDULE = "/api/messages/schedule"
LIST = "/api/messages/scheduled"


def when(ctx: Ctx, seconds: float = 3600) -> str:
    return rfc3339(ctx.clock.now() + timedelta(seconds=seconds))


def body(channel: Any, scheduled_for: str, **overrides: Any) -> dict[str, Any]:
    return {
        "channel_id": str(channel),
        "ciphertext": "[104,105]",
        "nonce": "[1,2,3]",
        "scheduled_for": scheduled_for,
        **overrides,
    }


async def fill_up(ctx: Ctx, user: UserId, channel: ChannelId, count: int) -> None:
    """``count`` scheduled messages of ``user`` straight in the database."""
    async with ctx.db.transaction("test_fill_up") as tx:
        for i in range(count):
            await tx.conn.execute(
                "INSERT INTO scheduled_messages (id, channel_id, user_id, ciphertext, nonce,"
                " scheduled_for) VALUES ($1, $2, $3, 'c', 'n', $4)",
                uuid7(),
                channel,
                user,
                ctx.clock.now() + timedelta(hours=1, seconds=i),
            )


async def test_schedule_list_cancel(
    ctx: Ctx, client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    """The answer has the original's keys (preview only when given); ciphertext and nonce are
    stored as the strings sent and never returned; the list is the caller's own, soonest
    first; cancelling answers 200 empty; nothing goes over the WebSocket."""
    _, member, channel = await room(ctx)
    later = await client.post(SCHEDULE, json=body(channel, when(ctx, 7200)), headers=member.headers)
    assert later.status_code == 200, later.text
    out = later.json()
    assert set(out) == {"id", "channel_id", "scheduled_for", "created_at"}
    assert out["channel_id"] == str(channel)
    assert out["scheduled_for"] == when(ctx, 7200)
    assert out["created_at"] == rfc3339(ctx.clock.now())
    assert uuid.UUID(out["id"]).version == 7
    sooner = await client.post(
        SCHEDULE,
        json=body(channel, when(ctx, 60), ciphertext="héllo", nonce="n", content_preview="p"),
        headers=member.headers,
    )
    assert sooner.status_code == 200, sooner.text
    assert sooner.json()["content_preview"] == "p"
    assert set(sooner.json()) == {
        "id",
        "channel_id",
        "scheduled_for",
        "created_at",
        "content_preview",
    }
    rows = await sql(
        ctx,
        "SELECT ciphertext, nonce, content_preview FROM scheduled_messages WHERE user_id = $1"
        " ORDER BY scheduled_for",
        member.id,
    )
    assert [tuple(r) for r in rows] == [("héllo", "n", "p"), ("[104,105]", "[1,2,3]", None)]
    other = await make_user(ctx)
    assert (await client.get(LIST, headers=other.headers)).json() == []
    listed = await client.get(LIST, headers=member.headers)
    assert listed.status_code == 200
    assert listed.json() == [sooner.json(), out]
    deleted = await client.delete(f"{LIST}/{out['id']}", headers=member.headers)
    assert deleted.status_code == 200 and deleted.content == b""
    assert "content-type" not in deleted.headers
    assert (await client.get(LIST, headers=member.headers)).json() == [sooner.json()]
    assert sink.published == []


async def test_offsets_and_forms_of_scheduled_for(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Any RFC 3339 offset names the same instant; "t", "z", a space, fractions of any length
    are accepted; the answer is UTC with +00:00."""
    _, member, channel = await room(ctx)
    target = ctx.clock.now().astimezone(UTC) + timedelta(hours=5, microseconds=123456)
    east = target.astimezone(timezone(timedelta(hours=2, minutes=30)))
    forms = [
        east.isoformat(),
        target.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        target.strftime("%Y-%m-%dt%H:%M:%S.%f") + "123z",
        target.strftime("%Y-%m-%d %H:%M:%S.%f") + "+00:00",
    ]
    for form in forms:
        response = await client.post(SCHEDULE, json=body(channel, form), headers=member.headers)
        assert response.status_code == 200, (form, response.text)
        assert response.json()["scheduled_for"] == rfc3339(target), form
    west = (target - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%f") + "-01:00"
    response = await client.post(SCHEDULE, json=body(channel, west), headers=member.headers)
    assert response.json()["scheduled_for"] == rfc3339(target)  # 1 h earlier, 1 h west


async def test_checks_in_order(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Membership, then the time (parse, future, 30 days), then ciphertext/nonce presence and
    sizes, then the per-user limit, then the preview: each refusal is the first failing check,
    with the original's text."""
    owner, member, channel = await room(ctx)
    outsider = await make_user(ctx)
    h = member.headers
    now = ctx.clock.now()

    async def post(user: TestUser, **fields: Any) -> tuple[int, str]:
        return error(
            await client.post(
                SCHEDULE, json=body(channel, when(ctx)) | fields, headers=user.headers
            )
        )

    # not a member: 403 before anything about the body
    assert await post(outsider, scheduled_for="nonsense", ciphertext="") == (403, "forbidden")
    assert await post(member, scheduled_for="nonsense", ciphertext="") == (
        400,
        "invalid scheduled_for datetime",
    )
    assert await post(member, scheduled_for=rfc3339(now), ciphertext="") == (
        400,
        "scheduled_for must be in the future",
    )
    assert await post(member, scheduled_for=rfc3339(now - timedelta(days=1))) == (
        400,
        "scheduled_for must be in the future",
    )
    thirty = now + timedelta(days=30)
    assert await post(
        member, scheduled_for=rfc3339(thirty + timedelta(microseconds=1)), nonce=""
    ) == (
        400,
        "cannot schedule more than 30 days ahead",
    )
    assert await post(member, scheduled_for="9999-12-31T23:59:59-23:59") == (
        400,
        "cannot schedule more than 30 days ahead",
    )
    assert await post(member, scheduled_for="0000-01-01T00:00:00Z") == (
        400,
        "scheduled_for must be in the future",
    )
    required = (400, "ciphertext and nonce are required")
    assert await post(member, ciphertext="", nonce="x" * 300) == required
    assert await post(member, nonce="", ciphertext="x" * 200_000) == required
    assert await post(member, ciphertext="é" * 50_001, nonce="x" * 300) == (
        400,
        "ciphertext too large (max 100 KB)",
    )
    assert await post(member, nonce="é" * 129) == (400, "nonce too large (max 256 bytes)")
    assert await post(member, content_preview="é" * 5_001) == (
        400,
        "content_preview too large (max 10 KB)",
    )
    # the limits themselves are allowed
    ok = await client.post(
        SCHEDULE,
        json=body(
            channel,
            rfc3339(thirty),
            ciphertext="é" * 50_000,
            nonce="é" * 128,
            content_preview="é" * 5_000,
        ),
        headers=h,
    )
    assert ok.status_code == 200, ok.text
    await fill_up(ctx, member.id, channel, 49)
    limit = (400, "cannot have more than 50 scheduled messages")
    assert await post(member, content_preview="é" * 5_001) == limit
    assert await post(member, ciphertext="", nonce="") == required  # checked before the limit
    count = await sql(ctx, "SELECT count(*) FROM scheduled_messages WHERE user_id = $1", member.id)
    assert count[0][0] == 50
    # the limit is per user: the channel's owner may still schedule
    assert (
        await client.post(SCHEDULE, json=body(channel, when(ctx)), headers=owner.headers)
    ).status_code == 200


@pytest.mark.parametrize(
    "value",
    [
        "",
        "tomorrow",
        "2026-01-01",
        "2026-01-01T00:00:00",  # no offset
        "2026-01-01T00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-01-01T24:00:00Z",
        "2026-01-01T00:00:00+24:00",
        "2026-01-01T00:00:00.Z",
        "2026-01-01T00:00:00Z ",
        "20260101T000000Z",
        "2026-W01-1T00:00:00Z",
        "١٢٣٤-01-01T00:00:00Z",  # non-ASCII digits
    ],
)
async def test_unparseable_scheduled_for(ctx: Ctx, client: httpx.AsyncClient, value: str) -> None:
    _, member, channel = await room(ctx)
    response = await client.post(SCHEDULE, json=body(channel, value), headers=member.headers)
    assert error(response) == (400, "invalid scheduled_for datetime")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"channel_id": "nope"}, "invalid channel_id"),
        ({"channel_id": 5}, "channel_id: Expected `str`, got `int`"),
        ({"ciphertext": [104, 105]}, "ciphertext: Expected `str`, got `array`"),
        ({"nonce": None}, "nonce: Expected `str`, got `null`"),
        ({"scheduled_for": 1767225600}, "scheduled_for: Expected `str`, got `int`"),
        ({"content_preview": 3}, "content_preview: Expected `str | null`, got `int`"),
        ({"ciphertext": "a\u0000b"}, "ciphertext must not contain the NUL character (\\u0000)"),
    ],
)
async def test_bad_fields(
    ctx: Ctx, client: httpx.AsyncClient, fields: dict[str, Any], message: str
) -> None:
    """Every field of the wrong type or form is a 400 naming it; nothing is stored."""
    _, member, channel = await room(ctx)
    response = await client.post(
        SCHEDULE, json=body(channel, when(ctx)) | fields, headers=member.headers
    )
    assert error(response) == (400, message)
    assert (await client.get(LIST, headers=member.headers)).json() == []


@pytest.mark.parametrize("missing", ["channel_id", "ciphertext", "nonce", "scheduled_for"])
async def test_missing_fields(ctx: Ctx, client: httpx.AsyncClient, missing: str) -> None:
    _, member, channel = await room(ctx)
    sent = body(channel, when(ctx))
    del sent[missing]
    response = await client.post(SCHEDULE, json=sent, headers=member.headers)
    assert error(response) == (400, f"{missing} is required")


async def test_no_body_or_not_an_object(ctx: Ctx, client: httpx.AsyncClient) -> None:
    _, member, _ = await room(ctx)
    for content in (b"", b"[]", b"null", b"{"):
        response = await client.post(
            SCHEDULE,
            content=content,
            headers=member.headers | {"content-type": "application/json"},
        )
        assert response.status_code == 400, (content, response.text)
        assert response.json()["error"]["code"] == "validation_error"


async def test_preview_null_is_absent(ctx: Ctx, client: httpx.AsyncClient) -> None:
    _, member, channel = await room(ctx)
    response = await client.post(
        SCHEDULE, json=body(channel, when(ctx), content_preview=None), headers=member.headers
    )
    assert response.status_code == 200
    assert "content_preview" not in response.json()


async def test_who_may_schedule(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Members (a timed-out one too: the timeout is checked at delivery) and DM members; not
    outsiders, instance staff who are not members, users banned from the channel, or anyone
    for a channel that does not exist."""
    owner, member, channel = await room(ctx)
    timed, banned = await make_user(ctx), await make_user(ctx)
    await add_channel_member(ctx, channel, timed.id)
    await time_out(ctx, channel, timed.id)
    await add_channel_member(ctx, channel, banned.id)
    await sql(
        ctx,
        "INSERT INTO channel_bans (channel_id, user_id, banned_by) VALUES ($1, $2, $3)",
        channel,
        banned.id,
        owner.id,
    )
    staff = await make_user(ctx, is_admin=True, is_owner=True)
    outsider = await make_user(ctx)
    for user in (owner, member, timed):
        response = await client.post(SCHEDULE, json=body(channel, when(ctx)), headers=user.headers)
        assert response.status_code == 200, response.text
    for user in (banned, staff, outsider):
        response = await client.post(SCHEDULE, json=body(channel, when(ctx)), headers=user.headers)
        assert error(response) == (403, "forbidden")
    response = await client.post(
        SCHEDULE, json=body(uuid.uuid4(), when(ctx)), headers=member.headers
    )
    assert error(response) == (403, "forbidden")
    assert (await client.post(SCHEDULE, json=body(channel, when(ctx)))).status_code == 401


async def test_cancel_only_own(ctx: Ctx, client: httpx.AsyncClient) -> None:
    owner, member, channel = await room(ctx)
    created = await client.post(SCHEDULE, json=body(channel, when(ctx)), headers=member.headers)
    scheduled_id = created.json()["id"]
    missing = (404, "scheduled message not found")
    assert error(await client.delete(f"{LIST}/{scheduled_id}", headers=owner.headers)) == missing
    assert error(await client.delete(f"{LIST}/{uuid.uuid4()}", headers=member.headers)) == missing
    assert error(await client.delete(f"{LIST}/nope", headers=member.headers))[0] == 400
    assert len((await client.get(LIST, headers=member.headers)).json()) == 1
    simple = uuid.UUID(scheduled_id).hex  # the simple form is an id too
    assert (await client.delete(f"{LIST}/{simple}", headers=member.headers)).status_code == 200
    assert error(await client.delete(f"{LIST}/{scheduled_id}", headers=member.headers)) == missing


async def test_list_is_capped_at_200(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """More than 200 rows (only possible from before the limit, or by hand): the 200 soonest."""
    _, member, channel = await room(ctx)
    await fill_up(ctx, member.id, channel, 205)
    listed = (await client.get(LIST, headers=member.headers)).json()
    assert len(listed) == 200
    times = [datetime.fromisoformat(r["scheduled_for"]) for r in listed]
    assert times == sorted(times)
    assert times[0] == ctx.clock.now() + timedelta(hours=1)
    assert times[-1] == ctx.clock.now() + timedelta(hours=1, seconds=199)


# -- the per-user limit under concurrent requests (a real pool, real commits) ----------------


@pytest.fixture
async def pooled(
    pg: PgServer, fresh_db: str, settings: Settings, passwords: PasswordHasher, jwt_keys: JwtKeys
) -> AsyncIterator[tuple[Ctx, httpx.AsyncClient]]:
    pool = await open_pool(pg.url(fresh_db), PoolSettings(max_connections=12, min_connections=2))
    ctx = build_ctx(
        Database(pool, acquire_timeout=10), settings, passwords, jwt_keys, clock=SystemClock()
    )
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=30) as client:
        yield ctx, client
    await pool.close()


async def test_concurrent_schedules_stop_at_50(pooled: tuple[Ctx, httpx.AsyncClient]) -> None:
    """At 45, ten requests at once: exactly five succeed, five get the limit's 400."""
    ctx, client = pooled
    _, member, channel = await room(ctx)
    await fill_up(ctx, member.id, channel, 45)
    responses = await asyncio.gather(
        *(
            client.post(SCHEDULE, json=body(channel, when(ctx)), headers=member.headers)
            for _ in range(10)
        )
    )
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 5, 400: 5}, [r.text for r in responses]
    for r in responses:
        if r.status_code == 400:
            assert r.json()["error"]["message"] == "cannot have more than 50 scheduled messages"
    count = await sql(ctx, "SELECT count(*) FROM scheduled_messages WHERE user_id = $1", member.id)
    assert count[0][0] == 50
