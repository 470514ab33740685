"""Scheduled messages over REST: ``POST /api/messages/schedule``, ``GET
/api/messages/scheduled``. Unlike every other message route, ``ciphertext`` and ``nonce`` are
opaque strings here (the web client sends ``JSON.stringify(<byte array>)``), stored as sent."""

from __future__ import annotations

from typing import Annotated

import msgspec

from chatalot.protocol.api.constraints import UUID, documented


class ScheduleMessageIn(msgspec.Struct):
    channel_id: Annotated[str, UUID]
    ciphertext: Annotated[
        str,
        documented(
            "The message, as the client wants it delivered: normally a JSON array of byte "
            'values as a string (e.g. `"[104,105]"`); anything else is delivered as its '
            "UTF-8 bytes. 1 to 100,000 bytes."
        ),
    ]
    nonce: Annotated[str, documented("As `ciphertext`; 1 to 256 bytes.")]
    scheduled_for: Annotated[
        str,
        documented(
            "When to deliver: an RFC 3339 date-time with an offset, in the future and at most "
            "30 days ahead.",
            format="date-time",
        ),
    ]
    content_preview: (
        Annotated[str, documented("An opaque (client-encrypted) preview, at most 10,000 bytes.")]
        | None
    ) = None


class ScheduledMessageOut(msgspec.Struct, omit_defaults=True):
    """The original's ScheduledMessageResponse: ``content_preview`` omitted when absent; the
    ciphertext and nonce are never returned."""

    id: str
    channel_id: str
    scheduled_for: str
    created_at: str
    content_preview: str | None = None
