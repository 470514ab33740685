"""Poll shapes (spec rest-api 2.14 and 3): PollResponse and the request bodies of
``POST /api/channels/{id}/polls`` and ``POST /api/polls/{id}/vote``."""

from __future__ import annotations

from typing import Annotated

import msgspec

from chatalot.protocol.api.constraints import documented, text, text_schema

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1


class PollVotesOut(msgspec.Struct, omit_defaults=True):
    """The votes for one option. ``voter_ids`` is always present for a poll that is not
    anonymous, ``[]`` when nobody chose the option: the original web client reads
    ``votes[i].voter_ids.includes(me)`` and breaks on a missing list (the original server
    omitted empty ones, so a new poll crashed the channel view). Never present for an
    anonymous poll (nobody can learn who voted for what)."""

    option_index: int
    count: int
    voter_ids: list[str] | None = None


class PollOut(msgspec.Struct):
    """The original's PollResponse: every key always present; ``votes`` has exactly one entry
    per option, in option order. ``created_by`` is null once its creator has been deleted."""

    id: str
    channel_id: str
    created_by: str | None
    question: str
    options: list[str]
    multi_select: bool
    anonymous: bool
    closed: bool
    expires_at: str | None
    created_at: str
    votes: list[PollVotesOut]


# -- request bodies ------------------------------------------------------------------------


_OPTIONS = documented(
    "2-10 options, each 1-200 bytes (trimmed).",
    minItems=2,
    maxItems=10,
    items=text_schema(200, required=True),
)
_EXPIRY = documented("Minutes until voting ends (at most 7 days).", minimum=1, maximum=10080)


class CreatePollIn(msgspec.Struct):
    """``multi_select`` and ``anonymous`` may be omitted (false) but not ``null`` (as in the
    original)."""

    question: Annotated[str, text(500, required=True, multiline=True)]
    options: Annotated[list[str], _OPTIONS]
    multi_select: bool = False
    anonymous: bool = False
    expires_in_minutes: (
        Annotated[
            int, documented("Minutes until voting ends (at most 7 days).", minimum=1, maximum=10080)
        ]
        | None
    ) = None


class VoteIn(msgspec.Struct):
    option_index: Annotated[int, msgspec.Meta(ge=INT32_MIN, le=INT32_MAX)]
