"""Delivering scheduled messages (spec ws-auth-ops 4.3): a background job of every server
process, run every few seconds (server.py; ``CHATALOT_SCHEDULED_DELIVERY_INTERVAL_SECS``).

Exactly once, with any number of server processes: a run claims up to ``BATCH_SIZE`` due rows
(oldest first) with ``SELECT ... FOR UPDATE SKIP LOCKED`` and, in that same transaction, stores
each message and deletes its scheduled row; the whole batch commits together. A row claimed by
another process is skipped, never delivered twice; if the process dies before the commit the
rows come back untouched for the next run, never lost. A run takes batch after batch until the
due rows are done.

Per row, in the original's order (each drop deletes the row and logs the spec's INFO line):
the author is suspended; not a member of the channel (or banned from it); the channel is gone;
archived or read-only (no privilege exemption); DM: a block either way or no community shared
with the other member (fail closed); an active timeout in the channel. Otherwise a normal
``text`` message with a new UUIDv7 id, ``expires_at`` from the channel's TTL and the search
columns as a WebSocket send sets them; the stored strings are decoded as JSON byte arrays,
falling back to their UTF-8 bytes. No slow-mode check, no ``message_sent``, no push.

Events, after commit: ``new_message`` (sender = author, ``reply_to``/``sender_key_id`` null) to
the channel's subscribers; in a DM to every session of the other member(s) and of the author
(no session of the author sent it, so all of them see it: the original showed it to none of
them until a reload). Beyond the original: when it is the DM's first message the other
member(s) get ``new_dm_channel`` first, as for a WebSocket send, so the DM appears.

A failed insert (in its own savepoint, the rest of the batch goes on) keeps the row for the
next run, unless it is more than 5 minutes overdue: then it is dropped.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import msgspec

from chatalot.context import Ctx
from chatalot.db.database import Tx
from chatalot.ids import ChannelId, UserId, uuid7
from chatalot.protocol import events
from chatalot.protocol.time import rfc3339
from chatalot.repositories import blocks as blocks_repo
from chatalot.repositories import channels as channels_repo
from chatalot.repositories import communities as communities_repo
from chatalot.repositories import messages as messages_repo
from chatalot.repositories import scheduled_messages as scheduled_repo
from chatalot.repositories import users as users_repo
from chatalot.repositories.messages import MessageRow
from chatalot.repositories.scheduled_messages import DueRow
from chatalot.repositories.search import NOT_INDEXABLE
from chatalot.services.audience import ChannelSubscribers, Users
from chatalot.services.messages import new_message_event
from chatalot.services.search_index import search_language
from chatalot.services.search_text import searchable_text

log = logging.getLogger("chatalot_server")

BATCH_SIZE = 500
GIVE_UP_AFTER = timedelta(minutes=5)

SUSPENDED = "user is suspended"
NOT_A_MEMBER = "user no longer a member"
NO_CHANNEL = "channel not found"
RESTRICTED = "channel restricted or user blocked/timed out"


@dataclass(slots=True)
class DeliveryReport:
    """What one run of this process did."""

    delivered: list[uuid.UUID] = field(default_factory=list)  # the new messages' ids
    dropped: int = 0
    kept: list[uuid.UUID] = field(default_factory=list)  # scheduled ids left for a later run


def decode_bytes(text: str) -> bytes:
    """A stored ciphertext or nonce: the bytes of a JSON array of 0-255 integers (what the web
    client stores), else the string's own UTF-8 bytes."""
    try:
        values = msgspec.json.decode(text, type=list[int])
    except (msgspec.DecodeError, msgspec.ValidationError):
        return text.encode()
    if all(0 <= v <= 255 for v in values):
        return bytes(values)
    return text.encode()


async def _drop_reason(tx: Tx, ctx: Ctx, row: DueRow) -> str | None:
    if row.suspended or ctx.suspensions.is_suspended(row.user_id):
        return SUSPENDED
    if not row.member:
        return NOT_A_MEMBER
    if row.channel_type is None:
        return NO_CHANNEL
    if row.archived or row.read_only:
        return RESTRICTED
    if row.channel_type == "dm":
        for other in await _dm_others(tx, row):
            if await blocks_repo.exists_block_between(tx.conn, user_a=row.user_id, user_b=other):
                return RESTRICTED
            if not await communities_repo.exists_shared_community(tx.conn, row.user_id, other):
                return RESTRICTED
    if row.timed_out:
        return RESTRICTED
    return None


async def _dm_others(tx: Tx, row: DueRow) -> list[UserId]:
    members = await channels_repo.list_member_ids(tx.conn, row.channel_id)
    return [m for m in members if m != row.user_id]


