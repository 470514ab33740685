"""WebSocket frames of ``/ws`` (both directions), pure data: msgspec Structs tagged on ``type``
with the original's snake_case names, so ``msgspec.json.encode(frame)`` is the wire frame.

Client -> server frames: every client frame of the protocol (spec ws-auth-ops 1.7), voice and
WebRTC signalling included (``join_voice`` ... ``rtc_ice_candidate``).

Server -> client frames here are the session's own (``authenticated``, ``pong``, ``error``);
events pushed after a state change are in ``protocol/events.py``. Every frame and error is listed
in ``docs/protocol.md``.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

import msgspec

I64 = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]


# --- client -> server -------------------------------------------------------------------------


class Authenticate(msgspec.Struct, tag="authenticate", tag_field="type"):
    """The first frame of every connection: the access token (as in ``Authorization``)."""

    token: str


class Ping(msgspec.Struct, tag="ping", tag_field="type"):
    """Client keepalive; answered with ``pong`` carrying the same ``timestamp``."""

    timestamp: I64


class Subscribe(msgspec.Struct, tag="subscribe", tag_field="type"):
    """Receive the channel broadcasts of these channels (members only; others are skipped
    silently). On the wire: ids as text in any form the original accepted (hyphenated, simple,
    braced, ``urn:uuid:``)."""

    channel_ids: list[uuid.UUID]


class Unsubscribe(msgspec.Struct, tag="unsubscribe", tag_field="type"):
    """Stop receiving these channels' broadcasts; an empty list drops every subscription."""

    channel_ids: list[uuid.UUID]


Byte = Annotated[int, msgspec.Meta(ge=0, le=255)]


class SendMessage(msgspec.Struct, tag="send_message", tag_field="type"):
    """Store a message (spec ws-auth-ops 1.14). Bytes as arrays of ints 0-255; ids parsed as
    for ``subscribe``."""

    channel_id: uuid.UUID
    ciphertext: bytes
    nonce: bytes
    message_type: str
    reply_to: uuid.UUID | None = None
    sender_key_id: uuid.UUID | None = None
    thread_id: uuid.UUID | None = None


class EditMessage(msgspec.Struct, tag="edit_message", tag_field="type"):
    message_id: uuid.UUID
    ciphertext: bytes
    nonce: bytes


class DeleteMessage(msgspec.Struct, tag="delete_message", tag_field="type"):
    message_id: uuid.UUID


class MarkRead(msgspec.Struct, tag="mark_read", tag_field="type"):
    """The caller has read ``channel_id`` up to ``message_id`` (their read cursor)."""

    channel_id: uuid.UUID
    message_id: uuid.UUID


class MarkAllRead(msgspec.Struct, tag="mark_all_read", tag_field="type"):
    """Every channel of the caller read up to its newest message."""


class AddReaction(msgspec.Struct, tag="add_reaction", tag_field="type"):
    message_id: uuid.UUID
    emoji: str


class RemoveReaction(msgspec.Struct, tag="remove_reaction", tag_field="type"):
    message_id: uuid.UUID
    emoji: str


PresenceStatus = Literal["online", "idle", "dnd", "invisible", "offline"]


class UpdatePresence(msgspec.Struct, tag="update_presence", tag_field="type"):
    """The caller's presence as they choose it (``invisible`` is shown to others as
    ``offline``)."""

    status: PresenceStatus


class Typing(msgspec.Struct, tag="typing", tag_field="type"):
    channel_id: uuid.UUID


class StopTyping(msgspec.Struct, tag="stop_typing", tag_field="type"):
    channel_id: uuid.UUID


class JoinVoice(msgspec.Struct, tag="join_voice", tag_field="type"):
    """Join the call of a voice channel (members only); leaves the caller's other call."""

    channel_id: uuid.UUID


class LeaveVoice(msgspec.Struct, tag="leave_voice", tag_field="type"):
    channel_id: uuid.UUID


