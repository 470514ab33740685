"""The scheduled-message delivery job (services/scheduled_delivery.py): a due row becomes a
normal text message and a ``new_message``, every drop rule of the original, insert failures
(kept, or dropped once 5 minutes overdue), batches, a run that fails before its commit, and
two runs at once on two connections delivering each row exactly once."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from chatalot.clock import FakeClock, SystemClock
from chatalot.config import ConfigError, PoolSettings, Settings
from chatalot.context import Ctx
from chatalot.db.database import Database
from chatalot.db.pool import open_pool
from chatalot.ids import ChannelId, UserId, uuid7
from chatalot.protocol import events
from chatalot.protocol.time import rfc3339
from chatalot.repositories.scheduled_messages import DueRow
from chatalot.security.passwords import PasswordHasher
from chatalot.security.tokens import JwtKeys
from chatalot.services.audience import ChannelSubscribers, Users
from chatalot.services.scheduled_delivery import decode_bytes, deliver_scheduled_messages
from tests.conftest import RecordingSink, build_ctx, make_settings
from tests.support.auth import TestUser, make_user
from tests.support.pg import PgServer
from tests.support.spaces import (
    add_channel_member,
    add_community_member,
    make_channel,
    make_community,
    room,
    sql,
    time_out,
)


async def schedule(
    ctx: Ctx,
    user: UserId,
    channel: ChannelId,
    *,
    due_in: float = -1,
    ciphertext: str = "[104,105]",
    nonce: str = "[1,2,3]",
) -> uuid.UUID:
    """A scheduled row due ``due_in`` seconds from the clock's now (negative: already due)."""
    scheduled_id = uuid7()
    await sql(
        ctx,
        "INSERT INTO scheduled_messages (id, channel_id, user_id, ciphertext, nonce,"
        " scheduled_for) VALUES ($1, $2, $3, $4, $5, $6)",
        scheduled_id,
        channel,
        user,
        ciphertext,
        nonce,
        ctx.clock.now() + timedelta(seconds=due_in),
    )
    return scheduled_id


async def remaining(ctx: Ctx) -> set[uuid.UUID]:
    return {r["id"] for r in await sql(ctx, "SELECT id FROM scheduled_messages")}


async def messages_in(ctx: Ctx, channel: ChannelId) -> list[Any]:
    return list(
        await sql(
            ctx,
            "SELECT * FROM messages WHERE channel_id = $1 ORDER BY created_at, id",
            channel,
        )
    )


async def dm(ctx: Ctx) -> tuple[TestUser, TestUser, ChannelId]:
    """A DM between two users who share a community (and no message yet)."""
    a, b = await make_user(ctx), await make_user(ctx)
    community = await make_community(ctx, a.id)
    await add_community_member(ctx, community, b.id)
    channel = await make_channel(ctx, None, None, name=None, channel_type="dm")
    await add_channel_member(ctx, channel, a.id)
    await add_channel_member(ctx, channel, b.id)
    return a, b, channel


async def test_a_due_message_is_delivered(ctx: Ctx, sink: RecordingSink) -> None:
    """A text message with a new UUIDv7 id, the decoded bytes, the author as sender, created
    now, the channel's TTL and the search columns; the row is gone; new_message goes to the
    channel's subscribers after commit. Rows not due yet stay."""
    assert isinstance(ctx.clock, FakeClock)
    _, member, channel = await room(ctx)
    await sql(ctx, "UPDATE channels SET message_ttl_seconds = 600 WHERE id = $1", channel)
    due = await schedule(ctx, member.id, channel, due_in=-30)
    later = await schedule(ctx, member.id, channel, due_in=30)
    sink.published.clear()
    report = await deliver_scheduled_messages(ctx)
    [stored] = await messages_in(ctx, channel)
    assert report.delivered == [stored["id"]] and report.dropped == 0 and report.kept == []
    assert stored["id"] != due and stored["id"].version == 7
    assert stored["sender_id"] == member.id
    assert stored["ciphertext"] == b"hi" and stored["nonce"] == b"\x01\x02\x03"
    assert stored["message_type"] == "text"
    assert stored["reply_to_id"] is None and stored["thread_id"] is None
    assert stored["sender_key_id"] is None
    now = ctx.clock.now()
    assert stored["created_at"] == now
    assert stored["expires_at"] == now + timedelta(seconds=600)
    assert stored["search_text"] == "hi" and stored["search_config"] == "simple"
    assert await remaining(ctx) == {later}
    [emitted] = sink.published
    assert emitted.audience == ChannelSubscribers(channel)
    assert emitted.event == events.NewMessage(
        id=str(stored["id"]),
        channel_id=str(channel),
        sender_id=str(member.id),
        ciphertext=[104, 105],
        nonce=[1, 2, 3],
        message_type="text",
        reply_to=None,
        sender_key_id=None,
        created_at=rfc3339(now),
    )
    # nothing more is due: a second run does nothing
    sink.published.clear()
    assert (await deliver_scheduled_messages(ctx)).delivered == []
    assert sink.published == []
    ctx.clock.advance(31)
    assert len((await deliver_scheduled_messages(ctx)).delivered) == 1
    assert await remaining(ctx) == set()