class _Language:
    """The search configuration, looked up once per run (only if a message is indexable)."""

    def __init__(self, ctx: Ctx) -> None:
        self._ctx = ctx
        self._value: str | None = None

    async def config(self, tx: Tx, search_text: str | None) -> str:
        if search_text is None:
            return NOT_INDEXABLE
        if self._value is None:
            self._value = await search_language(tx.conn, self._ctx.settings)
        return self._value


async def _store(ctx: Ctx, tx: Tx, row: DueRow, language: _Language) -> MessageRow:
    """The message, in a savepoint of the batch's transaction (a failure undoes only this)."""
    async with ctx.db.transaction("deliver_scheduled_message"):
        now = ctx.clock.now()
        ciphertext = decode_bytes(row.ciphertext)
        search_text = searchable_text(ciphertext)
        ttl = row.message_ttl_seconds
        message = await messages_repo.insert_message(
            tx.conn,
            message_id=uuid7(),
            channel_id=row.channel_id,
            sender_id=row.user_id,
            ciphertext=ciphertext,
            nonce=decode_bytes(row.nonce),
            message_type="text",
            sender_key_id=None,
            reply_to_id=None,
            thread_id=None,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl) if ttl else None,
            search_text=search_text,
            search_config=await language.config(tx, search_text),
        )
        await scheduled_repo.delete_scheduled_message(tx.conn, row.id)
    return message


async def _emit(tx: Tx, row: DueRow, message: MessageRow) -> None:
    if row.channel_type != "dm":
        tx.emit(new_message_event(message), to=ChannelSubscribers(row.channel_id))
        return
    others = await _dm_others(tx, row)
    if others and not await messages_repo.exists_other_visible_message(
        tx.conn, row.channel_id, message.id
    ):
        await _emit_new_dm_channel(tx, row.channel_id, row.user_id, others)
    tx.emit(new_message_event(message), to=Users.of([*others, row.user_id]))


async def _emit_new_dm_channel(
    tx: Tx, channel_id: ChannelId, author_id: UserId, others: list[UserId]
) -> None:
    channel = await channels_repo.select_channel(tx.conn, channel_id)
    author = await users_repo.select_user(tx.conn, author_id)
    if channel is None or author is None:
        return
    tx.emit(
        events.NewDmChannel(
            channel_id=str(channel.id),
            channel_name=channel.name,
            created_at=rfc3339(channel.created_at),
            other_user_id=str(author.id),
            other_user_username=author.username,
            other_user_display_name=author.display_name,
            other_user_avatar_url=author.avatar_url,
        ),
        to=Users.of(others),
    )


async def _deliver_batch(
    ctx: Ctx,
    tx: Tx,
    rows: list[DueRow],
    started: datetime,
    report: DeliveryReport,
    language: _Language,
) -> None:
    for row in rows:
        reason = await _drop_reason(tx, ctx, row)
        if reason is not None:
            log.info("Dropping scheduled message %s: %s", row.id, reason)
            await scheduled_repo.delete_scheduled_message(tx.conn, row.id)
            report.dropped += 1
            continue
        try:
            message = await _store(ctx, tx, row, language)
        except Exception as err:
            log.warning("Failed to deliver scheduled message %s: %s", row.id, err)
            if started - row.scheduled_for > GIVE_UP_AFTER:
                log.warning(
                    "Dropping undeliverable scheduled message %s (overdue by >5min)", row.id
                )
                await scheduled_repo.delete_scheduled_message(tx.conn, row.id)
                report.dropped += 1
            else:
                report.kept.append(row.id)
            continue
        await _emit(tx, row, message)
        report.delivered.append(message.id)


async def deliver_scheduled_messages(
    ctx: Ctx,
    *,
    batch_size: int = BATCH_SIZE,
    before_commit: Callable[[list[DueRow]], Awaitable[None]] | None = None,
) -> DeliveryReport:
    """Delivers every scheduled message due now that no other process holds; what this run
    did. ``before_commit`` (tests): awaited with each batch's rows just before it commits."""
    started = ctx.clock.now()
    report = DeliveryReport()
    language = _Language(ctx)
    while True:
        batch = DeliveryReport(kept=report.kept)
        try:
            async with ctx.db.transaction("deliver_scheduled_messages") as tx:
                rows = await scheduled_repo.list_due_for_delivery(
                    tx.conn, started, limit=batch_size, skip=report.kept
                )
                await _deliver_batch(ctx, tx, rows, started, batch, language)
                if before_commit is not None:
                    await before_commit(rows)
        except Exception as err:
            log.warning("Failed to query due scheduled messages: %s", err)
            break
        report.delivered.extend(batch.delivered)
        report.dropped += batch.dropped
        if len(rows) < batch_size:
            break
    if report.delivered:
        log.info("Delivered %d scheduled message(s)", len(report.delivered))
    return report