class KickFromVoice(msgspec.Struct, tag="kick_from_voice", tag_field="type"):
    """Remove ``user_id`` from the channel's call (the caller must outrank them)."""

    channel_id: uuid.UUID
    user_id: uuid.UUID


class RtcOffer(msgspec.Struct, tag="rtc_offer", tag_field="type"):
    """WebRTC signalling, relayed to every session of ``target_user_id`` when both are in the
    same call. ``session_id`` is the client's own call id, passed through."""

    target_user_id: uuid.UUID
    session_id: uuid.UUID
    sdp: str


class RtcAnswer(msgspec.Struct, tag="rtc_answer", tag_field="type"):
    target_user_id: uuid.UUID
    session_id: uuid.UUID
    sdp: str


class RtcIceCandidate(msgspec.Struct, tag="rtc_ice_candidate", tag_field="type"):
    target_user_id: uuid.UUID
    session_id: uuid.UUID
    candidate: str


ClientFrame = (
    Authenticate
    | Ping
    | Subscribe
    | Unsubscribe
    | SendMessage
    | EditMessage
    | DeleteMessage
    | MarkRead
    | MarkAllRead
    | AddReaction
    | RemoveReaction
    | UpdatePresence
    | Typing
    | StopTyping
    | JoinVoice
    | LeaveVoice
    | KickFromVoice
    | RtcOffer
    | RtcAnswer
    | RtcIceCandidate
)


# --- server -> client -------------------------------------------------------------------------


class Authenticated(msgspec.Struct, tag="authenticated", tag_field="type"):
    """The token was accepted. ``server_version``: the served web client's version (its
    ``version.json``) or ``"unknown"``; the client reloads when it differs from its own."""

    user_id: str
    server_version: str


class Pong(msgspec.Struct, tag="pong", tag_field="type"):
    """Echo of a ``ping`` (the client's timestamp), or the server heartbeat (Unix seconds),
    sent at once after ``authenticated`` and every 15 s."""

    timestamp: int


class Error(msgspec.Struct, tag="error", tag_field="type"):
    """Something this session sent was refused (never broadcast). ``code`` and ``message`` as
    in the spec (ws-auth-ops 1.9); the client shows most messages verbatim."""

    code: str
    message: str


class MessageSent(msgspec.Struct, tag="message_sent", tag_field="type", omit_defaults=True):
    """The reply to this session's ``send_message`` once stored (only to that session);
    ``thread_id`` omitted when none."""

    id: str
    channel_id: str
    created_at: str
    thread_id: str | None = None


ServerFrame = Authenticated | Pong | Error | MessageSent


# --- error codes and texts (spec ws-auth-ops 1.9) ---------------------------------------------

UNAUTHORIZED = ("unauthorized", "invalid token")
AUTH_REQUIRED = ("auth_required", "first message must be Authenticate")
AUTH_TIMEOUT = ("auth_timeout", "authentication timed out")
TOO_MANY_SESSIONS = (
    "too_many_sessions",
    "too many concurrent connections, close another device first",
)
MALFORMED = ("invalid_message", "malformed message")
RATE_LIMITED = ("rate_limited", "too many messages, slow down")
REACTING_TOO_FAST = ("rate_limited", "adding reactions too quickly")
TOO_LARGE = ("validation_error", "message too large")
TOO_MANY_SUBSCRIPTIONS = ("validation_error", "too many active subscriptions")
SUBSCRIBE_BATCH = ("validation_error", "cannot subscribe to more than 200 channels at once")
OUT_OF_SYNC = ("out_of_sync", "connection lagged, please refresh")
TRY_AGAIN_LATER = ("internal_error", "the server is unavailable, try again shortly")
VOICE_TOO_FAST = ("rate_limited", "please wait before joining/leaving voice again")


def error(pair: tuple[str, str]) -> Error:
    return Error(code=pair[0], message=pair[1])