def test_decoding_the_stored_strings() -> None:
    """A JSON array of 0-255 integers is its bytes; anything else is the string's UTF-8."""
    assert decode_bytes("[104, 105]") == b"hi"
    assert decode_bytes(" [0,255] ") == b"\x00\xff"
    assert decode_bytes("[]") == b""
    assert decode_bytes("hello") == b"hello"
    assert decode_bytes("[256]") == b"[256]"
    assert decode_bytes("[-1]") == b"[-1]"
    assert decode_bytes("[1.0]") == b"[1.0]"
    assert decode_bytes("[true]") == b"[true]"
    assert decode_bytes('{"v":1}') == b'{"v":1}'
    assert decode_bytes("é") == "é".encode()


async def test_a_wire_message_is_not_indexed(ctx: Ctx) -> None:
    """An end-to-end encrypted payload is stored as sent and marked not indexable, as a
    WebSocket send would."""
    _, member, channel = await room(ctx)
    payload = '{"v":1,"header":{"dh":"AAAA"},"ciphertext":"BBBB"}'
    await schedule(ctx, member.id, channel, ciphertext=str(list(payload.encode())))
    await deliver_scheduled_messages(ctx)
    [stored] = await messages_in(ctx, channel)
    assert stored["ciphertext"] == payload.encode()
    assert stored["search_text"] is None and stored["search_config"] == ""


async def _block(ctx: Ctx, blocker: UserId, blocked: UserId) -> None:
    await sql(
        ctx, "INSERT INTO user_blocks (blocker_id, blocked_id) VALUES ($1, $2)", blocker, blocked
    )


DROPS = [
    "suspended",
    "suspended_elsewhere",
    "not_a_member",
    "banned",
    "archived",
    "read_only",
    "timed_out",
    "dm_blocked_by_author",
    "dm_blocked_by_peer",
    "dm_no_shared_community",
]
REASONS = {
    "suspended": "user is suspended",
    "suspended_elsewhere": "user is suspended",
    "not_a_member": "user no longer a member",
    "banned": "user no longer a member",
}


async def _apply(ctx: Ctx, rule: str, author: TestUser, peer: TestUser, channel: ChannelId) -> None:
    """Makes ``rule`` hold for ``author``'s scheduled message."""
    if rule == "suspended":
        await sql(ctx, "UPDATE users SET suspended_at = now() WHERE id = $1", author.id)
        ctx.suspensions.mark(author.id, True)
    elif rule == "suspended_elsewhere":  # by another process: only the database knows yet
        await sql(ctx, "UPDATE users SET suspended_at = now() WHERE id = $1", author.id)
    elif rule == "not_a_member":
        await sql(ctx, "DELETE FROM channel_members WHERE user_id = $1", author.id)
    elif rule == "banned":
        await sql(
            ctx,
            "INSERT INTO channel_bans (channel_id, user_id) VALUES ($1, $2)",
            channel,
            author.id,
        )
    elif rule in ("archived", "read_only"):
        await sql(ctx, f"UPDATE channels SET {rule} = true WHERE id = $1", channel)
    elif rule == "timed_out":
        await time_out(ctx, channel, author.id)
    elif rule == "dm_blocked_by_author":
        await _block(ctx, author.id, peer.id)
    elif rule == "dm_blocked_by_peer":
        await _block(ctx, peer.id, author.id)
    elif rule == "dm_no_shared_community":
        await sql(ctx, "DELETE FROM community_members WHERE user_id = $1", peer.id)


