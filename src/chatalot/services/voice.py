"""Voice calls (spec ws-auth-ops 1.3, 1.7, 1.12; rest-api 2.7 channel kick/ban): who is in
which channel's call, and who may signal whom. The server only relays WebRTC signalling; the
media flows between the participants (a mesh).

- ``join_voice``: members of the channel only (``forbidden "not a member of this channel"``,
  also for a channel that does not exist), voice channels only (``validation_error "not a voice
  channel"``; the original accepted any channel, the shipped client only starts calls in voice
  channels), at most 25 participants (``voice_full``; someone already in the call may join
  again). Joining leaves the caller's other call, if any (the original let a user be in several
  calls at once). The call is created by its first participant. After commit: the reply
  ``voice_state_update`` to the joining session (``on_joined``), then to the channel's
  subscribers any leave events of the previous call, ``voice_state_update`` and
  ``user_joined_voice``.
- ``leave_voice`` (no membership check) and kicks (``kick_from_voice``: the caller's effective
  channel role strictly above the target's stored role; a target without a channel role only by
  instance staff; the instance owner by nobody): ``kicked_from_voice`` for a kick, then
  ``user_left_voice`` and ``voice_state_update`` (the remaining participants) to the channel's
  subscribers; a call left empty is ended. Leaving or kicking someone who is not in the call
  does nothing (the original still broadcast).
- WebRTC relays need both users in the same active call and both still members of its channel
  (``in_same_call``: one query); sizes are checked first (``check_sdp``, ``check_candidate``).
- Clean-up: participants whose sessions all closed 15 s ago (``leave_after_disconnect``), held
  by a server process that is gone (``leave_held_by``), or no longer members of the channel
  (``remove_non_members``); calls without participants (``end_empty_calls``).

Race-free: every change to a channel's call runs under that channel's lock, a join also under
the joiner's (repositories/voice.py), so 26 concurrent joins never give 26 participants, and a
call is never ended while someone joins it. WebSocket refusals raise ``Refused`` with the spec's
codes and texts (1.9); the join/leave pace (2 s) is the realtime layer's.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from chatalot.context import Ctx
from chatalot.db.database import Tx
from chatalot.ids import ChannelId, UserId, uuid7
from chatalot.protocol import events
from chatalot.repositories import channels as channels_repo
from chatalot.repositories import users as users_repo
from chatalot.repositories import voice as voice_repo
from chatalot.repositories.voice import ParticipationRow
from chatalot.services import permissions
from chatalot.services.actor import Actor
from chatalot.services.audience import ChannelSubscribers
from chatalot.services.messages import Refused

log = logging.getLogger("chatalot_server.voice")

MAX_PARTICIPANTS = 25
MAX_SDP_BYTES = 32_768
MAX_CANDIDATE_BYTES = 2_048
DISCONNECT_GRACE_SECONDS = 15.0

NOT_A_MEMBER = ("forbidden", "not a member of this channel")
NOT_A_VOICE_CHANNEL = ("validation_error", "not a voice channel")
VOICE_FULL = ("voice_full", f"voice channel is full (max {MAX_PARTICIPANTS} participants)")
JOIN_FAILED = ("voice_error", "failed to join voice channel")
LEAVE_FAILED = ("voice_error", "failed to leave voice channel")
KICK_FAILED = ("voice_error", "failed to kick from voice channel")
NOT_IN_YOUR_CALL = ("forbidden", "target user not in your voice session")
CANNOT_KICK = ("forbidden", "insufficient permissions to kick from voice")


@dataclass(frozen=True, slots=True)
class VoiceState:
    """A channel's call: its active participants, first joined first (empty: no call)."""

    channel_id: ChannelId
    participants: list[UserId]

    def event(self) -> events.VoiceStateUpdate:
        return events.VoiceStateUpdate(
            channel_id=str(self.channel_id), participants=[str(u) for u in self.participants]
        )


