"""SQL for voice calls (tables voice_sessions and voice_session_participants). No permission
checks, no events: see services/voice.py.

A call ("voice session") is active while ``ended_at`` is NULL (at most one per channel: a
unique partial index); a participant is active while ``left_at`` is NULL. ``server_process``
names the server process whose WebSocket session joined (migration 048).

Locks: every change to a channel's call runs under ``lock_voice_channels`` for that channel,
and a join also under ``lock_voice_user`` for the joiner, taken first. Locks are transaction
advisory locks (released at commit or rollback), always taken users first, then channels in
the order of their lock keys, so that two transactions never wait for each other in a circle.
The ``update_*_left`` functions re-check their conditions, so a caller lists the rows, locks
their channels, then updates: what changed in between is left alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chatalot.db.database import Conn
from chatalot.ids import ChannelId, UserId


@dataclass(frozen=True, slots=True)
class VoiceSessionRow:
    id: uuid.UUID
    channel_id: ChannelId
    started_by: UserId | None
    started_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True, slots=True)
class VoiceChannelRow:
    """A channel as ``join_voice`` sees it: its type, and whether the joiner is a member."""

    channel_type: str
    is_member: bool


@dataclass(frozen=True, slots=True)
class ParticipationRow:
    """One active participant of an active call."""

    session_id: uuid.UUID
    channel_id: ChannelId
    user_id: UserId


_SESSION_COLUMNS = "id, channel_id, started_by, started_at, ended_at"


async def lock_voice_user(conn: Conn, user_id: UserId) -> None:
    """Serialises one user's joins until the transaction ends (on every server process)."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock("
        "hashtextextended('chatalot:voice:user:' || $1::uuid::text, 0))",
        user_id,
    )


async def lock_voice_channels(conn: Conn, channel_ids: Sequence[ChannelId]) -> None:
    """Serialises every change to these channels' calls until the transaction ends; the locks
    are taken in the order of their keys, whatever the order of ``channel_ids``."""
    if not channel_ids:
        return
    await conn.execute(
        """
        SELECT count(pg_advisory_xact_lock(k))
          FROM (SELECT DISTINCT hashtextextended('chatalot:voice:channel:' || c::text, 0) AS k
                  FROM unnest($1::uuid[]) AS c
                 ORDER BY k) AS keys
        """,
        list(channel_ids),
    )


async def select_voice_channel(
    conn: Conn, channel_id: ChannelId, user_id: UserId
) -> VoiceChannelRow | None:
    record = await conn.fetchrow(
        """
        SELECT c.channel_type::text AS channel_type,
               EXISTS (SELECT 1 FROM channel_members m
                        WHERE m.channel_id = c.id AND m.user_id = $2) AS is_member
          FROM channels c
         WHERE c.id = $1
        """,
        channel_id,
        user_id,
    )
    return None if record is None else VoiceChannelRow(**dict(record))


async def select_active_voice_session(conn: Conn, channel_id: ChannelId) -> VoiceSessionRow | None:
    record = await conn.fetchrow(
        f"SELECT {_SESSION_COLUMNS} FROM voice_sessions WHERE channel_id = $1 AND ended_at IS NULL",
        channel_id,
    )
    return None if record is None else VoiceSessionRow(**dict(record))


async def insert_voice_session(
    conn: Conn,
    *,
    session_id: uuid.UUID,
    channel_id: ChannelId,
    started_by: UserId,
    started_at: datetime,
) -> VoiceSessionRow:
    """The caller holds the channel's lock and found no active session (the unique index would
    refuse a second one)."""
    record = await conn.fetchrow(
        f"""
        INSERT INTO voice_sessions (id, channel_id, started_by, started_at)
        VALUES ($1, $2, $3, $4)
        RETURNING {_SESSION_COLUMNS}
        """,
        session_id,
        channel_id,
        started_by,
        started_at,
    )
    return VoiceSessionRow(**dict(record))


async def end_voice_session(conn: Conn, session_id: uuid.UUID, ended_at: datetime) -> bool:
    status = await conn.execute(
        "UPDATE voice_sessions SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL",
        session_id,
        ended_at,
    )
    return bool(status == "UPDATE 1")


async def list_voice_participants(conn: Conn, session_id: uuid.UUID) -> list[UserId]:
    """The active participants, first joined first."""
    records = await conn.fetch(
        """
        SELECT user_id FROM voice_session_participants
         WHERE session_id = $1 AND left_at IS NULL
         ORDER BY joined_at, user_id
        """,
        session_id,
    )
    return [r["user_id"] for r in records]


