"""realtime/broker.py and hub.py without sockets: audiences, encode-once, the Redis packet."""

from __future__ import annotations

import asyncio
import uuid
from collections import deque

import msgspec

from chatalot.db.database import Emitted
from chatalot.ids import ChannelId, UserId
from chatalot.protocol import events
from chatalot.realtime.broker import LocalBroker, Packet, RedisBroker, deliver, prepare
from chatalot.realtime.hub import Connection, Hub, WsLimits, text_message
from chatalot.realtime.ws_protocol import FRAME_KEY, text_frame
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
    return list(conn._queue or ())


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
    text = msgspec.json.encode(event).decode()
    assert ma == {"type": "websocket.send", "text": text, FRAME_KEY: text_frame(text.encode())}


async def test_direct_writes_are_coalesced_per_turn_and_keep_order() -> None:
    """With the fast path, the frames of one turn of the loop go to the socket in one write at
    the next turn; when the socket refuses (back-pressure) they queue for the writer, and
    later frames queue behind them."""
    hub = Hub()
    conn = hub.connect(ALICE)
    assert conn is not None
    written: list[bytes] = []
    accepting = True

    def direct(frame: bytes) -> bool:
        if accepting:
            written.append(frame)
        return accepting

    conn.direct = direct
    first, second, third, fourth = (text_message(f'"{n}"') for n in range(4))
    assert conn.push(first) and conn.push(second)
    assert written == [] and queued(conn) == []
    await asyncio.sleep(0)  # the next turn
    assert written == [first[FRAME_KEY] + second[FRAME_KEY]]
    accepting = False
    conn.push(third)
    await asyncio.sleep(0)
    assert queued(conn) == [{"type": "websocket.send", FRAME_KEY: third[FRAME_KEY]}]
    accepting = True
    conn.push(fourth)  # behind the queued one, not written ahead of it
    await asyncio.sleep(0)
    assert len(written) == 1 and queued(conn)[-1] is fourth


async def test_writer_batch_blocks_direct_writes_until_sent() -> None:
    """While the writer holds frames it has taken but not sent, new frames queue behind them;
    once it is idle the direct path is used again."""
    hub = Hub()
    conn = hub.connect(ALICE)
    assert conn is not None
    written: list[bytes] = []
    wakes: list[bool] = []
    conn.direct = lambda frame: bool(written.append(frame)) or True
    conn.wake = lambda: wakes.append(True)
    queued_first = text_message('"queued"')
    conn._queue = deque([queued_first])  # as if the socket had refused it
    assert conn.take_queued() == [queued_first]  # the writer holds it, not sent yet
    late = text_message('"late"')
    conn.push(late)
    await asyncio.sleep(0)
    assert queued(conn) == [late] and wakes == [True]
    assert conn.take_queued() == [late]  # sent after the first batch: order kept
    assert conn.take_queued() == []
    conn.writer_idle()
    conn.push(text_message('"direct again"'))
    await asyncio.sleep(0)
    assert queued(conn) == [] and len(written) == 1


async def test_close_writes_the_frames_of_the_turn_first() -> None:
    hub = Hub()
    conn = hub.connect(ALICE)
    assert conn is not None
    written: list[bytes] = []
    wakes: list[bool] = []
    conn.direct = lambda frame: bool(written.append(frame)) or True
    conn.wake = lambda: wakes.append(True)
    message = text_message('"last words"')
    conn.push(message)
    conn.close(1000)
    assert written == [message[FRAME_KEY]]
    assert wakes == [True]  # the writer runs to send the close
    assert conn.take_queued() == []


def test_text_frame_lengths() -> None:
    """The three header forms of RFC 6455 (7-bit, 16-bit and 64-bit lengths)."""
    assert text_frame(b"x" * 125)[:2] == b"\x81\x7d"
    assert text_frame(b"x" * 126)[:4] == b"\x81\x7e\x00\x7e"
    assert text_frame(b"x" * 65_536)[:10] == b"\x81\x7f" + (65_536).to_bytes(8, "big")


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
