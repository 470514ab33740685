"""Web Push delivery against a local push service that decrypts what it receives with the
subscription's private key and checks the VAPID JWT: DM and mention notifications, presence,
bookkeeping (success, 404/410, other failures), outbound address checks, the hourly clean-up."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from chatalot.clock import FakeClock
from chatalot.config import Settings
from chatalot.context import Ctx
from chatalot.db.database import Database
from chatalot.ids import ChannelId, UserId, uuid7
from chatalot.realtime.hub import Hub
from chatalot.realtime.redis_state import RedisLiveState
from chatalot.repositories import push as push_repo
from chatalot.security.passwords import PasswordHasher
from chatalot.security.tokens import JwtKeys
from chatalot.services import push as push_service
from chatalot.services.actor import Actor
from chatalot.services.maintenance import hourly_cleanup
from chatalot.services.messages import SendRequest, send_message
from chatalot.services.push_delivery import PushDelivery
from tests.conftest import RecordingSink, build_ctx, settings_in
from tests.support.auth import TestUser, make_user
from tests.support.spaces import (
    add_channel_member,
    add_community_member,
    make_channel,
    make_community,
)
from tests.support.webpush import (
    BrowserKeys,
    PushService,
    browser_keys,
    check_vapid,
    decrypt,
    vapid_pair,
)
from tests.support.webpush import (
    push_service as running_push_service,
)

VAPID = vapid_pair()
SECRET_TEXT = b"the launch code is 0000"


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    overrides: dict[str, str] = getattr(request, "param", VAPID.env)
    return settings_in(tmp_path, **overrides)


@pytest.fixture
def ctx(
    db_conn: Any,
    settings: Settings,
    sink: RecordingSink,
    passwords: PasswordHasher,
    jwt_keys: JwtKeys,
) -> Ctx:
    """The test context with a short push timeout (the timeout test waits for it)."""
    db = Database.single_connection(db_conn, sink=sink)
    return build_ctx(db, settings, passwords, jwt_keys, push=PushDelivery(settings, timeout=1.0))


@pytest.fixture
async def service(ctx: Ctx) -> AsyncIterator[PushService]:
    async with running_push_service() as running:
        yield running
    await ctx.push.drain()
    await ctx.push.close()


def actor(user: TestUser) -> Actor:
    return Actor(user_id=user.id, username=user.row.username, is_admin=False, is_owner=False)


def clock(ctx: Ctx) -> FakeClock:
    assert isinstance(ctx.clock, FakeClock)
    return ctx.clock


async def subscribe(ctx: Ctx, user: TestUser, endpoint: str) -> BrowserKeys:
    keys = browser_keys()
    await push_service.subscribe(
        ctx, actor(user), endpoint=endpoint, p256dh_key=keys.p256dh, auth_key=keys.auth_key
    )
    return keys


async def subscription(ctx: Ctx, user: TestUser) -> push_repo.PushSubscriptionRow | None:
    async with ctx.db.connection() as conn:
        rows = await push_repo.list_subscriptions(conn, [user.id])
    assert len(rows) <= 1
    return rows[0] if rows else None


async def dm_pair(ctx: Ctx) -> tuple[TestUser, TestUser, ChannelId]:
    alice = await make_user(ctx)
    bob = await make_user(ctx)
    community = await make_community(ctx, alice.id)
    await add_community_member(ctx, community, bob.id)
    dm = await make_channel(ctx, None, None, name=None, channel_type="dm")
    await add_channel_member(ctx, dm, alice.id)
    await add_channel_member(ctx, dm, bob.id)
    return alice, bob, dm


async def send(ctx: Ctx, sender: TestUser, channel: ChannelId, text: bytes = SECRET_TEXT) -> None:
    await send_message(
        ctx,
        actor(sender),
        SendRequest(channel_id=channel, ciphertext=text, nonce=b"\x01" * 12, message_type="text"),
    )


# -- DMs --------------------------------------------------------------------------------------


async def test_dm_reaches_offline_recipient_without_content(ctx: Ctx, service: PushService) -> None:
    alice, bob, dm = await dm_pair(ctx)
    keys = await subscribe(ctx, bob, service.endpoint("bob"))
    await subscribe(ctx, alice, service.endpoint("alice"))  # the sender is never notified
    clock(ctx).advance(60)
    await send(ctx, alice, dm)
    await ctx.push.drain()
    [received] = service.received
    assert received.path == "/push/bob"
    assert decrypt(received, keys) == {
        "notification_type": "dm",
        "sender_name": alice.row.display_name,
        "channel_id": str(dm),
        "channel_name": "Direct Message",
    }
    assert SECRET_TEXT not in received.body
    check_vapid(received, VAPID, audience=service.origin, subject="mailto:admin@localhost")
    assert received.headers["ttl"] == "86400"
    assert received.headers["content-type"] == "application/octet-stream"
    row = await subscription(ctx, bob)
    assert row is not None
    assert row.last_used == ctx.clock.now() and row.failure_count == 0


async def test_the_test_service_really_checks(ctx: Ctx, service: PushService) -> None:
    """Decrypting with other keys, or checking against another VAPID key, fails."""
    alice, bob, dm = await dm_pair(ctx)
    await subscribe(ctx, bob, service.endpoint("bob"))
    await send(ctx, alice, dm)
    await ctx.push.drain()
    [received] = service.received
    with pytest.raises(Exception, match="Decryption error"):
        decrypt(received, browser_keys())
    with pytest.raises(AssertionError):
        check_vapid(
            received, vapid_pair(), audience=service.origin, subject="mailto:admin@localhost"
        )


@pytest.mark.parametrize(
    "settings", [{**VAPID.env, "PUBLIC_URL": "https://chat.example.org"}], indirect=True
)
async def test_vapid_subject_is_public_url(ctx: Ctx, service: PushService) -> None:
    alice, bob, dm = await dm_pair(ctx)
    await subscribe(ctx, bob, service.endpoint("bob"))
    await send(ctx, alice, dm)
    await ctx.push.drain()
    [received] = service.received
    check_vapid(received, VAPID, audience=service.origin, subject="https://chat.example.org")


async def test_every_subscription_of_the_recipient(ctx: Ctx, service: PushService) -> None:
    alice, bob, dm = await dm_pair(ctx)
    phone = await subscribe(ctx, bob, service.endpoint("phone"))
    laptop = await subscribe(ctx, bob, service.endpoint("laptop"))
    await send(ctx, alice, dm)
    await ctx.push.drain()
    assert decrypt(service.for_endpoint("phone")[0], phone)["notification_type"] == "dm"
    assert decrypt(service.for_endpoint("laptop")[0], laptop)["notification_type"] == "dm"


async def test_no_push_when_online_on_another_process(
    ctx: Ctx, service: PushService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Presence is cluster-wide: a session on another server process counts."""
    alice, bob, dm = await dm_pair(ctx)
    await subscribe(ctx, bob, service.endpoint("bob"))

    async def elsewhere(user_id: UserId) -> int:
        return 1 if user_id == bob.id else 0

    monkeypatch.setattr(ctx.broker.state, "sessions_elsewhere", elsewhere)
    await send(ctx, alice, dm)
    await ctx.push.drain()
    assert service.received == []