async def upsert_voice_participant(
    conn: Conn,
    *,
    session_id: uuid.UUID,
    user_id: UserId,
    joined_at: datetime,
    server_process: str,
) -> None:
    """Joins, or joins again (a new ``joined_at``, no ``left_at``, this process)."""
    await conn.execute(
        """
        INSERT INTO voice_session_participants (session_id, user_id, joined_at, server_process)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (session_id, user_id) DO UPDATE
           SET joined_at = EXCLUDED.joined_at, left_at = NULL,
               server_process = EXCLUDED.server_process
        """,
        session_id,
        user_id,
        joined_at,
        server_process,
    )


async def list_user_voice_channels(conn: Conn, user_id: UserId) -> list[ChannelId]:
    """The channels whose active call the user is in."""
    records = await conn.fetch(
        """
        SELECT s.channel_id
          FROM voice_session_participants p
          JOIN voice_sessions s ON s.id = p.session_id AND s.ended_at IS NULL
         WHERE p.user_id = $1 AND p.left_at IS NULL
        """,
        user_id,
    )
    return [r["channel_id"] for r in records]


def _participations(records: Sequence[Any]) -> list[ParticipationRow]:
    return [ParticipationRow(**dict(r)) for r in records]


async def update_participants_left(
    conn: Conn, session_id: uuid.UUID, user_ids: Sequence[UserId], left_at: datetime
) -> list[UserId]:
    """Marks these users left in that call; the ones who were in it."""
    records = await conn.fetch(
        """
        UPDATE voice_session_participants SET left_at = $3
         WHERE session_id = $1 AND user_id = ANY($2::uuid[]) AND left_at IS NULL
        RETURNING user_id
        """,
        session_id,
        list(user_ids),
        left_at,
    )
    return [r["user_id"] for r in records]


async def update_user_left_other_calls(
    conn: Conn, user_id: UserId, *, except_channel: ChannelId, left_at: datetime
) -> list[ParticipationRow]:
    """The user leaves every active call but the one of ``except_channel``."""
    records = await conn.fetch(
        """
        UPDATE voice_session_participants p SET left_at = $3
          FROM voice_sessions s
         WHERE s.id = p.session_id AND s.ended_at IS NULL AND s.channel_id <> $2
           AND p.user_id = $1 AND p.left_at IS NULL
        RETURNING p.session_id, s.channel_id, p.user_id
        """,
        user_id,
        except_channel,
        left_at,
    )
    return _participations(records)


# -- after a disconnect: rows joined before it ---------------------------------------------------

_DISCONNECTED = """
      FROM unnest($1::uuid[], $2::timestamptz[]) AS d (user_id, cutoff)
      JOIN voice_session_participants p
        ON p.user_id = d.user_id AND p.left_at IS NULL AND p.joined_at <= d.cutoff
      JOIN voice_sessions s ON s.id = p.session_id AND s.ended_at IS NULL
"""


async def list_participations_joined_before(
    conn: Conn, user_ids: Sequence[UserId], cutoffs: Sequence[datetime]
) -> list[ParticipationRow]:
    """Each user's active participations that began at or before their cutoff."""
    records = await conn.fetch(
        f"SELECT p.session_id, s.channel_id, p.user_id {_DISCONNECTED}",
        list(user_ids),
        list(cutoffs),
    )
    return _participations(records)


async def update_participants_left_joined_before(
    conn: Conn, user_ids: Sequence[UserId], cutoffs: Sequence[datetime], left_at: datetime
) -> list[ParticipationRow]:
    records = await conn.fetch(
        """
        UPDATE voice_session_participants p SET left_at = $3
          FROM unnest($1::uuid[], $2::timestamptz[]) AS d (user_id, cutoff), voice_sessions s
         WHERE p.user_id = d.user_id AND p.left_at IS NULL AND p.joined_at <= d.cutoff
           AND s.id = p.session_id AND s.ended_at IS NULL
        RETURNING p.session_id, s.channel_id, p.user_id
        """,
        list(user_ids),
        list(cutoffs),
        left_at,
    )
    return _participations(records)


# -- held by server processes that are gone ------------------------------------------------------


async def list_voice_processes(conn: Conn) -> list[str | None]:
    """The server processes holding active participants of active calls (None: rows from
    before migration 048)."""
    records = await conn.fetch(
        """
        SELECT DISTINCT p.server_process
          FROM voice_session_participants p
          JOIN voice_sessions s ON s.id = p.session_id AND s.ended_at IS NULL
         WHERE p.left_at IS NULL
        """
    )
    return [r["server_process"] for r in records]


_HELD_BY = """
       p.left_at IS NULL
   AND (p.server_process = ANY($1::text[]) OR ($2 AND p.server_process IS NULL))
"""


