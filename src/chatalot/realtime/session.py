"""One WebSocket session, in a fixed order (spec ws-auth-ops 1.2-1.6, 1.13):

1. the first frame must be ``authenticate`` within ``WsLimits.auth_timeout`` (10 s): otherwise
   ``error auth_timeout`` / ``auth_required`` / ``unauthorized`` and the socket is closed (1008);
   the token is checked exactly as on HTTP (api/auth.py ``provide_actor``);
2. the user's ninth session is refused with ``error too_many_sessions`` (really delivered,
   unlike the original, and before ``authenticated`` so the client does not start using a
   session that is about to close);
3. ``authenticated {user_id, server_version}``, then the heartbeat ``pong`` (Unix seconds) at
   once and every 15 s;
4. the read loop, one frame at a time: 1 MiB size check, token bucket (30, 10/s), decode,
   dispatch. Binary frames are ignored. Errors are answered and never close the session.

A writer task sends the session's queue (realtime/hub.py); when the hub closes the session
(overflow, suspension) the writer sends what is queued and the close, bounded by
``WsLimits.drain_timeout``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from chatalot.api.middleware import Receive, Send
from chatalot.context import Ctx
from chatalot.db.database import Emitted
from chatalot.errors import ChatalotError
from chatalot.ids import ChannelId, MessageId, UserId
from chatalot.protocol import codec, events, ws
from chatalot.protocol.time import rfc3339
from chatalot.realtime import presence, typing_indicators, voice_cleanup
from chatalot.realtime.hub import CLOSE_POLICY, CLOSE_TRY_AGAIN, Connection, Hub, frame_message
from chatalot.realtime.version import ServerVersion
from chatalot.realtime.ws_protocol import FRAME_KEY
from chatalot.repositories.messages import MessageRow
from chatalot.security.tokens import AccessClaims
from chatalot.services import messages as messages_service
from chatalot.services import reactions as reactions_service
from chatalot.services import unread as unread_service
from chatalot.services import voice as voice_service
from chatalot.services.actor import Actor
from chatalot.services.audience import Users
from chatalot.services.subscriptions import member_channel_ids
from chatalot.services.token_check import verify_token

log = logging.getLogger("chatalot_server.ws")

_FAILED: dict[type, str] = {
    ws.SendMessage: "failed to send message",
    ws.EditMessage: "failed to edit message",
    ws.DeleteMessage: "could not look up message",
}


INTERNAL = "an internal error occurred"


class TokenBucket:
    __slots__ = ("_at", "_tokens", "capacity", "rate")

    def __init__(self, capacity: int, rate: float) -> None:
        self.capacity = float(capacity)
        self.rate = rate
        self._tokens = float(capacity)
        self._at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


class Session:
    def __init__(
        self,
        ctx: Ctx,
        hub: Hub,
        version: ServerVersion,
        receive: Receive,
        send: Send,
        *,
        direct_write: Callable[[bytes], bool] | None = None,
        abort: Callable[[], None] | None = None,
    ) -> None:
        self.direct_write = direct_write
        self.abort = abort
        self.ctx = ctx
        self.hub = hub
        self.limits = hub.limits
        self.version = version
        self.receive = receive
        self.send = send
        self.claims: AccessClaims | None = None

    async def run(self) -> None:
        claims = await self._authenticate()
        if claims is None:
            return
        user_id = claims.user_id
        self.claims = claims
        try:
            elsewhere = await self.ctx.broker.state.sessions_elsewhere(UserId(user_id))
        except Exception as err:  # Redis away: this process's own count still applies
            self.ctx.broker.state.unreachable(err)
            elsewhere = 0
        conn = self.hub.connect(user_id, elsewhere=elsewhere)
        if conn is None:
            log.warning(
                "WebSocket rejected: too many concurrent sessions",
                extra={"user_id": str(user_id)},
            )
            await self._refuse(ws.TOO_MANY_SESSIONS)
            return
        ids = {"user_id": str(user_id), "session_id": str(conn.session_id)}
        conn.direct = self.direct_write
        try:
            conn.push(
                frame_message(
                    ws.Authenticated(user_id=str(user_id), server_version=self.version.get())
                )
            )
            log.info("WebSocket connected", extra=ids)
            await presence.session_opened(self.ctx, conn)
            # The first heartbeat at once; the next ones with every session's (Hub).
            conn.push(frame_message(ws.Pong(timestamp=int(self.ctx.clock.now().timestamp()))))
            self.hub.start_heartbeat(lambda: self.ctx.clock.now().timestamp())
            await self._serve(conn)
        finally:
            self.hub.disconnect(conn)
            await self._closed(UserId(user_id))
            log.info("WebSocket disconnected", extra=ids)

    async def _closed(self, user_id: UserId) -> None:
        """The session has left the hub: its user's typing ends; offline if it was their last
        session anywhere."""
        try:
            voice_cleanup.session_closed(self.ctx, user_id)  # the 15 s grace of their call
            await typing_indicators.session_closed(self.ctx, user_id)
            await presence.session_closed(self.ctx, user_id)
        except Exception:
            log.exception("WebSocket clean-up failed", extra={"user_id": str(user_id)})

    # --- handshake ---------------------------------------------------------------------------

    async def _authenticate(self) -> AccessClaims | None:
        try:
            message: dict[str, Any] | None = dict(
                await asyncio.wait_for(self.receive(), self.limits.auth_timeout)
            )
        except TimeoutError:
            message = None
        if message is not None and message["type"] == "websocket.disconnect":
            return None
        text = None if message is None else message.get("text")
        if text is None:  # timeout, or a binary frame
            await self._refuse(ws.AUTH_TIMEOUT)
            return None
        try:
            codec.check_size(text)
            frame = codec.decode_first(text)
        except codec.Invalid:
            await self._refuse(ws.AUTH_REQUIRED)
            return None
        try:
            claims = await verify_token(self.ctx, frame.token)
        except ChatalotError as err:  # the database is out of reach: not the token's fault
            log.warning("WebSocket authentication could not be checked: %s", err)
            await self._refuse(ws.TRY_AGAIN_LATER, code=CLOSE_TRY_AGAIN)
            return None
        if claims is None:
            await self._refuse(ws.UNAUTHORIZED)
        return claims

    async def _refuse(self, error: tuple[str, str], *, code: int = CLOSE_POLICY) -> None:
        """The error frame, then close (the client sees the reason and reconnects)."""
        with contextlib.suppress(OSError):
            await self.send(frame_message(ws.error(error)))
            await self.send({"type": "websocket.close", "code": code, "reason": error[0]})

    # --- the live session --------------------------------------------------------------------

    async def _serve(self, conn: Connection) -> None:
        """The read loop until the client goes away (or a close the writer sent ends it); the
        writer task runs only while frames are queued or a close is due. On our protocol the
        read loop runs in this coroutine (no task per idle session) and a stuck close is ended
        by dropping the connection; elsewhere it is a task that gets cancelled."""
        loop = asyncio.get_running_loop()
        reader: asyncio.Task[None] | None = None
        writer: asyncio.Task[None] | None = None
        give_up: asyncio.TimerHandle | None = None

        def stop_reading() -> None:
            if self.abort is not None:
                self.abort()  # the read loop then gets websocket.disconnect
            elif reader is not None:
                reader.cancel()

        def wake() -> None:
            nonlocal writer, give_up
            if writer is None or writer.done():
                writer = loop.create_task(self._write(conn))
            if conn.closing is not None and give_up is None:
                # Closing: the queued frames and the close go out within the drain timeout,
                # or the connection is dropped without them (a client that stopped reading).
                give_up = loop.call_later(self.limits.drain_timeout, stop_reading)

        conn.wake = wake
        if conn.pending() or conn.closing is not None:
            wake()
        try:
            if self.abort is not None:
                await self._read(conn)
            else:
                reader = loop.create_task(self._read(conn))
                await asyncio.wait({reader})
        finally:
            conn.wake = None
            if give_up is not None:
                give_up.cancel()
            tasks = [t for t in (reader, writer) if t is not None]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _write(self, conn: Connection) -> None:
        """Sends what is queued (several frames in one write on our protocol), then the close
        if the session is closing; ends when nothing is left."""
        try:
            while batch := conn.take_queued():
                if conn.direct is not None and len(batch) > 1:
                    # Our protocol (realtime/ws_protocol.py): what is queued in one write().
                    frames = [m.get(FRAME_KEY) for m in batch]
                    if all(f is not None for f in frames):
                        joined = b"".join(f for f in frames if f is not None)
                        await self.send({"type": "websocket.send", FRAME_KEY: joined})
                        continue
                for message in batch:
                    await self.send(message)
            conn.writer_idle()  # no await since the queue was found empty: nothing slipped in
            if conn.closing is not None:
                code, reason = conn.closing
                await self.send({"type": "websocket.close", "code": code, "reason": reason})
        except OSError:  # the client went away (uvicorn's ClientDisconnected)
            return

    async def _read(self, conn: Connection) -> None:
        bucket = TokenBucket(self.limits.burst, self.limits.refill_per_second)
        while True:
            message = await self.receive()
            kind = message["type"]
            if kind == "websocket.disconnect":
                return
            text = message.get("text") if kind == "websocket.receive" else None
            if text is None:  # binary frames are ignored (and cost no token)
                continue
            if conn.closing is not None:
                continue
            try:
                codec.check_size(text)
                if not bucket.take():
                    raise codec.Invalid.of(ws.RATE_LIMITED)
                frame = codec.decode(text)
                await self._dispatch(conn, frame)
            except codec.Invalid as err:
                if (err.code, err.message) == ws.MALFORMED:
                    log.warning("malformed WebSocket message", extra={"user_id": str(conn.user_id)})
                conn.push(frame_message(err.frame))
            except Exception:  # a bug must cost one frame, never the session
                log.exception("WebSocket frame failed", extra={"user_id": str(conn.user_id)})
                conn.push(frame_message(ws.Error(code="internal_error", message=INTERNAL)))

    async def _dispatch(self, conn: Connection, frame: ws.ClientFrame) -> None:
        if isinstance(frame, ws.Ping):
            conn.push(frame_message(ws.Pong(timestamp=frame.timestamp)))
        elif isinstance(frame, ws.Subscribe):
            await self._subscribe(conn, frame.channel_ids)
        elif isinstance(frame, ws.Unsubscribe):
            self.hub.unsubscribe(conn, frame.channel_ids or None)
        elif isinstance(frame, ws.SendMessage | ws.EditMessage | ws.DeleteMessage):
            await self._message_frame(conn, frame)
        elif isinstance(frame, ws.MarkRead | ws.MarkAllRead):
            await self._read_frame(frame)
        elif isinstance(frame, ws.AddReaction | ws.RemoveReaction):
            await self._reaction_frame(conn, frame)
        elif isinstance(frame, ws.Typing):
            await typing_indicators.typing(self.ctx, conn, frame.channel_id)
        elif isinstance(frame, ws.StopTyping):
            await typing_indicators.stop_typing(self.ctx, conn, frame.channel_id)
        elif isinstance(frame, ws.UpdatePresence):
            await presence.update_presence(self.ctx, UserId(conn.user_id), frame.status)
        elif isinstance(frame, ws.RtcOffer | ws.RtcAnswer | ws.RtcIceCandidate):
            await self._rtc_frame(conn, frame)
        elif isinstance(frame, ws.JoinVoice | ws.LeaveVoice | ws.KickFromVoice):
            await self._voice_frame(conn, frame)
        # a later ``authenticate`` is ignored

    async def _voice_frame(
        self, conn: Connection, frame: ws.JoinVoice | ws.LeaveVoice | ws.KickFromVoice
    ) -> None:
        """join_voice / leave_voice (one shared pace per user, on every process) and
        kick_from_voice (services/voice.py); a refusal is this session's error frame."""
        ctx, actor = self.ctx, self._actor()
        channel = ChannelId(frame.channel_id)
        failed = voice_service.KICK_FAILED
        try:
            if isinstance(frame, ws.KickFromVoice):
                await voice_service.kick_from_voice(ctx, actor, channel, UserId(frame.user_id))
                return
            try:
                paced = await ctx.broker.state.voice_pace(
                    actor.user_id, ctx.clock.now().timestamp()
                )
            except Exception as err:  # Redis away: not this user's fault
                ctx.broker.state.unreachable(err)
                paced = True
            if not paced:
                raise codec.Invalid.of(ws.VOICE_TOO_FAST)
            if isinstance(frame, ws.LeaveVoice):
                failed = voice_service.LEAVE_FAILED
                await voice_service.leave_voice(ctx, actor, channel)
                return
            failed = voice_service.JOIN_FAILED
            await voice_service.join_voice(
                ctx,
                actor,
                channel,
                server_process=ctx.broker.state.process_id,
                on_joined=lambda state: conn.push(frame_message(state.event())),
            )
        except messages_service.Refused as err:
            raise codec.Invalid(err.code, err.message) from None
        except ChatalotError as err:  # pool exhausted and the like
            log.warning("%s failed: %s", type(frame).__name__, err)
            raise codec.Invalid.of(failed) from None

    async def _rtc_frame(
        self, conn: Connection, frame: ws.RtcOffer | ws.RtcAnswer | ws.RtcIceCandidate
    ) -> None:
        """WebRTC signalling: sizes, then one query (both in the same call), then to every
        session of the target on every process. A failed check is a refusal."""
        sender, target = UserId(conn.user_id), UserId(frame.target_user_id)
        relayed: events.RtcOffer | events.RtcAnswer | events.RtcIceCandidate
        try:
            if isinstance(frame, ws.RtcIceCandidate):
                voice_service.check_candidate(frame.candidate)
                relayed = events.RtcIceCandidate(
                    from_user_id=str(sender),
                    session_id=str(frame.session_id),
                    candidate=frame.candidate,
                )
            else:
                voice_service.check_sdp(frame.sdp)
                kind = events.RtcOffer if isinstance(frame, ws.RtcOffer) else events.RtcAnswer
                relayed = kind(
                    from_user_id=str(sender), session_id=str(frame.session_id), sdp=frame.sdp
                )
        except messages_service.Refused as err:
            raise codec.Invalid(err.code, err.message) from None
        try:
            allowed = await voice_service.in_same_call(self.ctx, sender, target)
        except Exception as err:  # the database is unreachable: refused, as the original
            log.warning("%s: same-call check failed: %s", frame.__struct_config__.tag, err)
            allowed = False
        if not allowed:
            log.info(
                "%s refused: not in the same call",
                frame.__struct_config__.tag,
                extra={"user_id": str(sender)},
            )
            raise codec.Invalid.of(voice_service.NOT_IN_YOUR_CALL)
        await self.ctx.broker.publish([Emitted(relayed, Users.of([target]))])

    async def _reaction_frame(
        self, conn: Connection, frame: ws.AddReaction | ws.RemoveReaction
    ) -> None:
        """add_reaction / remove_reaction (services/reactions.py); a refusal is this session's
        error frame."""
        adding = isinstance(frame, ws.AddReaction)
        if adding and not self.hub.reaction_allowed(conn.user_id, time.monotonic()):
            raise codec.Invalid.of(ws.REACTING_TOO_FAST)
        try:
            if adding:
                await reactions_service.add_reaction(
                    self.ctx, self._actor(), frame.message_id, frame.emoji
                )
            else:
                await reactions_service.remove_reaction(
                    self.ctx, self._actor(), frame.message_id, frame.emoji
                )
        except messages_service.Refused as err:
            raise codec.Invalid(err.code, err.message) from None
        except ChatalotError as err:  # pool exhausted and the like
            log.warning("reaction frame failed: %s", err)
            verb = "add" if adding else "remove"
            raise codec.Invalid("internal_error", f"failed to {verb} reaction") from None

    async def _read_frame(self, frame: ws.MarkRead | ws.MarkAllRead) -> None:
        """mark_read / mark_all_read (services/unread.py): no answer, as the original; a failure
        is logged and the session goes on."""
        try:
            if isinstance(frame, ws.MarkRead):
                await unread_service.mark_read(
                    self.ctx,
                    self._actor(),
                    ChannelId(frame.channel_id),
                    MessageId(frame.message_id),
                )
            else:
                await unread_service.mark_all_read(self.ctx, self._actor())
        except Exception as err:
            log.warning("%s failed: %s", type(frame).__name__, err)

    def _actor(self) -> Actor:
        claims = self.claims
        assert claims is not None  # set once authenticated
        return Actor(
            user_id=UserId(claims.user_id),
            username=claims.username,
            is_admin=claims.is_admin,
            is_owner=claims.is_owner,
            session_id=claims.session_id,
        )

    async def _message_frame(
        self, conn: Connection, frame: ws.SendMessage | ws.EditMessage | ws.DeleteMessage
    ) -> None:
        """send / edit / delete (services/messages.py); a refusal is this session's error."""
        actor = self._actor()
        stored = False
        try:
            if isinstance(frame, ws.SendMessage):

                def reply(row: MessageRow) -> None:  # after commit, before any event
                    nonlocal stored
                    stored = True
                    conn.push(
                        frame_message(
                            ws.MessageSent(
                                id=str(row.id),
                                channel_id=str(row.channel_id),
                                created_at=rfc3339(row.created_at),
                                thread_id=str(row.thread_id) if row.thread_id else None,
                            )
                        )
                    )

                request = messages_service.SendRequest(
                    channel_id=ChannelId(frame.channel_id),
                    ciphertext=frame.ciphertext,
                    nonce=frame.nonce,
                    message_type=frame.message_type,
                    reply_to=frame.reply_to,
                    sender_key_id=frame.sender_key_id,
                    thread_id=frame.thread_id,
                )
                await messages_service.send_message(
                    self.ctx, actor, request, on_stored=reply, ws_session=conn.session_id
                )
                await typing_indicators.message_sent(self.ctx, actor.user_id, request.channel_id)
            elif isinstance(frame, ws.EditMessage):
                await messages_service.edit_message(
                    self.ctx, actor, frame.message_id, frame.ciphertext, frame.nonce
                )
            else:
                await messages_service.delete_message(self.ctx, actor, frame.message_id)
        except messages_service.Refused as err:
            raise codec.Invalid(err.code, err.message) from None
        except ChatalotError as err:  # pool exhausted and the like
            if stored:  # stored and acknowledged: what failed afterwards is not a failed send
                log.warning("after a message was stored: %s", err)
                return
            log.warning("message frame failed: %s", err)
            raise codec.Invalid("internal_error", _FAILED[type(frame)]) from None
        except Exception as err:
            if not stored:
                raise
            # The message is committed and `message_sent` is on its way: a second answer (an
            # error) would be taken for the answer to the client's next frame.
            log.warning("after a message was stored: %s: %s", type(err).__name__, err)

    async def _subscribe(self, conn: Connection, channel_ids: list[Any]) -> None:
        """Members only (checked now; non-members skipped silently), at most 200 ids per
        frame and 500 per session; no acknowledgement."""
        if len(conn.subscriptions) + len(channel_ids) > self.limits.max_subscriptions:
            raise codec.Invalid.of(ws.TOO_MANY_SUBSCRIPTIONS)
        if len(channel_ids) > self.limits.max_subscribe_batch:
            raise codec.Invalid.of(ws.SUBSCRIBE_BATCH)
        wanted = [c for c in dict.fromkeys(channel_ids) if c not in conn.subscriptions]
        if not wanted:
            return
        conn.revoked_recent = set()
        try:
            members = await member_channel_ids(self.ctx, conn.user_id, wanted)
        except Exception as err:
            log.warning("subscribe: membership check failed: %s", err)
            members = set()
        finally:
            revoked, conn.revoked_recent = conn.revoked_recent, None
        subscribed = [c for c in wanted if c in members and c not in revoked]
        self.hub.subscribe(conn, subscribed)
        try:  # the calls going on in them, to this session
            states = await voice_service.voice_states(self.ctx, [ChannelId(c) for c in subscribed])
        except Exception as err:
            log.warning("subscribe: voice states unavailable: %s", err)
            states = []
        for state in states:
            conn.push(frame_message(state.event()))