async def test_presence_state_down_falls_back_to_this_process(
    ctx: Ctx, service: PushService, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob, dm = await dm_pair(ctx)
    await subscribe(ctx, bob, service.endpoint("bob"))

    async def unreachable(user_id: UserId) -> int:
        raise ConnectionError("redis is down")

    monkeypatch.setattr(ctx.broker.state, "sessions_elsewhere", unreachable)
    await send(ctx, alice, dm)
    await ctx.push.drain()
    assert len(service.received) == 1


async def test_sending_is_not_delayed_by_the_push(ctx: Ctx, service: PushService) -> None:
    """The push service answering slowly does not hold up send_message (nor message_sent)."""
    alice, bob, dm = await dm_pair(ctx)
    await subscribe(ctx, bob, service.endpoint("bob"))
    service.delay = 0.8
    stored: list[float] = []
    started = time.monotonic()
    await send_message(
        ctx,
        actor(alice),
        SendRequest(channel_id=dm, ciphertext=b"x", nonce=b"\x01", message_type="text"),
        on_stored=lambda _row: stored.append(time.monotonic()),
    )
    assert time.monotonic() - started < 0.5
    assert stored and service.received == []  # not even arrived yet
    await ctx.push.drain()
    assert len(service.received) == 1


@pytest.mark.parametrize("settings", [{}], indirect=True)
async def test_nothing_when_push_is_off(ctx: Ctx, service: PushService) -> None:
    alice, bob, dm = await dm_pair(ctx)
    async with ctx.db.transaction("seed") as tx:
        keys = browser_keys()
        await push_repo.upsert_subscription(
            tx.conn,
            subscription_id=uuid7(),
            user_id=bob.id,
            endpoint=service.endpoint("bob"),
            p256dh_key=keys.p256dh,
            auth_key=keys.auth_key,
            now=ctx.clock.now(),
        )
    await send(ctx, alice, dm)
    await ctx.push.drain()
    assert service.received == []


# -- bookkeeping ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 410])
async def test_gone_subscription_is_deleted(
    ctx: Ctx, service: PushService, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    alice, bob, dm = await dm_pair(ctx)
    await subscribe(ctx, bob, service.endpoint("bob"))
    row = await subscription(ctx, bob)
    assert row is not None
    service.status["bob"] = status
    caplog.set_level(logging.INFO)
    await send(ctx, alice, dm)
    await ctx.push.drain()
    assert len(service.received) == 1
    assert await subscription(ctx, bob) is None
    assert f"Removing expired push subscription {row.id}" in caplog.text


@pytest.mark.parametrize("status", [500, 503, 429, 400, 413, 301])
async def test_failure_counts_then_success_resets(
    ctx: Ctx, service: PushService, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    alice, bob, dm = await dm_pair(ctx)
    await subscribe(ctx, bob, service.endpoint("bob"))
    service.status["bob"] = status
    for expected in (1, 2):
        await send(ctx, alice, dm)
        await ctx.push.drain()
        row = await subscription(ctx, bob)
        assert row is not None and row.failure_count == expected and row.last_used is None
    assert f"Push delivery failed for {row.id}: push service answered {status}" in caplog.text
    del service.status["bob"]
    await send(ctx, alice, dm)
    await ctx.push.drain()
    row = await subscription(ctx, bob)
    assert row is not None and row.failure_count == 0 and row.last_used == ctx.clock.now()


async def test_timeout_counts_as_failure(ctx: Ctx, service: PushService) -> None:
    alice, bob, dm = await dm_pair(ctx)
    await subscribe(ctx, bob, service.endpoint("bob"))
    service.delay = 3.0  # the context's push timeout is 1 s
    started = time.monotonic()
    await send(ctx, alice, dm)
    await ctx.push.drain()
    assert time.monotonic() - started < 2.5
    row = await subscription(ctx, bob)
    assert row is not None and row.failure_count == 1


async def _insert(ctx: Ctx, user: TestUser, endpoint: str, keys: BrowserKeys | None = None) -> None:
    keys = keys or browser_keys()
    async with ctx.db.transaction("seed") as tx:
        await push_repo.upsert_subscription(
            tx.conn,
            subscription_id=uuid7(),
            user_id=user.id,
            endpoint=endpoint,
            p256dh_key=keys.p256dh,
            auth_key=keys.auth_key,
            now=ctx.clock.now(),
        )


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://localhost:{port}/push/bob",
        "https://127.0.0.2:{port}/push/bob",
        "https://[::1]:{port}/push/bob",
        "http://push.example.com/push/bob",
    ],
)
async def test_stored_endpoint_to_internal_address_is_never_contacted(
    ctx: Ctx, service: PushService, endpoint: str
) -> None:
    """Rows that bypassed the subscribe checks (older data) are checked again when sending."""
    alice, bob, dm = await dm_pair(ctx)
    await _insert(ctx, bob, endpoint.format(port=service.port))
    await send(ctx, alice, dm)
    await ctx.push.drain()
    assert service.received == []
    row = await subscription(ctx, bob)
    assert row is not None and row.failure_count == 1


async def test_unusable_keys_delete_the_subscription(ctx: Ctx, service: PushService) -> None:
    alice, bob, dm = await dm_pair(ctx)
    async with ctx.db.transaction("seed") as tx:
        await push_repo.upsert_subscription(
            tx.conn,
            subscription_id=uuid7(),
            user_id=bob.id,
            endpoint=service.endpoint("bob"),
            p256dh_key="BAAA",
            auth_key="short",
            now=ctx.clock.now(),
        )
    await send(ctx, alice, dm)
    await ctx.push.drain()
    assert service.received == []
    assert await subscription(ctx, bob) is None


# -- mentions ---------------------------------------------------------------------------------


async def mention_setup(
    ctx: Ctx,
) -> tuple[TestUser, TestUser, TestUser, ChannelId, str]:
    alice = await make_user(ctx)
    bob = await make_user(ctx)
    carol = await make_user(ctx)
    community = await make_community(ctx, alice.id)
    channel = await make_channel(ctx, None, alice.id, name="launch-room")
    for user in (bob, carol):
        await add_community_member(ctx, community, user.id)
        await add_channel_member(ctx, channel, user.id)
    return alice, bob, carol, channel, "launch-room"


async def test_mention_notifies_mentioned_offline_member(ctx: Ctx, service: PushService) -> None:
    alice, bob, carol, channel, name = await mention_setup(ctx)
    bob_keys = await subscribe(ctx, bob, service.endpoint("bob"))
    await subscribe(ctx, carol, service.endpoint("carol"))
    await subscribe(ctx, alice, service.endpoint("alice"))
    text = f"hey @{bob.row.username.upper()}, and @{alice.row.username} and @nobody123".encode()
    await send(ctx, alice, channel, text)
    await ctx.push.drain()
    [received] = service.received  # not carol (not mentioned), not alice (the sender)
    assert received.path == "/push/bob"
    assert decrypt(received, bob_keys) == {
        "notification_type": "mention",
        "sender_name": alice.row.display_name,
        "channel_id": str(channel),
        "channel_name": name,
    }
    assert b"hey" not in received.body


async def test_mention_skips_blocks_non_members_and_encrypted(
    ctx: Ctx, service: PushService
) -> None:
    alice, bob, carol, channel, _ = await mention_setup(ctx)
    outsider = await make_user(ctx)
    for user in (bob, carol, outsider):
        await subscribe(ctx, user, service.endpoint(user.row.username))
    async with ctx.db.transaction("block") as tx:
        await tx.conn.execute(
            "INSERT INTO user_blocks (blocker_id, blocked_id) VALUES ($1, $2)", carol.id, alice.id
        )
    await send(ctx, alice, channel, f"@{carol.row.username} @{outsider.row.username}".encode())
    # an end-to-end encrypted message: the server cannot read it, so no mention
    wire = {"v": 1, "sk": True, "message": {"ciphertext": [1], "text": f"@{bob.row.username}"}}
    await send(ctx, alice, channel, json.dumps(wire).encode())
    await send(ctx, alice, channel, b"\xff\xfe@" + bob.row.username.encode())  # not UTF-8
    await send(ctx, alice, channel, f"mail me at x@{bob.row.username}".encode())  # not a mention
    await ctx.push.drain()
    assert service.received == []


# -- capacity ---------------------------------------------------------------------------------


async def test_pending_jobs_are_bounded(
    ctx: Ctx, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from chatalot.services import push_delivery

    monkeypatch.setattr(push_delivery, "MAX_PENDING_JOBS", 2)
    gate = asyncio.Event()

    async def job() -> None:
        await gate.wait()

    assert ctx.push.spawn(job()) and ctx.push.spawn(job())
    assert not ctx.push.spawn(job())
    assert ctx.push.dropped_jobs == 1
    assert "Push notification dropped" in caplog.text
    gate.set()
    await ctx.push.drain()


# -- the hourly clean-up ----------------------------------------------------------------------


async def test_hourly_cleanup_removes_failed_and_stale(
    ctx: Ctx, caplog: pytest.LogCaptureFixture
) -> None:
    user = await make_user(ctx)
    now = ctx.clock.now()
    cases = {
        "failed3": (3, None),
        "failed5": (5, now),
        "failed2": (2, None),
        "stale": (0, now - timedelta(days=91)),
        "recent": (0, now - timedelta(days=89)),
        "never-used": (0, None),
    }
    async with ctx.db.transaction("seed") as tx:
        for name, (failures, last_used) in cases.items():
            keys = browser_keys()
            await tx.conn.execute(
                "INSERT INTO push_subscriptions (id, user_id, endpoint, p256dh_key, auth_key,"
                " created_at, last_used, failure_count) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                uuid7(),
                user.id,
                f"https://push.example.com/{name}",
                keys.p256dh,
                keys.auth_key,
                now - timedelta(days=400),
                last_used,
                failures,
            )
    caplog.set_level(logging.INFO)
    report = await hourly_cleanup(ctx)
    assert report.failed_push_subscriptions == 2
    assert report.stale_push_subscriptions == 1
    async with ctx.db.connection() as conn:
        left = {
            r.endpoint.rsplit("/", 1)[1]
            for r in await push_repo.list_subscriptions(conn, [user.id])
        }
    assert left == {"failed2", "recent", "never-used"}
    assert "Cleaned up 2 failed push subscriptions" in caplog.text
    assert "Cleaned up 1 stale push subscriptions" in caplog.text


# -- presence through Redis (two server processes) --------------------------------------------

REDIS_URL = os.environ.get("CHATALOT_TEST_REDIS_URL")


@pytest.mark.redis
@pytest.mark.skipif(not REDIS_URL, reason="set CHATALOT_TEST_REDIS_URL to test Redis presence")
async def test_session_on_another_process_through_redis(
    ctx: Ctx, service: PushService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This process has no session of bob; another process (sharing Redis) has one: no push.
    Once it is gone there too, the DM is pushed."""
    assert REDIS_URL is not None
    alice, bob, dm = await dm_pair(ctx)
    keys = await subscribe(ctx, bob, service.endpoint("bob"))
    prefix = f"test-push-{uuid.uuid4().hex}"
    here = RedisLiveState(ctx.hub, REDIS_URL, uuid.uuid4().hex, prefix=prefix)
    other_hub = Hub()
    there = RedisLiveState(other_hub, REDIS_URL, uuid.uuid4().hex, prefix=prefix)
    await here.start()
    await there.start()
    try:
        monkeypatch.setattr(ctx.broker, "state", here)
        assert other_hub.connect(bob.id) is not None
        await there.went_online(bob.id)
        await send(ctx, alice, dm)
        await ctx.push.drain()
        assert service.received == []
        for conn in other_hub.sessions_of(bob.id):
            other_hub.disconnect(conn)
        await there.went_offline(bob.id)
        await send(ctx, alice, dm)
        await ctx.push.drain()
        [received] = service.received
        assert decrypt(received, keys)["notification_type"] == "dm"
    finally:
        await here.stop()
        await there.stop()