async def list_participations_held_by(
    conn: Conn, processes: Sequence[str], *, include_null: bool
) -> list[ParticipationRow]:
    records = await conn.fetch(
        f"""
        SELECT p.session_id, s.channel_id, p.user_id
          FROM voice_session_participants p
          JOIN voice_sessions s ON s.id = p.session_id AND s.ended_at IS NULL
         WHERE {_HELD_BY}
        """,
        list(processes),
        include_null,
    )
    return _participations(records)


async def update_participants_left_held_by(
    conn: Conn, processes: Sequence[str], *, include_null: bool, left_at: datetime
) -> list[ParticipationRow]:
    records = await conn.fetch(
        f"""
        UPDATE voice_session_participants p SET left_at = $3
          FROM voice_sessions s
         WHERE s.id = p.session_id AND s.ended_at IS NULL AND {_HELD_BY}
        RETURNING p.session_id, s.channel_id, p.user_id
        """,
        list(processes),
        include_null,
        left_at,
    )
    return _participations(records)


# -- the hourly sweep ------------------------------------------------------------------------------


async def list_non_member_participations(conn: Conn) -> list[ParticipationRow]:
    """Active participants who are no longer members of the call's channel."""
    records = await conn.fetch(
        """
        SELECT p.session_id, s.channel_id, p.user_id
          FROM voice_sessions s
          JOIN voice_session_participants p ON p.session_id = s.id AND p.left_at IS NULL
         WHERE s.ended_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM channel_members m
                            WHERE m.channel_id = s.channel_id AND m.user_id = p.user_id)
        """
    )
    return _participations(records)


async def update_non_members_left(
    conn: Conn, channel_ids: Sequence[ChannelId], left_at: datetime
) -> list[ParticipationRow]:
    records = await conn.fetch(
        """
        UPDATE voice_session_participants p SET left_at = $2
          FROM voice_sessions s
         WHERE s.id = p.session_id AND s.ended_at IS NULL AND s.channel_id = ANY($1::uuid[])
           AND p.left_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM channel_members m
                            WHERE m.channel_id = s.channel_id AND m.user_id = p.user_id)
        RETURNING p.session_id, s.channel_id, p.user_id
        """,
        list(channel_ids),
        left_at,
    )
    return _participations(records)


async def list_empty_voice_sessions(conn: Conn) -> list[VoiceSessionRow]:
    """Active calls without an active participant."""
    records = await conn.fetch(
        f"""
        SELECT {_SESSION_COLUMNS} FROM voice_sessions s
         WHERE s.ended_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM voice_session_participants p
                            WHERE p.session_id = s.id AND p.left_at IS NULL)
        """
    )
    return [VoiceSessionRow(**dict(r)) for r in records]


async def end_voice_session_if_empty(conn: Conn, session_id: uuid.UUID, ended_at: datetime) -> bool:
    status = await conn.execute(
        """
        UPDATE voice_sessions s SET ended_at = $2
         WHERE s.id = $1 AND s.ended_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM voice_session_participants p
                            WHERE p.session_id = s.id AND p.left_at IS NULL)
        """,
        session_id,
        ended_at,
    )
    return bool(status == "UPDATE 1")


# -- reads for the realtime layer ----------------------------------------------------------------


async def exists_shared_voice_call(conn: Conn, user_id: UserId, other_id: UserId) -> bool:
    """Both users are active participants of the same active call, and both are still members
    of its channel (the one check of each WebRTC relay: index lookups only)."""
    return bool(
        await conn.fetchval(
            """
            SELECT EXISTS (
                SELECT 1
                  FROM voice_session_participants mine
                  JOIN voice_session_participants theirs
                    ON theirs.session_id = mine.session_id AND theirs.user_id = $2
                   AND theirs.left_at IS NULL
                  JOIN voice_sessions s ON s.id = mine.session_id AND s.ended_at IS NULL
                  JOIN channel_members ma ON ma.channel_id = s.channel_id AND ma.user_id = $1
                  JOIN channel_members mb ON mb.channel_id = s.channel_id AND mb.user_id = $2
                 WHERE mine.user_id = $1 AND mine.left_at IS NULL)
            """,
            user_id,
            other_id,
        )
    )


async def list_voice_states(
    conn: Conn, channel_ids: Sequence[ChannelId]
) -> list[tuple[ChannelId, list[UserId]]]:
    """(channel, participants first joined first) of these channels' active calls that have
    participants."""
    records = await conn.fetch(
        """
        SELECT s.channel_id, array_agg(p.user_id ORDER BY p.joined_at, p.user_id) AS participants
          FROM voice_sessions s
          JOIN voice_session_participants p ON p.session_id = s.id AND p.left_at IS NULL
         WHERE s.channel_id = ANY($1::uuid[]) AND s.ended_at IS NULL
         GROUP BY s.channel_id
        """,
        list(channel_ids),
    )
    return [(r["channel_id"], list(r["participants"])) for r in records]