@pytest.mark.parametrize("rule", DROPS)
async def test_drop_rules(
    ctx: Ctx, sink: RecordingSink, caplog: pytest.LogCaptureFixture, rule: str
) -> None:
    """Each rule deletes the row without a message or an event, with the spec's INFO line;
    the channel's owner (a moderator and more) has no exemption from archived / read-only.
    Another author's message in the same run is still delivered."""
    if rule.startswith("dm_"):
        author, peer, channel = await dm(ctx)
    else:
        peer, author, channel = await room(ctx)
    if rule in ("archived", "read_only"):
        author = peer  # the channel's owner
    dropped = await schedule(ctx, author.id, channel)
    fine = await schedule(ctx, peer.id, channel)
    await _apply(ctx, rule, author, peer, channel)
    sink.published.clear()
    with caplog.at_level(logging.INFO, logger="chatalot_server"):
        report = await deliver_scheduled_messages(ctx)
    shared = rule in ("archived", "read_only") or rule.startswith("dm_")  # hits both messages
    assert report.dropped == (2 if shared else 1)
    assert await remaining(ctx) == set()
    senders = [m["sender_id"] for m in await messages_in(ctx, channel)]
    assert senders == ([] if shared else [peer.id])
    assert author.id not in senders
    reason = REASONS.get(rule, "channel restricted or user blocked/timed out")
    lines = [r.getMessage() for r in caplog.records]
    assert f"Dropping scheduled message {dropped}: {reason}" in lines
    assert not any(str(fine) in line for line in lines if rule in REASONS)
    assert all(e.event.sender_id != str(author.id) for e in sink.published)  # type: ignore[attr-defined]


async def test_expired_timeouts_and_other_channels_do_not_drop(ctx: Ctx) -> None:
    """A timeout that has ended, or one in another channel, a block between other users, a
    slow-mode channel: delivered."""
    owner, member, channel = await room(ctx)
    elsewhere = await make_channel(ctx, None, owner.id)
    await add_channel_member(ctx, elsewhere, member.id)
    await time_out(ctx, elsewhere, member.id)
    await time_out(ctx, channel, member.id, until=ctx.clock.now() - timedelta(seconds=1))
    await _block(ctx, owner.id, member.id)  # not a DM: blocks do not matter
    await sql(ctx, "UPDATE channels SET slow_mode_seconds = 3600 WHERE id = $1", channel)
    await schedule(ctx, member.id, channel)
    await schedule(ctx, member.id, channel)
    assert len((await deliver_scheduled_messages(ctx)).delivered) == 2


async def test_dm_delivery(ctx: Ctx, sink: RecordingSink) -> None:
    """In a DM new_message goes to every session of both members; on the DM's first message
    the peer gets new_dm_channel (the author's details) first; not on later ones."""
    author, peer, channel = await dm(ctx)
    await schedule(ctx, author.id, channel, due_in=-2)
    sink.published.clear()
    await deliver_scheduled_messages(ctx)
    [stored] = await messages_in(ctx, channel)
    first, second = sink.published
    assert first.audience == Users.of([peer.id])
    assert isinstance(first.event, events.NewDmChannel)
    assert first.event.other_user_id == str(author.id)
    assert first.event.other_user_username == author.row.username
    assert first.event.channel_id == str(channel)
    assert second.audience == Users.of([peer.id, author.id])
    assert isinstance(second.event, events.NewMessage)
    assert second.event.id == str(stored["id"])
    await schedule(ctx, peer.id, channel)
    sink.published.clear()
    await deliver_scheduled_messages(ctx)
    [only] = sink.published
    assert isinstance(only.event, events.NewMessage)
    assert only.event.sender_id == str(peer.id)
    assert only.audience == Users.of([peer.id, author.id])


