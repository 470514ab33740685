"""SQL for messages and what hangs off them here: tables messages, message_edits,
channel_slowmode_tracker, channel_bans (ban check), reactions (read only). No permission checks
here: see services/messages.py."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chatalot.db.database import Conn
from chatalot.ids import ChannelId, UserId
from chatalot.repositories.channels import CHANNEL_COLUMNS, ChannelRow, channel_row

MESSAGE_COLUMNS = (
    "m.id, m.channel_id, m.sender_id, m.ciphertext, m.nonce, m.message_type, m.sender_key_id,"
    " m.reply_to_id, m.thread_id, m.edited_at, m.deleted_at, m.created_at, m.expires_at"
)


@dataclass(frozen=True, slots=True)
class MessageRow:
    id: uuid.UUID
    channel_id: ChannelId
    sender_id: UserId | None
    ciphertext: bytes
    nonce: bytes
    message_type: str
    sender_key_id: uuid.UUID | None
    reply_to_id: uuid.UUID | None
    thread_id: uuid.UUID | None
    edited_at: datetime | None
    deleted_at: datetime | None
    created_at: datetime
    expires_at: datetime | None


def message_row(record: Any) -> MessageRow:
    return MessageRow(**dict(record))


@dataclass(frozen=True, slots=True)
class ReactionGroup:
    emoji: str
    user_ids: list[UserId]


@dataclass(frozen=True, slots=True)
class ThreadStats:
    reply_count: int
    last_reply_at: datetime


@dataclass(frozen=True, slots=True)
class EditRow:
    id: uuid.UUID
    old_ciphertext: bytes
    old_nonce: bytes
    edited_at: datetime


async def select_message(
    conn: Conn, message_id: uuid.UUID, *, for_update: bool = False
) -> MessageRow | None:
    lock = " FOR UPDATE" if for_update else ""
    record = await conn.fetchrow(
        f"SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.id = $1{lock}", message_id
    )
    return message_row(record) if record else None


async def insert_message(
    conn: Conn,
    *,
    message_id: uuid.UUID,
    channel_id: ChannelId,
    sender_id: UserId,
    ciphertext: bytes,
    nonce: bytes,
    message_type: str,
    sender_key_id: uuid.UUID | None,
    reply_to_id: uuid.UUID | None,
    thread_id: uuid.UUID | None,
    created_at: datetime,
    expires_at: datetime | None,
    search_text: str | None,
    search_config: str,
) -> MessageRow:
    """``search_text``: the text to search (None: not indexable), ``search_config``: the
    text-search configuration, or ``''`` when not indexable (migration 046)."""
    record = await conn.fetchrow(
        f"""
        INSERT INTO messages AS m (id, channel_id, sender_id, ciphertext, nonce, message_type,
                                   sender_key_id, reply_to_id, thread_id, created_at, expires_at,
                                   search_text, search_config)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
        RETURNING {MESSAGE_COLUMNS}
        """,
        message_id,
        channel_id,
        sender_id,
        ciphertext,
        nonce,
        message_type,
        sender_key_id,
        reply_to_id,
        thread_id,
        created_at,
        expires_at,
        search_text,
        search_config,
    )
    return message_row(record)


@dataclass(frozen=True, slots=True)
class SendContextRow:
    """What sending a message into a channel is checked against, read in one statement."""

    channel: ChannelRow
    member_role: str | None  # None: not a member
    banned: bool
    timed_out_until: datetime | None  # the end of the latest unexpired timeout, if any


async def select_send_context(
    conn: Conn, channel_id: ChannelId, user_id: UserId, now: datetime
) -> SendContextRow | None:
    """The channel, the sender's stored role in it, whether they are banned from it and until
    when they are timed out (at ``now``): one round trip instead of four on every send. None
    when the channel does not exist."""
    record = await conn.fetchrow(
        f"""
        SELECT {CHANNEL_COLUMNS},
               cm.role AS member_role,
               EXISTS (SELECT 1 FROM channel_bans b
                        WHERE b.channel_id = ch.id AND b.user_id = $2) AS banned,
               (SELECT max(t.expires_at) FROM user_timeouts t
                 WHERE t.channel_id = ch.id AND t.user_id = $2 AND t.expires_at > $3)
                   AS timed_out_until
          FROM channels ch
          LEFT JOIN channel_members cm ON cm.channel_id = ch.id AND cm.user_id = $2
         WHERE ch.id = $1
        """,
        channel_id,
        user_id,
        now,
    )
    if record is None:
        return None
    values = dict(record)
    member_role = values.pop("member_role")
    banned = values.pop("banned")
    timed_out_until = values.pop("timed_out_until")
    return SendContextRow(channel_row(values), member_role, banned, timed_out_until)


async def claim_slowmode_slot(
    conn: Conn, channel_id: ChannelId, user_id: UserId, now: datetime, seconds: int
) -> datetime | None:
    """Records ``now`` as the user's last send unless their previous send is less than
    ``seconds`` old; one statement, so two concurrent sends cannot both pass. None when the slot
    was taken; else the previous send time blocking it (returned when refused)."""
    taken = await conn.fetchval(
        """
        INSERT INTO channel_slowmode_tracker AS t (channel_id, user_id, last_sent)
        VALUES ($1, $2, $3)
        ON CONFLICT (channel_id, user_id) DO UPDATE SET last_sent = EXCLUDED.last_sent
         WHERE t.last_sent <= $3 - make_interval(secs => $4)
        RETURNING true
        """,
        channel_id,
        user_id,
        now,
        float(seconds),
    )
    if taken:
        return None
    last: datetime = await conn.fetchval(
        "SELECT last_sent FROM channel_slowmode_tracker WHERE channel_id = $1 AND user_id = $2",
        channel_id,
        user_id,
    )
    return last


async def exists_other_visible_message(
    conn: Conn, channel_id: ChannelId, message_id: uuid.UUID
) -> bool:
    """Whether the channel holds a message other than ``message_id`` that is neither deleted
    nor quarantined (the first-DM-message check: one index probe, whatever the history)."""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM messages WHERE channel_id = $1 AND id <> $2"
            " AND deleted_at IS NULL AND quarantined_at IS NULL)",
            channel_id,
            message_id,
        )
    )


async def list_channel_messages(
    conn: Conn,
    channel_id: ChannelId,
    *,
    before: uuid.UUID | None,
    limit: int,
    now: datetime,
) -> list[MessageRow]:
    """Newest first, ordered by (created_at, id); ``before``: strictly older than that message
    in this order (an unknown id or one of another channel gives nothing). The cursor is a
    subquery, evaluated once before the scan, so that its time bounds the index scan on
    (channel_id, created_at) (``created_at <= cursor``); joined, it was only known row by row and
    every newer message of the channel was read and dropped (170 ms at random depths of a
    1,000,000-message channel, 0.1 ms now)."""
    if before is None:
        records = await conn.fetch(
            f"""
            SELECT {MESSAGE_COLUMNS} FROM messages m
             WHERE m.channel_id = $1 AND m.deleted_at IS NULL AND m.quarantined_at IS NULL
               AND (m.expires_at IS NULL OR m.expires_at > $2)
             ORDER BY m.created_at DESC, m.id DESC
             LIMIT $3
            """,
            channel_id,
            now,
            limit,
        )
    else:
        records = await conn.fetch(
            f"""
            SELECT {MESSAGE_COLUMNS} FROM messages m
             WHERE m.channel_id = $1 AND m.deleted_at IS NULL AND m.quarantined_at IS NULL
               AND (m.expires_at IS NULL OR m.expires_at > $2)
               AND (m.created_at, m.id) < (SELECT c.created_at, c.id FROM messages c
                                            WHERE c.id = $4 AND c.channel_id = $1)
             ORDER BY m.created_at DESC, m.id DESC
             LIMIT $3
            """,
            channel_id,
            now,
            limit,
            before,
        )
    return [message_row(r) for r in records]


async def list_reactions(
    conn: Conn, message_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[ReactionGroup]]:
    """Per message: reactions grouped per emoji, emojis in order of their first reaction."""
    records = await conn.fetch(
        """
        SELECT message_id, emoji, array_agg(user_id ORDER BY created_at, id) AS user_ids
          FROM reactions WHERE message_id = ANY($1::uuid[])
         GROUP BY message_id, emoji
         ORDER BY message_id, min(created_at), emoji
        """,
        list(message_ids),
    )
    out: dict[uuid.UUID, list[ReactionGroup]] = {}
    for r in records:
        out.setdefault(r["message_id"], []).append(ReactionGroup(r["emoji"], list(r["user_ids"])))
    return out


async def thread_stats(
    conn: Conn, message_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ThreadStats]:
    """Reply count and last reply time of the messages that have (visible) thread replies."""
    records = await conn.fetch(
        """
        SELECT thread_id, count(*) AS n, max(created_at) AS last_at FROM messages
         WHERE thread_id = ANY($1::uuid[]) AND deleted_at IS NULL AND quarantined_at IS NULL
         GROUP BY thread_id
        """,
        list(message_ids),
    )
    return {r["thread_id"]: ThreadStats(r["n"], r["last_at"]) for r in records}


async def insert_edit(
    conn: Conn, message_id: uuid.UUID, old_ciphertext: bytes, old_nonce: bytes, edited_at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO message_edits (message_id, old_ciphertext, old_nonce, edited_at)"
        " VALUES ($1, $2, $3, $4)",
        message_id,
        old_ciphertext,
        old_nonce,
        edited_at,
    )


async def update_content(
    conn: Conn,
    message_id: uuid.UUID,
    sender_id: UserId,
    ciphertext: bytes,
    nonce: bytes,
    edited_at: datetime,
    *,
    search_text: str | None,
    search_config: str,
) -> bool:
    """Only the sender's, not soft-deleted message; True when updated. The search columns
    are replaced as on insert."""
    status = await conn.execute(
        "UPDATE messages SET ciphertext = $3, nonce = $4, edited_at = $5, search_text = $6,"
        " search_config = $7 WHERE id = $1 AND sender_id = $2 AND deleted_at IS NULL",
        message_id,
        sender_id,
        ciphertext,
        nonce,
        edited_at,
        search_text,
        search_config,
    )
    return str(status).endswith(" 1")


async def soft_delete(conn: Conn, message_id: uuid.UUID, now: datetime) -> bool:
    status = await conn.execute(
        "UPDATE messages SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL",
        message_id,
        now,
    )
    return str(status).endswith(" 1")


async def list_edits(conn: Conn, message_id: uuid.UUID) -> list[EditRow]:
    records = await conn.fetch(
        "SELECT id, old_ciphertext, old_nonce, edited_at FROM message_edits"
        " WHERE message_id = $1 ORDER BY edited_at, id",
        message_id,
    )
    return [EditRow(**dict(r)) for r in records]
