"""SQL for polls (tables polls and poll_votes). No permission checks, no events: see
services/polls.py."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chatalot.db.database import Conn
from chatalot.ids import ChannelId, UserId

_POLL_COLUMNS = (
    "id, channel_id, created_by, question, options, multi_select, anonymous, closed,"
    " expires_at, created_at"
)


@dataclass(frozen=True, slots=True)
class PollRow:
    id: uuid.UUID
    channel_id: ChannelId
    created_by: UserId | None  # None once its creator has been deleted
    question: str
    options: list[str]
    multi_select: bool
    anonymous: bool
    closed: bool
    expires_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OptionVotes:
    """The votes for one option of one poll, voters in the order they voted."""

    poll_id: uuid.UUID
    option_index: int
    count: int
    voter_ids: list[UserId]


def _poll(record: Any) -> PollRow:
    values = dict(record)
    values["options"] = [str(o) for o in values["options"]]
    return PollRow(**values)


async def insert_poll(
    conn: Conn,
    *,
    poll_id: uuid.UUID,
    channel_id: ChannelId,
    created_by: UserId,
    question: str,
    options: list[str],
    multi_select: bool,
    anonymous: bool,
    expires_at: datetime | None,
    created_at: datetime,
) -> PollRow:
    record = await conn.fetchrow(
        f"""
        INSERT INTO polls (id, channel_id, created_by, question, options, multi_select,
                           anonymous, expires_at, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        RETURNING {_POLL_COLUMNS}
        """,
        poll_id,
        channel_id,
        created_by,
        question,
        options,
        multi_select,
        anonymous,
        expires_at,
        created_at,
    )
    return _poll(record)


async def select_poll(conn: Conn, poll_id: uuid.UUID, *, lock: str | None = None) -> PollRow | None:
    """``lock``: ``"share"`` (votes: the poll cannot be closed until the transaction ends, many
    voters at once) or ``"update"`` (closing)."""
    suffix = {None: "", "share": " FOR SHARE", "update": " FOR UPDATE"}[lock]
    record = await conn.fetchrow(
        f"SELECT {_POLL_COLUMNS} FROM polls WHERE id = $1{suffix}", poll_id
    )
    return _poll(record) if record else None


async def list_channel_polls(conn: Conn, channel_id: ChannelId) -> list[PollRow]:
    """Newest first."""
    records = await conn.fetch(
        f"""
        SELECT {_POLL_COLUMNS} FROM polls
         WHERE channel_id = $1
         ORDER BY created_at DESC, id DESC
        """,
        channel_id,
    )
    return [_poll(r) for r in records]


async def list_option_votes(conn: Conn, poll_ids: Sequence[uuid.UUID]) -> list[OptionVotes]:
    """Vote counts and voters per (poll, option) that has votes."""
    records = await conn.fetch(
        """
        SELECT poll_id, option_index, count(*) AS count,
               array_agg(user_id ORDER BY created_at, id) AS voter_ids
          FROM poll_votes
         WHERE poll_id = ANY($1::uuid[])
         GROUP BY poll_id, option_index
        """,
        list(poll_ids),
    )
    return [
        OptionVotes(
            poll_id=r["poll_id"],
            option_index=r["option_index"],
            count=r["count"],
            voter_ids=list(r["voter_ids"]),
        )
        for r in records
    ]


async def lock_voter(conn: Conn, poll_id: uuid.UUID, user_id: UserId) -> None:
    """Serialises one user's votes on one poll until the transaction ends (on every server
    process), so that a single-select poll never ends up with two votes of theirs."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock("
        "hashtextextended('chatalot:poll-vote:' || $1::uuid::text || ':' || $2::uuid::text, 0))",
        poll_id,
        user_id,
    )


async def list_voter_options(conn: Conn, poll_id: uuid.UUID, user_id: UserId) -> list[int]:
    """The options the user has voted for, in option order."""
    records = await conn.fetch(
        "SELECT option_index FROM poll_votes WHERE poll_id = $1 AND user_id = $2"
        " ORDER BY option_index",
        poll_id,
        user_id,
    )
    return [int(r["option_index"]) for r in records]


async def insert_vote(
    conn: Conn,
    *,
    vote_id: uuid.UUID,
    poll_id: uuid.UUID,
    user_id: UserId,
    option_index: int,
    created_at: datetime,
) -> bool:
    """False when the user had already voted for that option (nothing changes)."""
    inserted = await conn.fetchval(
        """
        INSERT INTO poll_votes (id, poll_id, user_id, option_index, created_at)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (poll_id, user_id, option_index) DO NOTHING
        RETURNING true
        """,
        vote_id,
        poll_id,
        user_id,
        option_index,
        created_at,
    )
    return bool(inserted)


async def delete_votes(
    conn: Conn, poll_id: uuid.UUID, user_id: UserId, option_indexes: Sequence[int]
) -> list[int]:
    """Removes the user's votes for these options; the options that had one, in order."""
    records = await conn.fetch(
        """
        DELETE FROM poll_votes
         WHERE poll_id = $1 AND user_id = $2 AND option_index = ANY($3::int[])
        RETURNING option_index
        """,
        poll_id,
        user_id,
        list(option_indexes),
    )
    return sorted(int(r["option_index"]) for r in records)


async def update_poll_closed(conn: Conn, poll_id: uuid.UUID) -> None:
    await conn.execute("UPDATE polls SET closed = true WHERE id = $1 AND NOT closed", poll_id)
