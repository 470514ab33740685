"""Community moderation in a channel: timeouts and warnings
(``/api/communities/{cid}/channels/{chid}/...``, spec rest-api 2.5 and 3)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from chatalot.protocol.api.constraints import UUID, documented, text


class TimeoutIn(msgspec.Struct):
    user_id: Annotated[str, UUID]
    duration_seconds: Annotated[
        int, documented("60 seconds to 30 days.", minimum=60, maximum=2_592_000)
    ]
    reason: Annotated[str, text(500, multiline=True)] | None = None


class WarnIn(msgspec.Struct):
    user_id: Annotated[str, UUID]
    reason: Annotated[str, text(1000, required=True, multiline=True)]


class TimeoutOut(msgspec.Struct):
    """The original's TimeoutResponse (every key always present)."""

    id: str
    user_id: str
    channel_id: str
    issued_by: str | None
    reason: str | None
    expires_at: str
    created_at: str


class WarningOut(msgspec.Struct):
    """The original's WarningResponse (every key always present)."""

    id: str
    user_id: str
    channel_id: str
    issued_by: str | None
    reason: str
    created_at: str
