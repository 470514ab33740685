"""`GET /api/channels/{id}/messages/search` (channel members) and `GET /api/messages/search`
(every channel the caller is a member of): ``q`` (2-256 characters), ``limit`` (default 20;
above 50 gives 50), ``sender``, ``after`` / ``before`` (RFC 3339, inclusive), ``has_file``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

import msgspec
from litestar import get
from litestar.params import FromPath

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import described_query, errors, integer_query, required_query
from chatalot.api.params import parse_int, parse_uuid
from chatalot.api.routes.messages import message_out
from chatalot.errors import Invalid
from chatalot.ids import ChannelId
from chatalot.protocol.api.search import MessageSearchOut
from chatalot.repositories.search import SearchFilters
from chatalot.services import search as search_service
from chatalot.services.search import DEFAULT_LIMIT, MAX_LIMIT, SearchHit, SearchRequest

QUERY = described_query(
    'What to find: words (stemmed in SEARCH_LANGUAGE), "quoted phrases", or any part of the '
    "text (partial words, prefixes); any case. 2-256 characters.",
    minLength=2,
    maxLength=256,
)
LIMIT = integer_query(
    1,
    None,
    f"At most this many messages (default {DEFAULT_LIMIT}; above {MAX_LIMIT} gives {MAX_LIMIT}).",
)
SENDER = described_query(
    "Only messages whose sender's username contains this (any case).", maxLength=256
)
AFTER = described_query("Only messages sent at or after this time (RFC 3339).", format="date-time")
BEFORE = described_query(
    "Only messages sent at or before this time (RFC 3339).", format="date-time"
)
HAS_FILE = described_query("true: only file messages.", enum=["true", "false"])

_EARLIEST = datetime.min.replace(tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)
# RFC 3339 date-time (section 5.6). A space instead of "+" in the offset is taken as "+": an
# unencoded "+" in a query string arrives as a space.
_RFC3339 = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+\- ]\d{2}:\d{2})"
)


def parse_time(value: str | None, name: str) -> datetime | None:
    """An RFC 3339 date-time, or None when absent or empty. Unparseable: 400 naming the
    parameter (the original ignored it and searched without the bound)."""
    if value is None or value.strip() == "":
        return None
    match = _RFC3339.fullmatch(value.strip())
    if match is None:
        raise Invalid(f"{name} must be an RFC 3339 date-time, e.g. 2026-01-31T12:00:00Z")
    date, hour, minute, second, fraction, offset = match.groups()
    if date.startswith("0000-"):  # RFC 3339 allows year 0, Python's datetime starts at 1
        return _EARLIEST
    leap = second == "60"  # a leap second: the next second, as PostgreSQL reads it
    micro = (fraction or ".0")[1:7].ljust(6, "0")
    sign = "-" if offset.startswith("-") else "+"
    zone = "+00:00" if offset in ("Z", "z") else sign + offset[1:]
    text = f"{date}T{hour}:{minute}:{'59' if leap else second}.{micro}{zone}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(f"{name} must be an RFC 3339 date-time, e.g. 2026-01-31T12:00:00Z") from None
    try:
        return (parsed + timedelta(seconds=1) if leap else parsed).astimezone(UTC)
    except OverflowError:  # beyond year 1 or 9999 once in UTC: as far as a bound can go
        return _EARLIEST if parsed.year == 1 else _LATEST


def parse_bool(value: str | None, name: str) -> bool:
    if value is None or value.strip() == "":
        return False
    text = value.strip().lower()
    if text not in ("true", "false"):
        raise Invalid(f"{name} must be true or false")
    return text == "true"


def search_limit(value: str | None) -> int:
    """1-50, default 20; a larger number gives 50 (the original's cap); zero, negative or not a
    whole number: 400."""
    try:
        return parse_int(value, "limit", default=DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
    except Invalid:
        capped = parse_int(value, "limit", default=DEFAULT_LIMIT, low=1, high=MAX_LIMIT, clamp=True)
        if capped == MAX_LIMIT:
            return MAX_LIMIT
        raise


def search_request(
    q: str | None,
    limit: str | None,
    sender: str | None,
    after: str | None,
    before: str | None,
    has_file: str | None,
) -> SearchRequest:
    if q is None:
        raise Invalid(search_service.QUERY_MESSAGE)
    return SearchRequest(
        query=q,
        filters=SearchFilters(
            sender=sender or None,
            after=parse_time(after, "after"),
            before=parse_time(before, "before"),
            has_file=parse_bool(has_file, "has_file"),
        ),
        limit=search_limit(limit),
    )


def hit_out(hit: SearchHit) -> MessageSearchOut:
    return MessageSearchOut(
        **msgspec.structs.asdict(message_out(hit.view)), highlight=hit.highlight
    )


@get(
    "/api/channels/{channel_id:str}/messages/search",
    opt=required_query("q"),
    responses=errors(403),
)
async def search_channel_messages(
    ctx: CtxDep,
    actor: ActorDep,
    channel_id: FromPath[str],
    q: Annotated[str | None, QUERY] = None,
    limit: Annotated[str | None, LIMIT] = None,
    sender: Annotated[str | None, SENDER] = None,
    after: Annotated[str | None, AFTER] = None,
    before: Annotated[str | None, BEFORE] = None,
    has_file: Annotated[str | None, HAS_FILE] = None,
) -> list[MessageSearchOut]:
    hits = await search_service.search_channel(
        ctx,
        actor,
        ChannelId(parse_uuid(channel_id, "channel id")),
        search_request(q, limit, sender, after, before, has_file),
    )
    return [hit_out(h) for h in hits]


@get("/api/messages/search", opt=required_query("q"))
async def search_messages(
    ctx: CtxDep,
    actor: ActorDep,
    q: Annotated[str | None, QUERY] = None,
    limit: Annotated[str | None, LIMIT] = None,
    sender: Annotated[str | None, SENDER] = None,
    after: Annotated[str | None, AFTER] = None,
    before: Annotated[str | None, BEFORE] = None,
    has_file: Annotated[str | None, HAS_FILE] = None,
) -> list[MessageSearchOut]:
    hits = await search_service.search_all(
        ctx, actor, search_request(q, limit, sender, after, before, has_file)
    )
    return [hit_out(h) for h in hits]


HANDLERS = [search_channel_messages, search_messages]
