"""protocol/codec.py: pure decoding of client frames and encoding of server frames."""

from __future__ import annotations

import uuid

import msgspec
import pytest

from chatalot.protocol import codec, ws

CID = uuid.UUID("01a22b99-b7dd-7789-b66c-09328e37b6dc")


@pytest.mark.parametrize(
    ("text", "frame"),
    [
        ('{"type":"authenticate","token":"t"}', ws.Authenticate(token="t")),
        ('{"type":"ping","timestamp":-5,"extra":[1]}', ws.Ping(timestamp=-5)),
        ('{"type":"ping","timestamp":9223372036854775807}', ws.Ping(timestamp=2**63 - 1)),
        ('{"type":"unsubscribe","channel_ids":[]}', ws.Unsubscribe(channel_ids=[])),
        (
            '{"type":"subscribe","channel_ids":["01a22b99-b7dd-7789-b66c-09328e37b6dc",'
            '"01A22B99B7DD7789B66C09328E37B6DC","{01a22b99-b7dd-7789-b66c-09328e37b6dc}",'
            '"urn:uuid:01a22b99-b7dd-7789-b66c-09328e37b6dc"]}',
            ws.Subscribe(channel_ids=[CID, CID, CID, CID]),
        ),
    ],
)
def test_decode(text: str, frame: ws.ClientFrame) -> None:
    """Client frames decode to typed frames (unknown fields ignored, every uuid form)."""
    assert codec.decode(text) == frame
    assert codec.decode(text.encode()) == frame


@pytest.mark.parametrize(
    "text",
    [
        "",
        "nope",
        "[]",
        '"ping"',
        "{}",
        '{"type":"unknown"}',
        '{"type":"ping"}',
        '{"type":"ping","timestamp":1.5}',
        '{"type":"ping","timestamp":9223372036854775808}',
        '{"type":"authenticate","token":null}',
        '{"type":"subscribe","channel_ids":"01a22b99-b7dd-7789-b66c-09328e37b6dc"}',
        '{"type":"subscribe","channel_ids":["uuid:01a22b99-b7dd-7789-b66c-09328e37b6dc"]}',
        '{"type":"subscribe","channel_ids":["01a22b99-b7dd-7789-b66c-09328e37b6d"]}',
        '{"type":"subscribe","channel_ids":["01a2-2b99b7dd-7789-b66c-09328e37b6dc"]}',
        '{"type":"unsubscribe","channel_ids":[1]}',
        b"\xff\xfe",
    ],
)
def test_malformed(text: str | bytes) -> None:
    """Anything else: invalid_message "malformed message"."""
    with pytest.raises(codec.Invalid) as caught:
        codec.decode(text)
    assert caught.value.frame == ws.Error(code="invalid_message", message="malformed message")


VOICE_IDS = (
    "0190f5a2-7c3e-7def-8abc-0123456789ab",
    "{0190F5A2-7C3E-7DEF-8ABC-0123456789AC}",
    "urn:uuid:0190f5a2-7c3e-7def-8abc-0123456789ad",
)


def test_voice_frames() -> None:
    """The voice and WebRTC frames, with ids in any accepted form; unknown fields ignored."""
    a, b, c = VOICE_IDS
    ua, ub, uc = (codec.parse_uuid(v) for v in VOICE_IDS)
    assert codec.decode(f'{{"type":"join_voice","channel_id":"{a}","x":1}}') == ws.JoinVoice(ua)
    assert codec.decode(f'{{"type":"leave_voice","channel_id":"{b}"}}') == ws.LeaveVoice(ub)
    kick = f'{{"type":"kick_from_voice","channel_id":"{a}","user_id":"{c}"}}'
    assert codec.decode(kick) == ws.KickFromVoice(ua, uc)
    rtc = f'"target_user_id":"{b}","session_id":"{c}"'
    assert codec.decode(f'{{"type":"rtc_offer",{rtc},"sdp":"v=0"}}') == ws.RtcOffer(ub, uc, "v=0")
    assert codec.decode(f'{{"type":"rtc_answer",{rtc},"sdp":""}}') == ws.RtcAnswer(ub, uc, "")
    candidate = f'{{"type":"rtc_ice_candidate",{rtc},"candidate":"c"}}'
    assert codec.decode(candidate) == ws.RtcIceCandidate(ub, uc, "c")


@pytest.mark.parametrize(
    "text",
    [
        '{"type":"join_voice"}',
        '{"type":"join_voice","channel_id":"general"}',
        '{"type":"leave_voice","channel_id":7}',
        '{"type":"kick_from_voice","channel_id":"0190f5a2-7c3e-7def-8abc-0123456789ab"}',
        '{"type":"rtc_offer","target_user_id":"0190f5a2-7c3e-7def-8abc-0123456789ab","sdp":"x"}',
        '{"type":"rtc_offer","target_user_id":"0190f5a2-7c3e-7def-8abc-0123456789ab",'
        '"session_id":"call-1","sdp":"x"}',
        '{"type":"rtc_answer","target_user_id":"0190f5a2-7c3e-7def-8abc-0123456789ab",'
        '"session_id":"0190f5a2-7c3e-7def-8abc-0123456789ab","sdp":null}',
        '{"type":"rtc_ice_candidate","target_user_id":"0190f5a2-7c3e-7def-8abc-0123456789ab",'
        '"session_id":"0190f5a2-7c3e-7def-8abc-0123456789ab","candidate":{"candidate":"x"}}',
    ],
)
def test_malformed_voice_frames(text: str) -> None:
    """A missing field, an id that is not a UUID (the call's ``session_id`` too), a wrong
    type: invalid_message (sizes are the service's)."""
    with pytest.raises(codec.Invalid) as caught:
        codec.decode(text)
    assert (caught.value.code, caught.value.message) == ws.MALFORMED


def test_decode_first() -> None:
    """The handshake accepts only a well-formed authenticate (``type`` required)."""
    assert codec.decode_first('{"type":"authenticate","token":"x"}') == ws.Authenticate("x")
    for text in ('{"token":"x"}', '{"type":"ping","timestamp":1}', "x"):
        with pytest.raises(codec.Invalid) as caught:
            codec.decode_first(text)
        assert caught.value.code == "auth_required"


def test_size_limit_counts_utf8_bytes() -> None:
    """1 MiB of UTF-8 passes, one byte more does not (multi-byte characters count fully)."""
    codec.check_size("a" * codec.MAX_FRAME_BYTES)
    codec.check_size("é" * (codec.MAX_FRAME_BYTES // 2))
    for text in ("a" * (codec.MAX_FRAME_BYTES + 1), "é" * (codec.MAX_FRAME_BYTES // 2) + "a"):
        with pytest.raises(codec.Invalid) as caught:
            codec.check_size(text)
        assert caught.value.frame == ws.Error(code="validation_error", message="message too large")


def test_encode_server_frames() -> None:
    """Server frames are tagged JSON objects with exactly the spec's keys."""
    assert msgspec.json.decode(codec.encode(ws.Authenticated("u", "0.23.0"))) == {
        "type": "authenticated",
        "user_id": "u",
        "server_version": "0.23.0",
    }
    assert codec.encode_text(ws.Pong(timestamp=7)) == '{"type":"pong","timestamp":7}'
    assert codec.encode_text(ws.error(ws.OUT_OF_SYNC)) == (
        '{"type":"error","code":"out_of_sync","message":"connection lagged, please refresh"}'
    )
    # Client frames encode too (test clients, docs): the ids as hyphenated text.
    assert codec.decode(codec.encode(ws.Subscribe(channel_ids=[CID]))) == ws.Subscribe([CID])
