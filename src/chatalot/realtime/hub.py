"""The live sessions of this process: who is connected, which channels each session follows,
and a bounded send queue per session.

Fan-out takes one ready ASGI message (the event encoded once, by the broker) and appends the
same object to every recipient's queue; each session's writer task (realtime/session.py) sends
from its queue, so a slow client never holds up the others. A queue that reaches
``WsLimits.queue_size`` frames means the client cannot keep up: what is pending is dropped, the
session gets ``error out_of_sync`` and is closed with code 1013 ("try again later"), and the
client reconnects and refetches (the original ended the lagging channel's subscription instead).

Everything here runs on the event loop and never awaits, so each operation is atomic.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from chatalot.protocol import codec, ws
from chatalot.realtime.ws_protocol import FRAME_KEY, text_frame

log = logging.getLogger("chatalot_server.ws")

Message = dict[str, Any]  # an ASGI ``websocket.send`` / ``websocket.close`` message

CLOSE_NORMAL = 1000
CLOSE_POLICY = 1008  # authentication failed, too many sessions, account suspended
CLOSE_TRY_AGAIN = 1013  # fell behind (out_of_sync): reconnect and refetch


@dataclass(frozen=True, slots=True)
class WsLimits:
    """The numbers of /ws (spec ws-auth-ops 1.1-1.3); tests shorten the timers."""

    auth_timeout: float = 10.0
    heartbeat_interval: float = 15.0
    max_sessions_per_user: int = 8
    queue_size: int = 1024
    burst: int = 30
    refill_per_second: float = 10.0
    max_subscriptions: int = 500
    max_subscribe_batch: int = 200
    # After a close is queued, how long the writer may take to deliver the last frames before
    # the connection is dropped without them (a client that stopped reading).
    drain_timeout: float = 5.0


def text_message(text: str) -> Message:
    """The ASGI message for a text frame, with the frame's bytes ready for the fast path
    (realtime/ws_protocol.py): built once, shared by every recipient."""
    return {"type": "websocket.send", "text": text, FRAME_KEY: text_frame(text.encode())}


def frame_message(frame: Any) -> Message:
    return text_message(codec.encode_text(frame))


class WriteCoalescer:
    """Frames pushed to a session are written together: one ``write()`` per session per flush
    instead of one per frame (a write is most of a delivery's cost: docs/benchmarks.md).

    Light load: the flush runs at the next turn of the event loop, so nothing waits; frames of
    events published in the same turn share each recipient's write. Heavy load (more than
    ``busy_writes_per_second`` writes in the last half second): the flush waits ``window``
    seconds (10 ms), so that a recipient of a busy channel gets several frames per write; that
    roughly halves the system calls at 1,000 messages/s into 100-member channels, for at most
    10 ms of added latency."""

    __slots__ = (
        "_busy",
        "_dirty",
        "_scheduled",
        "_window_start",
        "_window_writes",
        "busy_writes_per_second",
        "window",
    )

    def __init__(self, *, window: float = 0.01, busy_writes_per_second: int = 20_000) -> None:
        self.window = window
        self.busy_writes_per_second = busy_writes_per_second
        self._dirty: list[Connection] = []
        self._scheduled = False
        self._busy = False
        self._window_start = 0.0
        self._window_writes = 0

    def add(self, conn: Connection) -> None:
        self._dirty.append(conn)
        if not self._scheduled:
            self._scheduled = True
            loop = asyncio.get_running_loop()
            if self._busy:
                loop.call_later(self.window, self.flush)
            else:
                loop.call_soon(self.flush)

    def flush(self) -> None:
        dirty, self._dirty = self._dirty, []
        self._scheduled = False
        for conn in dirty:
            conn.flush()
        now = time.monotonic()
        self._window_writes += len(dirty)
        elapsed = now - self._window_start
        if elapsed >= 0.5:
            self._busy = self._window_writes > self.busy_writes_per_second * elapsed
            self._window_start = now
            self._window_writes = 0


COALESCER = WriteCoalescer()


class Connection:
    """One authenticated session: its user, subscriptions and outgoing frames.

    Frames go out on the direct path (coalesced per turn, ``WriteCoalescer``) while nothing is
    queued; otherwise (no direct path, back-pressure, closing) they queue, and ``wake`` (set by
    the session) starts the session's writer task, which sends what is queued and ends. An
    idle session therefore holds no writer task, no event and no queue (memory per idle
    connection: docs/benchmarks.md)."""

    __slots__ = (
        "_busy",
        "_queue",
        "_unwritten",
        "closing",
        "direct",
        "limit",
        "revoked_recent",
        "session_id",
        "subscriptions",
        "user_id",
        "wake",
    )

    def __init__(self, user_id: uuid.UUID, *, limit: int) -> None:
        self.user_id = user_id
        self.session_id = uuid.uuid4()
        self.subscriptions: set[uuid.UUID] = set()
        # Channels revoked while a subscribe's membership check was running (see Hub.revoke).
        self.revoked_recent: set[uuid.UUID] | None = None
        self.limit = limit
        self.closing: tuple[int, str] | None = None
        self._queue: deque[Message] | None = None  # created when first needed
        # Writes a ready frame to the socket now if it can take it (realtime/ws_protocol.py);
        # None when the server does not offer it.
        self.direct: Callable[[bytes], bool] | None = None
        # Called when frames are queued or the session is closing: the writer must run.
        self.wake: Callable[[], None] | None = None
        self._busy = False  # the writer task holds frames it has not sent yet
        # Frames for the direct path, written together at the next turn (WriteCoalescer).
        self._unwritten: list[bytes] | None = None

    def push(self, message: Message) -> bool:
        """Send a frame (at the next turn of the loop, with the others of this turn) when
        nothing is queued before it, else queue it for the writer task; False when the session
        is closing or has just overflowed."""
        if self.closing is not None:
            return False
        queue = self._queue
        if self.direct is not None and not queue and not self._busy:
            frame = message.get(FRAME_KEY)
            if frame is not None:
                unwritten = self._unwritten
                if unwritten is None:
                    self._unwritten = [frame]
                    COALESCER.add(self)
                    return True
                if len(unwritten) < self.limit:
                    unwritten.append(frame)
                    return True
                return self._overflow(len(unwritten))
        if queue is None:
            queue = self._queue = deque()
        elif len(queue) >= self.limit:
            return self._overflow(len(queue))
        queue.append(message)
        self._notify()
        return True

    def _notify(self) -> None:
        if self.wake is not None:
            self.wake()

    def _overflow(self, pending: int) -> bool:
        """Too much waiting for this session: drop it, tell the client, close (1013)."""
        log.warning(
            "WebSocket session fell behind (%d frames queued): out_of_sync",
            pending,
            extra={"user_id": str(self.user_id), "session_id": str(self.session_id)},
        )
        self._unwritten = None
        self._queue = deque([frame_message(ws.error(ws.OUT_OF_SYNC))])
        self.close(CLOSE_TRY_AGAIN, "connection lagged, please refresh")
        return False

    def flush(self) -> None:
        """Write the frames of the last turn; if the socket does not take them now (a slow
        reader: back-pressure), the writer task sends them, and what follows queues behind."""
        frames, self._unwritten = self._unwritten, None
        if not frames or self.direct is None:
            return
        data = frames[0] if len(frames) == 1 else b"".join(frames)
        if not self.direct(data):
            if self._queue is None:
                self._queue = deque()
            self._queue.appendleft({"type": "websocket.send", FRAME_KEY: data})
            self._notify()

    def close(self, code: int, reason: str = "") -> None:
        """Send what is queued, then close with ``code``."""
        if self.closing is None:
            if self._unwritten:  # frames of this turn go before the close
                self.flush()
            self.closing = (code, reason)
            self._notify()

    def pending(self) -> int:
        return len(self._queue) if self._queue else 0

    def take_queued(self) -> list[Message]:
        """For the writer: everything queued (until ``writer_idle``, later frames queue behind
        it instead of taking the direct path, so frames keep their order)."""
        queue = self._queue
        if not queue:
            return []
        batch = list(queue)
        queue.clear()
        self._busy = True
        return batch

    def writer_idle(self) -> None:
        """The writer sent everything it took and found nothing more."""
        self._busy = False
        self._queue = None


REACTION_INTERVAL_SECONDS = 0.2


class Hub:
    def __init__(self, limits: WsLimits | None = None) -> None:
        self.limits = limits or WsLimits()
        self._users: dict[uuid.UUID, set[Connection]] = {}
        self._channels: dict[uuid.UUID, set[Connection]] = {}
        self._channel_keys: dict[uuid.UUID, uuid.UUID] = {}  # the one id object per channel
        self._last_reaction: dict[uuid.UUID, float] = {}
        self._heartbeat: asyncio.Task[None] | None = None

    def start_heartbeat(self, unix_now: Callable[[], float]) -> None:
        """The server heartbeat (spec: a ``pong`` with Unix seconds every 15 s): ONE task for
        every session of the process, the frame encoded once per beat (a task per session
        cost memory per idle connection). Started with the first session; idempotent."""
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.get_running_loop().create_task(self._beat(unix_now))

    async def _beat(self, unix_now: Callable[[], float]) -> None:
        while True:
            await asyncio.sleep(self.limits.heartbeat_interval)
            message = frame_message(ws.Pong(timestamp=int(unix_now())))
            for conn in list(self._all()):
                conn.push(message)

    def reaction_allowed(self, user_id: uuid.UUID, now: float) -> bool:
        """The pace of ``add_reaction`` per user, all their sessions on this process together
        (spec: at least 200 ms apart); ``now`` is a monotonic time."""
        last = self._last_reaction.get(user_id)
        if last is not None and now - last < REACTION_INTERVAL_SECONDS:
            return False
        self._last_reaction[user_id] = now
        if len(self._last_reaction) > 10_000:  # forget the idle ones now and then
            cutoff = now - REACTION_INTERVAL_SECONDS
            self._last_reaction = {u: t for u, t in self._last_reaction.items() if t > cutoff}
        return True

    # --- sessions ----------------------------------------------------------------------------

    def connect(self, user_id: uuid.UUID, *, elsewhere: int = 0) -> Connection | None:
        """A new session for ``user_id``, or None when the user already has the maximum, here
        and on the other processes (``elsewhere``) together."""
        sessions = self._users.setdefault(user_id, set())
        if len(sessions) + elsewhere >= self.limits.max_sessions_per_user:
            if not sessions:
                del self._users[user_id]
            return None
        conn = Connection(user_id, limit=self.limits.queue_size)
        sessions.add(conn)
        return conn

    def disconnect(self, conn: Connection) -> None:
        self.unsubscribe(conn, None)
        sessions = self._users.get(conn.user_id)
        if sessions is not None:
            sessions.discard(conn)
            if not sessions:
                del self._users[conn.user_id]

    def session_count(self, user_id: uuid.UUID) -> int:
        """How many sessions the user has on this process (presence asks this per mate)."""
        sessions = self._users.get(user_id)
        return len(sessions) if sessions else 0

    def sessions_of(self, user_id: uuid.UUID) -> frozenset[Connection]:
        return frozenset(self._users.get(user_id, ()))

    def connected_users(self) -> list[uuid.UUID]:
        return list(self._users)

    def __len__(self) -> int:
        return sum(len(sessions) for sessions in self._users.values())

    def close_user(self, user_id: uuid.UUID, code: int, reason: str) -> int:
        """Close every session of ``user_id`` (suspension); returns how many."""
        sessions = self._users.get(user_id, ())
        for conn in sessions:
            self._drop_subscriptions(conn)
            conn.close(code, reason)
        return len(sessions)

    # --- subscriptions -----------------------------------------------------------------------

    def subscribe(self, conn: Connection, channel_ids: Iterable[uuid.UUID]) -> None:
        if conn.closing is not None:
            return
        for channel_id in channel_ids:
            if channel_id not in conn.subscriptions:
                subscribers = self._channels.get(channel_id)
                if subscribers is None:
                    subscribers = self._channels[channel_id] = set()
                    self._channel_keys[channel_id] = channel_id
                else:  # one UUID object per channel, not one per subscription
                    channel_id = self._channel_keys.get(channel_id, channel_id)
                conn.subscriptions.add(channel_id)
                subscribers.add(conn)

    def unsubscribe(self, conn: Connection, channel_ids: Iterable[uuid.UUID] | None) -> None:
        """Drop these subscriptions (None: all of them)."""
        if channel_ids is None:
            self._drop_subscriptions(conn)
            return
        for channel_id in channel_ids:
            if channel_id in conn.subscriptions:
                conn.subscriptions.discard(channel_id)
                self._forget(channel_id, conn)

    def _drop_subscriptions(self, conn: Connection) -> None:
        for channel_id in conn.subscriptions:
            self._forget(channel_id, conn)
        conn.subscriptions.clear()

    def _forget(self, channel_id: uuid.UUID, conn: Connection) -> None:
        subscribers = self._channels.get(channel_id)
        if subscribers is not None:
            subscribers.discard(conn)
            if not subscribers:
                del self._channels[channel_id]
                self._channel_keys.pop(channel_id, None)

    def subscribers(self, channel_id: uuid.UUID) -> frozenset[Connection]:
        return frozenset(self._channels.get(channel_id, ()))

    def revoke(self, user_id: uuid.UUID, channel_ids: Iterable[uuid.UUID]) -> None:
        """``user_id`` lost access to these channels: drop their sessions' subscriptions now
        (also remembered by a session whose subscribe check is in flight)."""
        channels = set(channel_ids)
        for conn in self._users.get(user_id, ()):
            if conn.revoked_recent is not None:
                conn.revoked_recent |= channels
            self.unsubscribe(conn, channels)

    # --- delivery (the message is shared by every recipient: encoded once) -------------------

    def to_everyone(self, message: Message) -> int:
        return _push_all(self._all(), message)

    def to_users(self, user_ids: Iterable[uuid.UUID], message: Message) -> int:
        return _push_all(self._of_users(user_ids), message)

    def to_channel(
        self, channel_id: uuid.UUID, message: Message, *, except_session: uuid.UUID | None = None
    ) -> int:
        # A copy: an overflowing session leaves the set while we iterate.
        subscribers = list(self._channels.get(channel_id, ()))
        if except_session is not None:
            subscribers = [c for c in subscribers if c.session_id != except_session]
        return _push_all(subscribers, message)

    def _all(self) -> Iterator[Connection]:
        for sessions in list(self._users.values()):
            yield from list(sessions)

    def _of_users(self, user_ids: Iterable[uuid.UUID]) -> Iterator[Connection]:
        for user_id in user_ids:
            yield from list(self._users.get(user_id, ()))


def _push_all(connections: Iterable[Connection], message: Message) -> int:
    delivered = 0
    for conn in connections:
        delivered += conn.push(message)
    return delivered