async def _fail_inserts_of(ctx: Ctx, ciphertext: bytes) -> None:
    """Inserting a message with this ciphertext fails (a trigger, rolled back with the test)."""
    await sql(
        ctx,
        """
        CREATE FUNCTION pg_temp.refuse_message() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.ciphertext = '\\x%s'::bytea THEN
                RAISE EXCEPTION 'refused by the test';
            END IF;
            RETURN NEW;
        END $$
        """.replace("%s", ciphertext.hex()),
    )
    await sql(
        ctx,
        "CREATE TRIGGER refuse_message BEFORE INSERT ON messages"
        " FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse_message()",
    )


async def test_a_failed_insert_is_kept_then_dropped(
    ctx: Ctx, sink: RecordingSink, caplog: pytest.LogCaptureFixture
) -> None:
    """The failing row stays (WARN) while less than 5 minutes overdue and is not retried in the
    same run; the rest of the batch is delivered; once more than 5 minutes overdue it is
    dropped (WARN)."""
    assert isinstance(ctx.clock, FakeClock)
    _, member, channel = await room(ctx)
    await _fail_inserts_of(ctx, b"bad")
    failing = await schedule(ctx, member.id, channel, ciphertext="bad", due_in=-10)
    await schedule(ctx, member.id, channel, due_in=-5)
    await schedule(ctx, member.id, channel, due_in=-1)
    sink.published.clear()
    with caplog.at_level(logging.INFO, logger="chatalot_server"):
        report = await deliver_scheduled_messages(ctx, batch_size=1)
    assert len(report.delivered) == 2 and report.kept == [failing] and report.dropped == 0
    assert len(sink.published) == 2
    assert await remaining(ctx) == {failing}
    lines = [r.getMessage() for r in caplog.records]
    assert any(
        line.startswith(f"Failed to deliver scheduled message {failing}: ") for line in lines
    )
    ctx.clock.advance(280)  # 4 min 50 s overdue: kept
    assert (await deliver_scheduled_messages(ctx)).kept == [failing]
    caplog.clear()
    ctx.clock.advance(11)
    with caplog.at_level(logging.INFO, logger="chatalot_server"):
        report = await deliver_scheduled_messages(ctx)
    assert report.dropped == 1 and report.delivered == []
    assert await remaining(ctx) == set()
    assert f"Dropping undeliverable scheduled message {failing} (overdue by >5min)" in [
        r.getMessage() for r in caplog.records
    ]
    assert len(await messages_in(ctx, channel)) == 2


async def test_batches_in_order(ctx: Ctx, sink: RecordingSink) -> None:
    """More due rows than a batch: all delivered in one run, oldest first."""
    _, member, channel = await room(ctx)
    for i in range(7):
        await schedule(ctx, member.id, channel, due_in=-100 + i, ciphertext=f"[{i}]")
    report = await deliver_scheduled_messages(ctx, batch_size=3)
    assert len(report.delivered) == 7
    stored = {m["id"]: m["ciphertext"] for m in await messages_in(ctx, channel)}
    assert [stored[i] for i in report.delivered] == [bytes([i]) for i in range(7)]


async def test_a_run_that_fails_before_commit_loses_nothing(
    ctx: Ctx, sink: RecordingSink, caplog: pytest.LogCaptureFixture
) -> None:
    """The process dies (here: an error) after storing the messages but before the commit:
    no message, no event, every row still there; the next run delivers them."""
    _, member, channel = await room(ctx)
    ids = {await schedule(ctx, member.id, channel) for _ in range(3)}

    async def crash(rows: list[DueRow]) -> None:
        assert len(rows) == 3
        raise ConnectionResetError("the process died")

    sink.published.clear()
    with caplog.at_level(logging.WARNING, logger="chatalot_server"):
        report = await deliver_scheduled_messages(ctx, before_commit=crash)
    assert report.delivered == []
    assert "Failed to query due scheduled messages: the process died" in [
        r.getMessage() for r in caplog.records
    ]
    assert await messages_in(ctx, channel) == []
    assert await remaining(ctx) == ids
    assert sink.published == []
    assert len((await deliver_scheduled_messages(ctx)).delivered) == 3


# -- several deliverers at once (a real pool, real commits) ---------------------------------