def _utf8_length(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def check_sdp(sdp: str) -> None:
    """1..32,768 bytes of UTF-8."""
    if not sdp:
        raise Refused("validation_error", "SDP cannot be empty")
    if len(sdp) > MAX_SDP_BYTES or _utf8_length(sdp) > MAX_SDP_BYTES:
        raise Refused("validation_error", "SDP too large")


def check_candidate(candidate: str) -> None:
    """1..2,048 bytes of UTF-8."""
    if not candidate:
        raise Refused("validation_error", "ICE candidate cannot be empty")
    if len(candidate) > MAX_CANDIDATE_BYTES or _utf8_length(candidate) > MAX_CANDIDATE_BYTES:
        raise Refused("validation_error", "ICE candidate too large")


async def _announce_left(
    tx: Tx, rows: Sequence[ParticipationRow], now: datetime, *, kicked_by: UserId | None = None
) -> None:
    """Participants just marked left (under their channels' locks): per call, ``kicked_from_voice``
    (a kick), ``user_left_voice`` for each, then ``voice_state_update`` with who remains; a call
    left empty is ended."""
    calls: dict[tuple[uuid.UUID, ChannelId], list[UserId]] = {}
    for row in rows:
        calls.setdefault((row.session_id, row.channel_id), []).append(row.user_id)
    for (session_id, channel_id), users in calls.items():
        audience = ChannelSubscribers(channel_id)
        for user_id in users:
            if kicked_by is not None:
                tx.emit(
                    events.KickedFromVoice(
                        channel_id=str(channel_id), user_id=str(user_id), kicked_by=str(kicked_by)
                    ),
                    to=audience,
                )
            tx.emit(
                events.UserLeftVoice(channel_id=str(channel_id), user_id=str(user_id)),
                to=audience,
            )
        remaining = await voice_repo.list_voice_participants(tx.conn, session_id)
        tx.emit(VoiceState(channel_id, remaining).event(), to=audience)
        if not remaining:
            await voice_repo.end_voice_session(tx.conn, session_id, now)


# -- join, leave, kick -------------------------------------------------------------------------


async def join_voice(
    ctx: Ctx,
    actor: Actor,
    channel_id: ChannelId,
    *,
    server_process: str,
    on_joined: Callable[[VoiceState], object] | None = None,
) -> VoiceState:
    """Joins (or joins again) the channel's call, leaving any other; ``on_joined`` runs right
    after the commit, before the events. ``server_process``: the process holding the caller's
    session (clean-up when it is gone)."""
    now = ctx.clock.now()
    user_id = actor.user_id
    async with ctx.db.transaction("join_voice") as tx:
        conn = tx.conn
        await voice_repo.lock_voice_user(conn, user_id)
        current = await voice_repo.list_user_voice_channels(conn, user_id)
        await voice_repo.lock_voice_channels(conn, [*current, channel_id])
        # Read under the lock: a kick that removed the membership has committed by now.
        channel = await voice_repo.select_voice_channel(conn, channel_id, user_id)
        if channel is None or not channel.is_member:
            raise Refused(*NOT_A_MEMBER)
        if channel.channel_type != "voice":
            raise Refused(*NOT_A_VOICE_CHANNEL)
        session = await voice_repo.select_active_voice_session(conn, channel_id)
        if session is not None:
            present = await voice_repo.list_voice_participants(conn, session.id)
            if user_id not in present and len(present) >= MAX_PARTICIPANTS:
                raise Refused(*VOICE_FULL)
        left = await voice_repo.update_user_left_other_calls(
            conn, user_id, except_channel=channel_id, left_at=now
        )
        await _announce_left(tx, left, now)
        if session is None:
            session = await voice_repo.insert_voice_session(
                conn, session_id=uuid7(), channel_id=channel_id, started_by=user_id, started_at=now
            )
        await voice_repo.upsert_voice_participant(
            conn,
            session_id=session.id,
            user_id=user_id,
            joined_at=now,
            server_process=server_process,
        )
        state = VoiceState(channel_id, await voice_repo.list_voice_participants(conn, session.id))
        audience = ChannelSubscribers(channel_id)
        tx.emit(state.event(), to=audience)
        tx.emit(
            events.UserJoinedVoice(channel_id=str(channel_id), user_id=str(user_id)), to=audience
        )
        if on_joined is not None:
            callback = on_joined

            def reply() -> None:
                callback(state)

            tx.on_commit(reply)
    return state


async def remove_from_call(
    tx: Tx,
    channel_id: ChannelId,
    user_id: UserId,
    now: datetime,
    *,
    kicked_by: UserId | None = None,
) -> bool:
    """Inside the caller's transaction: the user leaves the channel's call, with the events
    (``kicked_from_voice`` first when ``kicked_by``); False (and no event) when they were not
    in it. Takes the channel's voice lock."""
    await voice_repo.lock_voice_channels(tx.conn, [channel_id])
    session = await voice_repo.select_active_voice_session(tx.conn, channel_id)
    if session is None:
        return False
    if not await voice_repo.update_participants_left(tx.conn, session.id, [user_id], now):
        return False
    row = ParticipationRow(session_id=session.id, channel_id=channel_id, user_id=user_id)
    await _announce_left(tx, [row], now, kicked_by=kicked_by)
    return True


async def leave_voice(ctx: Ctx, actor: Actor, channel_id: ChannelId) -> bool:
    """No membership check (someone removed from the channel may still hang up)."""
    async with ctx.db.transaction("leave_voice") as tx:
        return await remove_from_call(tx, channel_id, actor.user_id, ctx.clock.now())


async def _may_kick(tx: Tx, actor: Actor, channel_id: ChannelId, target: UserId) -> bool:
    conn = tx.conn
    actor_role = permissions.channel_effective_role(
        actor, await channels_repo.select_channel_role(conn, channel_id, actor.user_id)
    )
    stored = await channels_repo.select_channel_role(conn, channel_id, target)
    if stored is None and permissions.instance_role(actor) is None:
        return False
    user = await users_repo.select_user(conn, target)
    level = permissions.target_level(stored, is_instance_owner=bool(user and user.is_owner))
    return permissions.can_moderate(actor_role, level)


async def kick_from_voice(ctx: Ctx, actor: Actor, channel_id: ChannelId, target: UserId) -> bool:
    """``forbidden "insufficient permissions to kick from voice"`` unless the caller outranks
    the target in the channel; False when the target was not in the call."""
    async with ctx.db.transaction("kick_from_voice") as tx:
        if not await _may_kick(tx, actor, channel_id, target):
            raise Refused(*CANNOT_KICK)
        return await remove_from_call(
            tx, channel_id, target, ctx.clock.now(), kicked_by=actor.user_id
        )


# -- reads for the realtime layer -------------------------------------------------------------


async def in_same_call(ctx: Ctx, user_id: UserId, other_id: UserId) -> bool:
    """May ``user_id`` send WebRTC signalling to ``other_id``: both in the same active call and
    both members of its channel (one query)."""
    async with ctx.db.connection() as conn:
        return await voice_repo.exists_shared_voice_call(conn, user_id, other_id)


async def voice_states(ctx: Ctx, channel_ids: Sequence[ChannelId]) -> list[VoiceState]:
    """The calls with participants among these channels (for ``subscribe``)."""
    if not channel_ids:
        return []
    async with ctx.db.connection() as conn:
        states = await voice_repo.list_voice_states(conn, channel_ids)
    return [VoiceState(channel, users) for channel, users in states]


# -- clean-up ------------------------------------------------------------------------------------


async def leave_after_disconnect(ctx: Ctx, disconnects: Sequence[tuple[UserId, datetime]]) -> int:
    """Each (user, time their last session closed), for users who have had no session since:
    their participations that began at or before that time end (a call joined again after it
    is kept). How many participants left."""
    if not disconnects:
        return 0
    users = [user for user, _ in disconnects]
    cutoffs = [cutoff for _, cutoff in disconnects]
    now = ctx.clock.now()
    async with ctx.db.transaction("voice_disconnect_cleanup") as tx:
        rows = await voice_repo.list_participations_joined_before(tx.conn, users, cutoffs)
        if not rows:
            return 0
        await voice_repo.lock_voice_channels(tx.conn, [r.channel_id for r in rows])
        left = await voice_repo.update_participants_left_joined_before(tx.conn, users, cutoffs, now)
        await _announce_left(tx, left, now)
    return len(left)


async def voice_processes(ctx: Ctx) -> set[str | None]:
    """The server processes holding participants of active calls (None: unknown, rows written
    before they were recorded)."""
    async with ctx.db.connection() as conn:
        return set(await voice_repo.list_voice_processes(conn))


async def leave_held_by(ctx: Ctx, processes: Collection[str | None]) -> int:
    """The participants held by these server processes (gone) leave their calls, with the
    events. How many left."""
    named = [p for p in processes if p is not None]
    include_null = None in processes
    if not named and not include_null:
        return 0
    now = ctx.clock.now()
    async with ctx.db.transaction("voice_process_cleanup") as tx:
        rows = await voice_repo.list_participations_held_by(
            tx.conn, named, include_null=include_null
        )
        if not rows:
            return 0
        await voice_repo.lock_voice_channels(tx.conn, [r.channel_id for r in rows])
        left = await voice_repo.update_participants_left_held_by(
            tx.conn, named, include_null=include_null, left_at=now
        )
        await _announce_left(tx, left, now)
    if left:
        log.info(
            "Voice: %d participant(s) held by %d stopped server process(es) marked left",
            len(left),
            len(processes),
        )
    return len(left)


async def remove_non_members(ctx: Ctx) -> int:
    """Participants who are no longer members of the call's channel (removed some other way
    than a channel kick, ban or leave: a community kick, leaving a group...) leave it, with the
    events. How many."""
    async with ctx.db.connection() as conn:
        if not await voice_repo.list_non_member_participations(conn):
            return 0
    now = ctx.clock.now()
    async with ctx.db.transaction("voice_remove_non_members") as tx:
        rows = await voice_repo.list_non_member_participations(tx.conn)
        channels = sorted({r.channel_id for r in rows})
        await voice_repo.lock_voice_channels(tx.conn, channels)
        left = await voice_repo.update_non_members_left(tx.conn, channels, now)
        await _announce_left(tx, left, now)
    return len(left)


async def end_empty_calls(ctx: Ctx) -> int:
    """Calls without participants end (none should be left: a safety net). How many."""
    now = ctx.clock.now()
    ended = 0
    async with ctx.db.connection() as conn:
        empty = await voice_repo.list_empty_voice_sessions(conn)
    for session in empty:  # one short transaction per call: never holds many locks for long
        async with ctx.db.transaction("voice_end_empty_call") as tx:
            await voice_repo.lock_voice_channels(tx.conn, [session.channel_id])
            if await voice_repo.end_voice_session_if_empty(tx.conn, session.id, now):
                ended += 1
    return ended
