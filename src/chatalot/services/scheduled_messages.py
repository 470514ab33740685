"""Scheduled messages (spec rest-api 2.15): scheduling, listing and cancelling one's own.

Scheduling checks in the original's order, with its texts: membership of the channel (403; a
channel ban counts as not a member), ``scheduled_for`` (RFC 3339 with an offset, in the future,
at most 30 days ahead), ciphertext and nonce (present, at most 100,000 and 256 bytes), at most
50 scheduled messages per user, the preview (at most 10,000 bytes). Sizes are UTF-8 bytes. The
count and the insert run under a per-user lock, so concurrent requests never go past 50.

``ciphertext`` and ``nonce`` are stored as the strings sent; delivery decodes them
(services/scheduled_delivery.py). Nothing is sent over the WebSocket when scheduling.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

from chatalot.context import Ctx
from chatalot.errors import Forbidden, Invalid, NotFound
from chatalot.ids import ChannelId, uuid7
from chatalot.repositories import messages as messages_repo
from chatalot.repositories import scheduled_messages as scheduled_repo
from chatalot.repositories.scheduled_messages import ScheduledRow
from chatalot.services.actor import Actor

MAX_AHEAD = timedelta(days=30)
MAX_CIPHERTEXT = 100_000
MAX_NONCE = 256
MAX_PREVIEW = 10_000
MAX_PER_USER = 50
LIST_LIMIT = 200

# RFC 3339 date-time (section 5.6), as chrono's parse_from_rfc3339 reads it ("T", "t" or a
# space between date and time; "Z", "z" or a numeric offset).
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})",
    re.ASCII,
)

INVALID_TIME = "invalid scheduled_for datetime"
IN_THE_PAST = "scheduled_for must be in the future"
TOO_FAR = "cannot schedule more than 30 days ahead"


class _Far(Exception):
    """A valid RFC 3339 time beyond what datetime holds (year 9999 in UTC)."""


def parse_scheduled_for(value: str, now: datetime) -> datetime:
    """The instant ``value`` names (UTC), checked against ``now``: Invalid with the spec's
    texts when unparseable, not in the future or more than 30 days ahead."""
    match = _RFC3339.fullmatch(value)
    if match is None:
        raise Invalid(INVALID_TIME)
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    leap = second == "60"  # a leap second (chrono accepts it): the next second
    micro = int((fraction or ".0")[1:7].ljust(6, "0"))
    if offset in ("Z", "z"):
        zone = timedelta(0)
    else:
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > 23 or minutes > 59:
            raise Invalid(INVALID_TIME)
        zone = timedelta(hours=hours, minutes=minutes) * (-1 if offset[0] == "-" else 1)
    try:
        if int(year) == 0:
            raise OverflowError  # year 0 is valid RFC 3339: long past
        local = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            59 if leap else int(second),
            micro,
            tzinfo=UTC,
        )
    except ValueError:
        raise Invalid(INVALID_TIME) from None
    except OverflowError:
        raise Invalid(IN_THE_PAST) from None
    try:
        when = local - zone + (timedelta(seconds=1) if leap else timedelta(0))
    except OverflowError:
        raise Invalid(IN_THE_PAST if local.year == 1 else TOO_FAR) from None
    if when <= now:
        raise Invalid(IN_THE_PAST)
    if when > now + MAX_AHEAD:
        raise Invalid(TOO_FAR)
    return when


def _utf8_len(text: str) -> int:
    return len(text.encode())


async def schedule_message(
    ctx: Ctx,
    actor: Actor,
    channel_id: ChannelId,
    *,
    ciphertext: str,
    nonce: str,
    scheduled_for: str,
    content_preview: str | None,
) -> ScheduledRow:
    now = ctx.clock.now()
    async with ctx.db.transaction("schedule_message") as tx:
        conn = tx.conn
        context = await messages_repo.select_send_context(conn, channel_id, actor.user_id, now)
        if context is None or context.member_role is None or context.banned:
            raise Forbidden()
        when = parse_scheduled_for(scheduled_for, now)
        if not ciphertext or not nonce:
            raise Invalid("ciphertext and nonce are required")
        if _utf8_len(ciphertext) > MAX_CIPHERTEXT:
            raise Invalid("ciphertext too large (max 100 KB)")
        if _utf8_len(nonce) > MAX_NONCE:
            raise Invalid("nonce too large (max 256 bytes)")
        await scheduled_repo.lock_user_scheduled(conn, actor.user_id)
        if await scheduled_repo.count_user_scheduled(conn, actor.user_id) >= MAX_PER_USER:
            raise Invalid(f"cannot have more than {MAX_PER_USER} scheduled messages")
        if content_preview is not None and _utf8_len(content_preview) > MAX_PREVIEW:
            raise Invalid("content_preview too large (max 10 KB)")
        return await scheduled_repo.insert_scheduled_message(
            conn,
            scheduled_id=uuid7(),
            channel_id=channel_id,
            user_id=actor.user_id,
            ciphertext=ciphertext,
            nonce=nonce,
            scheduled_for=when,
            created_at=now,
            content_preview=content_preview,
        )


async def list_scheduled(ctx: Ctx, actor: Actor) -> list[ScheduledRow]:
    """The caller's scheduled messages, soonest first (at most 200)."""
    async with ctx.db.connection() as conn:
        return await scheduled_repo.list_user_scheduled(conn, actor.user_id, limit=LIST_LIMIT)


async def cancel_scheduled(ctx: Ctx, actor: Actor, scheduled_id: uuid.UUID) -> None:
    """Only the caller's own; anyone else's (or an unknown id) is 404."""
    async with ctx.db.transaction("cancel_scheduled_message") as tx:
        if not await scheduled_repo.delete_user_scheduled(tx.conn, scheduled_id, actor.user_id):
            raise NotFound("scheduled message not found")