@pytest.fixture
async def pooled(
    pg: PgServer,
    fresh_db: str,
    settings: Settings,
    passwords: PasswordHasher,
    jwt_keys: JwtKeys,
) -> AsyncIterator[tuple[Ctx, Ctx]]:
    """Two contexts (two "processes") on one database, each with its own pool."""
    pools = [
        await open_pool(pg.url(fresh_db), PoolSettings(max_connections=4, min_connections=1))
        for _ in range(2)
    ]
    ctxs = [
        build_ctx(
            Database(pool, acquire_timeout=10), settings, passwords, jwt_keys, clock=SystemClock()
        )
        for pool in pools
    ]
    yield ctxs[0], ctxs[1]
    for pool in pools:
        try:
            await asyncio.wait_for(pool.close(), 10)
        except TimeoutError:  # a connection stuck in a failed test
            pool.terminate()


async def _many_due(ctx: Ctx, count: int) -> ChannelId:
    """``count`` due rows, each with a distinct ciphertext."""
    _, member, channel = await room(ctx)
    past = ctx.clock.now() - timedelta(seconds=1)
    await sql(
        ctx,
        "INSERT INTO scheduled_messages (id, channel_id, user_id, ciphertext, nonce,"
        " scheduled_for)"
        " SELECT gen_random_uuid(), $1, $2, format('[%s,%s]', i % 256, i / 256), '[1]',"
        " $3::timestamptz - make_interval(secs => i) FROM generate_series(1, $4) AS i",
        channel,
        member.id,
        past,
        count,
    )
    return channel


async def _assert_each_once(ctx: Ctx, channel: ChannelId, count: int) -> None:
    rows = await sql(
        ctx,
        "SELECT count(*) AS n, count(DISTINCT ciphertext) AS d FROM messages WHERE channel_id = $1",
        channel,
    )
    assert (rows[0]["n"], rows[0]["d"]) == (count, count)
    assert await remaining(ctx) == set()


async def test_a_claimed_batch_is_skipped_by_another_run(pooled: tuple[Ctx, Ctx]) -> None:
    """Run A holds its first batch (50 rows, not committed yet) while run B works: B delivers
    the other 150 and none of A's; A then commits its 50. Each row once."""
    a, b = pooled
    channel = await _many_due(a, 200)
    holding, release = asyncio.Event(), asyncio.Event()

    async def hold(rows: list[DueRow]) -> None:
        if not holding.is_set():
            holding.set()
            await release.wait()

    run_a = asyncio.create_task(deliver_scheduled_messages(a, batch_size=50, before_commit=hold))
    await asyncio.wait_for(holding.wait(), 10)
    report_b = await asyncio.wait_for(deliver_scheduled_messages(b, batch_size=50), 10)
    release.set()
    report_a = await asyncio.wait_for(run_a, 10)
    assert len(report_a.delivered) == 50 and len(report_b.delivered) == 150
    assert not set(report_a.delivered) & set(report_b.delivered)
    await _assert_each_once(a, channel, 200)


async def test_two_runs_at_once_deliver_each_row_once(pooled: tuple[Ctx, Ctx]) -> None:
    """Two runs started together, in small batches: 300 rows, 300 messages, no duplicate; both
    runs took part."""
    a, b = pooled
    channel = await _many_due(a, 300)
    reports = await asyncio.gather(
        deliver_scheduled_messages(a, batch_size=10), deliver_scheduled_messages(b, batch_size=10)
    )
    assert sum(len(r.delivered) for r in reports) == 300
    assert all(r.delivered for r in reports)
    await _assert_each_once(a, channel, 300)


def test_the_interval_setting() -> None:
    """CHATALOT_SCHEDULED_DELIVERY_INTERVAL_SECS: 5 s by default, 0.1-30 s."""
    assert make_settings().scheduled_delivery_interval_secs == 5.0
    setting = "CHATALOT_SCHEDULED_DELIVERY_INTERVAL_SECS"
    assert make_settings(**{setting: "0.5"}).scheduled_delivery_interval_secs == 0.5
    assert make_settings(**{setting: "30"}).redacted()[setting] == "30"
    for bad in ("0", "0.05", "30.5", "soon", "nan"):
        with pytest.raises(ConfigError, match=setting):
            make_settings(**{setting: bad})
