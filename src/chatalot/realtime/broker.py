"""From committed events to every server process's sessions.

``Database.sink`` is ``broker.publish``: after a transaction commits, its events (``Emitted``:
an event and its audience, services/audience.py) are encoded ONCE here, and each process
delivers them to its own hub:

- ``Everyone``: every session;
- ``Users``: those users' sessions;
- ``ChannelSubscribers``: the sessions subscribed to the channel;
- ``AccessRevoked`` (``SERVER_ONLY``): the user's subscriptions to those channels are dropped.

``LocalBroker``: one process, delivery is a function call. ``RedisBroker``: several processes on
one Redis (``REDIS_URL``): each batch is delivered here at once and published as one message on
one Redis pub/sub channel; every other process delivers it to its own hub (a process ignores its
own messages). Redis pub/sub does not keep messages for a subscriber that is away: after the
subscription is re-established, every session of this process is told ``out_of_sync`` and
closed, so that clients reconnect and refetch instead of silently missing events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence
from typing import Any

import msgspec

from chatalot.db.database import Emitted
from chatalot.protocol import codec, ws
from chatalot.realtime.hub import CLOSE_TRY_AGAIN, Hub, frame_message, text_message
from chatalot.realtime.live_state import LiveState, LocalLiveState
from chatalot.realtime.redis_state import RedisLiveState
from chatalot.redis_client import OutageLog, open_redis
from chatalot.services.audience import AccessRevoked, ChannelSubscribers, Everyone, Users

log = logging.getLogger("chatalot_server.ws")

REDIS_CHANNEL = "chatalot:events"


class Item(msgspec.Struct, array_like=True):
    """One event ready for delivery: ``kind`` ``everyone`` / ``users`` / ``channel`` (``ids``:
    the users / the channel, then for a channel the session to leave out, if any; ``frame``:
    the encoded frame) or ``revoke`` (``ids``: the user, then the channels)."""

    kind: str
    ids: list[uuid.UUID]
    frame: msgspec.Raw = msgspec.field(default_factory=lambda: msgspec.Raw(b"null"))


class Packet(msgspec.Struct, array_like=True):
    origin: str
    items: list[Item]


_packet_encoder = msgspec.json.Encoder()
_packet_decoder = msgspec.json.Decoder(Packet)


def prepare(events: Sequence[Emitted]) -> list[Item]:
    """Each event encoded once, with its audience in a form every process can resolve."""
    items: list[Item] = []
    for emitted in events:
        event, audience = emitted.event, emitted.audience
        if isinstance(event, AccessRevoked):
            items.append(Item("revoke", [event.user_id, *event.channel_ids]))
            continue
        if not isinstance(event, msgspec.Struct):
            log.error("Not a WebSocket event, dropped: %r", type(event).__name__)
            continue
        frame = msgspec.Raw(codec.encode(event))
        if isinstance(audience, ChannelSubscribers):
            ids: list[uuid.UUID] = [audience.channel_id]
            if audience.except_session is not None:
                ids.append(audience.except_session)
            items.append(Item("channel", ids, frame))
        elif isinstance(audience, Users):
            if audience.user_ids:
                items.append(Item("users", list(audience.user_ids), frame))
        elif isinstance(audience, Everyone):
            items.append(Item("everyone", [], frame))
        else:
            log.error(
                "Event %s has no client audience (%r), dropped", type(event).__name__, audience
            )
    return items


def deliver(hub: Hub, items: Sequence[Item]) -> None:
    for item in items:
        if item.kind == "revoke":
            if item.ids:
                hub.revoke(item.ids[0], item.ids[1:])
            continue
        message = text_message(bytes(item.frame).decode())
        if item.kind == "channel":
            hub.to_channel(item.ids[0], message, except_session=next(iter(item.ids[1:]), None))
        elif item.kind == "users":
            hub.to_users(item.ids, message)
        elif item.kind == "everyone":
            hub.to_everyone(message)
        else:
            log.warning("Unknown delivery kind %r ignored", item.kind)


class Broker:
    """The interface: ``publish`` is the Database's event sink; ``state`` is the presence and
    typing state shared by the processes (realtime/live_state.py)."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.state: LiveState = LocalLiveState(hub)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def publish(self, events: Sequence[Emitted]) -> None:
        raise NotImplementedError

    async def __call__(self, events: Sequence[Emitted]) -> None:
        await self.publish(events)


class LocalBroker(Broker):
    """A single process: events go straight to this process's hub."""

    async def publish(self, events: Sequence[Emitted]) -> None:
        deliver(self.hub, prepare(events))


class RedisBroker(Broker):
    """Several processes: one Redis pub/sub channel carries every batch to every process."""

    def __init__(
        self, hub: Hub, url: str, *, channel: str = REDIS_CHANNEL, retry_seconds: float = 1.0
    ) -> None:
        super().__init__(hub)
        self.url = url
        self.channel = channel
        self.origin = uuid.uuid4().hex
        self.retry_seconds = retry_seconds
        self._redis: Any = None
        self._listener: asyncio.Task[None] | None = None
        self.state = RedisLiveState(hub, url, self.origin)
        self._outage = OutageLog(log, "events to the other server processes")

    async def start(self) -> None:
        """Connects and subscribes (raises if Redis cannot be reached now)."""
        self._redis = open_redis(self.url)
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(self.channel)
        self._listener = asyncio.get_running_loop().create_task(self._listen(pubsub))
        await self.state.start()

    async def stop(self) -> None:
        await self.state.stop()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def publish(self, events: Sequence[Emitted]) -> None:
        items = prepare(events)
        if not items:
            return
        deliver(self.hub, items)
        if self._redis is None:
            return
        try:
            await self._redis.publish(
                self.channel, _packet_encoder.encode(Packet(self.origin, items))
            )
        except Exception as err:  # the other processes miss these events (they resync later)
            self._outage.failed(err)
        else:
            self._outage.succeeded()

    def receive(self, data: bytes) -> None:
        """One message from the Redis channel."""
        try:
            packet = _packet_decoder.decode(data)
        except msgspec.DecodeError as err:
            log.warning("Ignoring a malformed event message from Redis: %s", err)
            return
        if packet.origin != self.origin:
            deliver(self.hub, packet.items)

    async def _listen(self, pubsub: Any) -> None:
        while True:
            try:
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self.receive(message["data"])
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                raise
            except Exception as err:
                log.warning("Redis event subscription lost (%s); reconnecting", err)
            with contextlib.suppress(Exception):
                await pubsub.aclose()
            pubsub = await self._resubscribe()
            self._resync()

    async def _resubscribe(self) -> Any:
        while True:
            await asyncio.sleep(self.retry_seconds)
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(self.channel)
            except Exception as err:
                log.warning("Redis still unreachable (%s); retrying", err)
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                continue
            log.info("Redis event subscription re-established")
            return pubsub

    def _resync(self) -> None:
        """Events may have been missed: every session must reconnect and refetch."""
        message = frame_message(ws.error(ws.OUT_OF_SYNC))
        for user_id in self.hub.connected_users():
            for conn in self.hub.sessions_of(user_id):
                conn.push(message)
                conn.close(CLOSE_TRY_AGAIN, "connection lagged, please refresh")
