"""Which messages the server can search, and the text it indexes for them. Pure functions, no
I/O: services/messages.py calls ``searchable_text`` when a message is sent or edited, the
backfill job (services/search_index.py) for rows stored before search existed, and
services/search.py folds the query with ``fold``.

A message's ``ciphertext`` is indexable when it is the plaintext a client sent on an instance
with end-to-end encryption off. It is NOT indexable (and never stored a second time) when:

- it is not valid UTF-8 (real ciphertext bytes), or holds a NUL (PostgreSQL text cannot);
- it is a JSON object shaped like an end-to-end wire message (spec e2e-protocol.md): ``v`` with
  the DM fields ``header`` and ``ciphertext`` (the Double Ratchet ``WireMessage``), or ``v`` with
  ``sk`` and ``message`` (a Sender Keys channel message). Those are UTF-8 JSON whose inner
  ``ciphertext`` is the real, encrypted content: indexing the JSON would index noise.

The indexed form is the text folded for caseless matching, the same way as the query
(``fold``): Unicode NFKC and case folding done here rather than by PostgreSQL, so that matching
does not depend on the database's locale (the embedded cluster uses the C locale, where
PostgreSQL lowercases ASCII only: ``Ü`` would not match ``ü``).
"""

from __future__ import annotations

import json
import unicodedata

# The keys that make a JSON object an end-to-end wire message (besides "v").
_DM_KEYS = ("header", "ciphertext")
_SENDER_KEY_KEYS = ("sk", "message")


def fold(text: str) -> str:
    """``text`` for caseless, compatibility-insensitive matching: NFKC, case folding, NFKC
    again (so ``Straße`` and ``STRASSE``, ``ﬁle`` and ``file``, a precomposed ``é`` and ``e`` +
    combining accent all fold to the same string)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def is_wire_message(text: str) -> bool:
    """Whether ``text`` is a JSON object shaped like an end-to-end encrypted wire message."""
    if not text.lstrip().startswith("{"):
        return False
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return False
    if not isinstance(value, dict) or "v" not in value:
        return False
    return all(k in value for k in _DM_KEYS) or all(k in value for k in _SENDER_KEY_KEYS)


def searchable_text(ciphertext: bytes) -> str | None:
    """The text to index for a message's ``ciphertext`` (folded), or None when the message is
    not indexable (see the module docstring)."""
    try:
        text = ciphertext.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\x00" in text or is_wire_message(text):
        return None
    return fold(text)
