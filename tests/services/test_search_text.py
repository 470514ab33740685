"""Which messages are indexed (services/search_text.py): plaintext yes, end-to-end wire messages
and bytes that are not UTF-8 never; the folding shared by the index and the query."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from chatalot.services.search_text import fold, is_wire_message, searchable_text


def numbers(rng: random.Random, n: int) -> list[int]:
    return [rng.randrange(256) for _ in range(n)]


def dm_wire(rng: random.Random, *, first: bool) -> bytes:
    """A Double Ratchet WireMessage as the web client sends it (compact JSON, e2e-protocol.md)."""
    wire: dict[str, Any] = {"v": 1}
    if first:
        wire["x3dh"] = {
            "identity_key": numbers(rng, 32),
            "ephemeral_key": numbers(rng, 32),
            "signed_prekey_id": 1,
            "one_time_prekey_id": None,
        }
    wire["header"] = {
        "ratchet_key": numbers(rng, 32),
        "previous_chain_length": 0,
        "message_number": 3,
    }
    wire["ciphertext"] = numbers(rng, 40)
    wire["nonce"] = numbers(rng, 12)
    return json.dumps(wire, separators=(",", ":")).encode()


def group_wire(rng: random.Random) -> bytes:
    """A Sender Keys channel message as the web client sends it."""
    message = {
        "chain_id": rng.randrange(2**32),
        "iteration": 7,
        "ciphertext": numbers(rng, 33),
        "nonce": numbers(rng, 12),
    }
    return json.dumps({"v": 1, "sk": True, "message": message}, separators=(",", ":")).encode()


def test_plaintext_is_indexed_folded() -> None:
    """A plaintext message gives its text, case-folded."""
    assert searchable_text(b"Hello World, meet at 10:30!") == "hello world, meet at 10:30!"
    assert searchable_text("Grüße aus KÖLN 🎉".encode()) == "grüsse aus köln 🎉"


@pytest.mark.parametrize("first", [True, False])
def test_dm_wire_messages_are_not_indexed(first: bool) -> None:
    """Double Ratchet wire messages (with or without the X3DH part) are never indexed."""
    wire = dm_wire(random.Random(1), first=first)
    assert is_wire_message(wire.decode())
    assert searchable_text(wire) is None
    assert searchable_text(b"  \n" + wire) is None  # JSON may start with white space


def test_sender_key_wire_messages_are_not_indexed() -> None:
    """Sender Keys (group) wire messages are never indexed."""
    assert searchable_text(group_wire(random.Random(2))) is None


def test_bytes_that_are_not_utf8_are_not_indexed() -> None:
    """Real ciphertext bytes (invalid UTF-8) and text with NUL are not indexed."""
    rng = random.Random(3)
    for _ in range(50):
        data = b"\xff" + bytes(numbers(rng, rng.randrange(1, 200)))
        assert searchable_text(data) is None
    assert searchable_text(b"\xc3\x28") is None  # a broken two-byte sequence
    assert searchable_text(b"\xed\xa0\x80") is None  # an encoded surrogate
    assert searchable_text(b"text with a \x00 inside") is None


@pytest.mark.parametrize(
    "text",
    [
        '{"v": 1, "text": "hello"}',  # v but neither wire shape
        '{"v": 1, "header": {}}',  # DM shape incomplete
        '{"sk": true, "message": {}}',  # no v
        '{"hello": "world"}',
        "[1, 2, 3]",
        "{not json at all",
        "{" * 100_000,  # deeper than the JSON parser goes
    ],
)
def test_json_that_is_not_a_wire_message_is_indexed(text: str) -> None:
    """Other JSON (or JSON-looking) text is plaintext like any other."""
    assert not is_wire_message(text)
    assert searchable_text(text.encode()) == fold(text)


def test_fold_matches_case_and_compatibility_forms() -> None:
    """Case, ß/ss, ligatures, full-width letters and decomposed accents fold alike."""
    assert fold("STRASSE") == fold("Straße") == "strasse"
    assert fold("ﬁle") == fold("FILE")
    assert fold("ＣＨＡＴ") == "chat"
    assert fold("e\u0301") == fold("\u00e9") == fold("\u00c9")
    assert fold("ΣΊΣΥΦΟΣ") == fold("σίσυφος")
