"""Decoding client frames and encoding server frames of ``/ws``: pure, no I/O.

``decode(text)`` gives a typed client frame (protocol/ws.py) or raises ``Invalid`` carrying the
``error`` frame to answer (spec ws-auth-ops 1.4 and 1.9):

- not JSON, not an object, a wrong field type, an unknown ``type``: ``invalid_message``
  "malformed message".

``decode_first(text)`` is the handshake's rule: anything but a well-formed ``authenticate`` is
``auth_required``. ``check_size`` is the 1 MiB limit on a text frame (UTF-8 bytes).
Unknown fields are ignored, as the original did.
"""

from __future__ import annotations

import re
import uuid

import msgspec

from chatalot.protocol import ws

MAX_FRAME_BYTES = 1024 * 1024


class Invalid(Exception):
    """A client frame that is refused; ``frame`` is the ``error`` to send back."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    @property
    def frame(self) -> ws.Error:
        return ws.Error(code=self.code, message=self.message)

    @classmethod
    def of(cls, pair: tuple[str, str]) -> Invalid:
        return cls(pair[0], pair[1])


# Subscribe / unsubscribe arrive with ids as text: parsed here, strictly, in the forms the
# original's parser accepted.
class _SubscribeIn(msgspec.Struct, tag="subscribe", tag_field="type"):
    channel_ids: list[str]


class _UnsubscribeIn(msgspec.Struct, tag="unsubscribe", tag_field="type"):
    channel_ids: list[str]


class _SendMessageIn(msgspec.Struct, tag="send_message", tag_field="type"):
    channel_id: str
    ciphertext: list[ws.Byte]
    nonce: list[ws.Byte]
    message_type: str
    reply_to: str | None = None
    sender_key_id: str | None = None
    thread_id: str | None = None


class _EditMessageIn(msgspec.Struct, tag="edit_message", tag_field="type"):
    message_id: str
    ciphertext: list[ws.Byte]
    nonce: list[ws.Byte]


class _DeleteMessageIn(msgspec.Struct, tag="delete_message", tag_field="type"):
    message_id: str


class _MarkReadIn(msgspec.Struct, tag="mark_read", tag_field="type"):
    channel_id: str
    message_id: str


class _AddReactionIn(msgspec.Struct, tag="add_reaction", tag_field="type"):
    message_id: str
    emoji: str


class _RemoveReactionIn(msgspec.Struct, tag="remove_reaction", tag_field="type"):
    message_id: str
    emoji: str


class _TypingIn(msgspec.Struct, tag="typing", tag_field="type"):
    channel_id: str


class _StopTypingIn(msgspec.Struct, tag="stop_typing", tag_field="type"):
    channel_id: str


class _JoinVoiceIn(msgspec.Struct, tag="join_voice", tag_field="type"):
    channel_id: str


class _LeaveVoiceIn(msgspec.Struct, tag="leave_voice", tag_field="type"):
    channel_id: str


class _KickFromVoiceIn(msgspec.Struct, tag="kick_from_voice", tag_field="type"):
    channel_id: str
    user_id: str


class _RtcOfferIn(msgspec.Struct, tag="rtc_offer", tag_field="type"):
    target_user_id: str
    session_id: str
    sdp: str


class _RtcAnswerIn(msgspec.Struct, tag="rtc_answer", tag_field="type"):
    target_user_id: str
    session_id: str
    sdp: str


class _RtcIceCandidateIn(msgspec.Struct, tag="rtc_ice_candidate", tag_field="type"):
    target_user_id: str
    session_id: str
    candidate: str


_In = (
    ws.Authenticate
    | ws.Ping
    | _SubscribeIn
    | _UnsubscribeIn
    | _SendMessageIn
    | _EditMessageIn
    | _DeleteMessageIn
    | _MarkReadIn
    | ws.MarkAllRead
    | _AddReactionIn
    | _RemoveReactionIn
    | ws.UpdatePresence
    | _TypingIn
    | _StopTypingIn
    | _JoinVoiceIn
    | _LeaveVoiceIn
    | _KickFromVoiceIn
    | _RtcOfferIn
    | _RtcAnswerIn
    | _RtcIceCandidateIn
)


_decoder = msgspec.json.Decoder(_In)
_encoder = msgspec.json.Encoder()

_HEX = "[0-9a-fA-F]"
_HYPHENATED = f"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}"
_UUID_FORMS = re.compile(
    rf"(?:{_HYPHENATED}|{_HEX}{{32}}|\{{{_HYPHENATED}\}}|urn:uuid:{_HYPHENATED})", re.ASCII
)


def parse_uuid(value: str) -> uuid.UUID:
    """Hyphenated, 32-hex "simple", ``{braced}`` or ``urn:uuid:``; hex in any case."""
    if len(value) > 45 or _UUID_FORMS.fullmatch(value) is None:
        raise Invalid.of(ws.MALFORMED)
    return uuid.UUID(value)


def check_size(text: str) -> None:
    """Raises ``validation_error`` "message too large" above 1 MiB of UTF-8."""
    # A str of n code points is n..4n UTF-8 bytes: encode only when the bound is unclear.
    if len(text) > MAX_FRAME_BYTES or (
        len(text) * 4 > MAX_FRAME_BYTES
        and len(text.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES
    ):
        raise Invalid.of(ws.TOO_LARGE)


def decode(data: str | bytes) -> ws.ClientFrame:
    try:
        frame: _In = _decoder.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        raise Invalid.of(ws.MALFORMED) from None
    if isinstance(frame, _SubscribeIn):
        return ws.Subscribe(channel_ids=[parse_uuid(v) for v in frame.channel_ids])
    if isinstance(frame, _UnsubscribeIn):
        return ws.Unsubscribe(channel_ids=[parse_uuid(v) for v in frame.channel_ids])
    if isinstance(frame, _SendMessageIn):
        return ws.SendMessage(
            channel_id=parse_uuid(frame.channel_id),
            ciphertext=bytes(frame.ciphertext),
            nonce=bytes(frame.nonce),
            message_type=frame.message_type,
            reply_to=_optional_uuid(frame.reply_to),
            sender_key_id=_optional_uuid(frame.sender_key_id),
            thread_id=_optional_uuid(frame.thread_id),
        )
    if isinstance(frame, _EditMessageIn):
        return ws.EditMessage(
            message_id=parse_uuid(frame.message_id),
            ciphertext=bytes(frame.ciphertext),
            nonce=bytes(frame.nonce),
        )
    if isinstance(frame, _DeleteMessageIn):
        return ws.DeleteMessage(message_id=parse_uuid(frame.message_id))
    if isinstance(frame, _AddReactionIn):
        return ws.AddReaction(message_id=parse_uuid(frame.message_id), emoji=frame.emoji)
    if isinstance(frame, _RemoveReactionIn):
        return ws.RemoveReaction(message_id=parse_uuid(frame.message_id), emoji=frame.emoji)
    if isinstance(
        frame, _TypingIn | _StopTypingIn | _JoinVoiceIn | _LeaveVoiceIn | _KickFromVoiceIn
    ):
        return _about_a_channel(frame)
    if isinstance(frame, _MarkReadIn):
        return ws.MarkRead(
            channel_id=parse_uuid(frame.channel_id), message_id=parse_uuid(frame.message_id)
        )
    if isinstance(frame, _RtcOfferIn | _RtcAnswerIn | _RtcIceCandidateIn):
        return _rtc(frame)
    return frame


def _about_a_channel(
    frame: _TypingIn | _StopTypingIn | _JoinVoiceIn | _LeaveVoiceIn | _KickFromVoiceIn,
) -> ws.ClientFrame:
    channel_id = parse_uuid(frame.channel_id)
    if isinstance(frame, _TypingIn):
        return ws.Typing(channel_id=channel_id)
    if isinstance(frame, _StopTypingIn):
        return ws.StopTyping(channel_id=channel_id)
    if isinstance(frame, _JoinVoiceIn):
        return ws.JoinVoice(channel_id=channel_id)
    if isinstance(frame, _LeaveVoiceIn):
        return ws.LeaveVoice(channel_id=channel_id)
    return ws.KickFromVoice(channel_id=channel_id, user_id=parse_uuid(frame.user_id))


def _rtc(frame: _RtcOfferIn | _RtcAnswerIn | _RtcIceCandidateIn) -> ws.ClientFrame:
    target, session = parse_uuid(frame.target_user_id), parse_uuid(frame.session_id)
    if isinstance(frame, _RtcOfferIn):
        return ws.RtcOffer(target_user_id=target, session_id=session, sdp=frame.sdp)
    if isinstance(frame, _RtcAnswerIn):
        return ws.RtcAnswer(target_user_id=target, session_id=session, sdp=frame.sdp)
    return ws.RtcIceCandidate(target_user_id=target, session_id=session, candidate=frame.candidate)


def _optional_uuid(value: str | None) -> uuid.UUID | None:
    return None if value is None else parse_uuid(value)


def decode_first(data: str | bytes) -> ws.Authenticate:
    """The handshake frame; anything else is ``auth_required``."""
    try:
        frame = _decoder.decode(data)  # the union: ``type`` is required
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        raise Invalid.of(ws.AUTH_REQUIRED) from None
    if not isinstance(frame, ws.Authenticate):
        raise Invalid.of(ws.AUTH_REQUIRED)
    return frame


def encode(frame: msgspec.Struct) -> bytes:
    """A server frame (or event) as JSON bytes."""
    return _encoder.encode(frame)


def encode_text(frame: msgspec.Struct) -> str:
    """A frame as the text of a WebSocket text frame."""
    return _encoder.encode(frame).decode()
