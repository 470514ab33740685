"""realtime/broker.py and hub.py without sockets: audiences, encode-once, the Redis packet."""

from __future__ import annotations

import uuid

import msgspec

from chatalot.db.database import Emitted
from chatalot.ids import ChannelId, UserId
from chatalot.protocol import events
from chatalot.realtime.broker import LocalBroker, Packet, RedisBroker, deliver, prepare
from chatalot.realtime.hub import Connection, Hub, WsLimits
from chatalot.services.audience import (
    EVERYONE,
    SERVER_ONLY,
    AccessRevoked,
    ChannelSubscribers,
    Users,
)

ALICE, BOB = UserId(uuid.uuid4()), UserId(uuid.uuid4())
CHANNEL = ChannelId(uuid.uuid4())


def queued(conn: Connection) -> list[dict[str, object]]:
    return list(conn._queue)


def test_fan_out_shares_one_encoded_message() -> None:
    """A broadcast is encoded once: every recipient queues the very same ASGI message."""
    hub = Hub()
    a, b = hub.connect(ALICE), hub.connect(BOB)
    assert a is not None and b is not None
    hub.subscribe(a, [CHANNEL])
    hub.subscribe(b, [CHANNEL])
    event = events.ChannelDeleted(channel_id=str(CHANNEL))
    deliver(hub, prepare([Emitted(event, ChannelSubscribers(CHANNEL))]))
    [ma], [mb] = queued(a), queued(b)
    assert ma is mb
    assert ma == {"type": "websocket.send", "text": msgspec.json.encode(event).decode()}


async def test_audiences_and_revocation() -> None:
    """Everyone / Users / ChannelSubscribers reach the right sessions; AccessRevoked drops
    only that user's subscriptions to those channels; ServerOnly reaches no client."""
    hub = Hub()
    broker = LocalBroker(hub)
    a, b = hub.connect(ALICE), hub.connect(BOB)
    assert a is not None and b is not None
    hub.subscribe(a, [CHANNEL])
    hub.subscribe(b, [CHANNEL])
    await broker.publish(
        [
            Emitted(events.GroupDeleted(group_id="g"), Users.of([BOB])),
            Emitted(AccessRevoked(ALICE, frozenset([CHANNEL]), "kicked"), SERVER_ONLY),
            Emitted(events.ChannelDeleted(channel_id="c"), ChannelSubscribers(CHANNEL)),
            Emitted(events.GroupDeleted(group_id="all"), EVERYONE),
        ]
    )
    assert [m["text"] for m in queued(a)] == ['{"type":"group_deleted","group_id":"all"}']
    assert [m["text"] for m in queued(b)] == [
        '{"type":"group_deleted","group_id":"g"}',
        '{"type":"channel_deleted","channel_id":"c"}',
        '{"type":"group_deleted","group_id":"all"}',
    ]
    assert a.subscriptions == set() and b.subscriptions == {CHANNEL}
    assert hub.subscribers(CHANNEL) == frozenset([b])


def test_redis_packet_round_trip() -> None:
    """A batch published to Redis (revocations included) is delivered by another process
    exactly as locally; a process ignores its own packets."""
    items = prepare(
        [
            Emitted(AccessRevoked(ALICE, frozenset([CHANNEL]), "kicked"), SERVER_ONLY),
            Emitted(events.GroupDeleted(group_id="g"), Users.of([BOB])),
        ]
    )
    data = msgspec.json.encode(Packet("other", items))
    hub = Hub()
    a, b = hub.connect(ALICE), hub.connect(BOB)
    assert a is not None and b is not None
    hub.subscribe(a, [CHANNEL])
    receiver = RedisBroker(hub, "redis://unused")
    receiver.receive(data)
    assert a.subscriptions == set()
    assert [m["text"] for m in queued(b)] == ['{"type":"group_deleted","group_id":"g"}']
    receiver.receive(msgspec.json.encode(Packet(receiver.origin, items)))
    assert len(queued(b)) == 1
    receiver.receive(b"garbage")  # logged and ignored


def test_session_cap_and_overflow() -> None:
    """connect refuses past the per-user maximum; a full queue is replaced by out_of_sync and
    the session is marked closing (1013)."""
    hub = Hub(WsLimits(max_sessions_per_user=2, queue_size=3))
    first, second = hub.connect(ALICE), hub.connect(ALICE)
    assert first is not None and second is not None
    assert hub.connect(ALICE) is None
    for i in range(4):
        first.push({"type": "websocket.send", "text": str(i)})
    assert [m["text"] for m in queued(first)] == [
        '{"type":"error","code":"out_of_sync","message":"connection lagged, please refresh"}'
    ]
    assert first.closing == (1013, "connection lagged, please refresh")
    assert not first.push({"type": "websocket.send", "text": "late"})
    hub.disconnect(first)
    assert hub.connect(ALICE) is not None
