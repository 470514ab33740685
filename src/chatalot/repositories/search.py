"""SQL for message search (table messages: the columns search_text, search_config and
search_tsv of migration 046, and their indexes of 046 and 047). No permission checks here: see
services/search.py (the searches) and services/search_index.py (the indexing job).

A message matches a query when its tsvector matches ``websearch_to_tsquery(language, query)``
(words, "quoted phrases", ``-excluded`` words, stemming in the configured language) or its
folded text contains the folded query (LIKE with ``%``, ``_`` and ``\\`` escaped, served by the
trigram half of ``idx_messages_search``). Both sides are folded by the server
(services/search_text.py), so no case-insensitive operator is needed.

Only messages indexed with the configured language take part (``search_config = language``,
the leading column of ``idx_messages_search_recent``), so that the newest indexed messages can
be read in order (see ``list_matching_messages`` for how a search uses that and the GIN
index). Messages indexed with an earlier SEARCH_LANGUAGE are found again once the job has
re-indexed them.

Each search runs with ``plan_cache_mode = force_custom_plan`` (``prefer_custom_plans``): how
many channels and which words, which a generic plan of a prepared statement cannot see, decide
the plan.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from chatalot.db.database import Conn
from chatalot.db.like import contains_pattern
from chatalot.ids import ChannelId
from chatalot.repositories.messages import MESSAGE_COLUMNS, MessageRow, message_row

NOT_INDEXABLE = ""  # search_config of a message classified as not indexable
WINDOW = 20_000  # newest candidate messages read in order before the GIN index is used
CONTINUE_FACTOR = 2  # read on in order for at most this many more windows (see below)
_MESSAGE_FIELDS = [f.name for f in fields(MessageRow)]
_W_COLUMNS = MESSAGE_COLUMNS.replace("m.", "w.")
_S_COLUMNS = MESSAGE_COLUMNS.replace("m.", "s.")
SEARCH_INDEXES = ("idx_messages_search", "idx_messages_search_recent")


@dataclass(frozen=True, slots=True)
class SearchFilters:
    sender: str | None = None  # part of the sender's username (any case)
    after: datetime | None = None  # inclusive
    before: datetime | None = None  # inclusive
    has_file: bool = False  # only message_type 'file'


@dataclass(frozen=True, slots=True)
class InChannel:
    channel_id: ChannelId


@dataclass(frozen=True, slots=True)
class InChannels:
    """Several channels (the caller's), given as a list rather than as a sub-select of
    channel_members: PostgreSQL then knows how many there are when it plans (a member of 500
    channels and a member of 5 need different plans), whatever its statistics say."""

    channel_ids: Sequence[ChannelId]


SearchScope = InChannel | InChannels


# The plaintext column is read for webhook messages only (the others have none).
_WEBHOOK_PLAINTEXT = "CASE WHEN m.message_type = 'webhook' THEN m.plaintext END AS plaintext"


@dataclass(frozen=True, slots=True)
class UnindexedRow:
    id: uuid.UUID
    ciphertext: bytes
    plaintext: str | None = None  # a webhook message's JSON (services/search_index.py)


async def prefer_custom_plans(conn: Conn) -> None:
    """Plan each search for its own values until the transaction ends (``SET LOCAL``)."""
    await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")


_WORDS = "m.search_tsv @@ $3::tsquery"
_WORDS_OR_TEXT = f"({_WORDS} OR m.search_text LIKE $4 ESCAPE '\\')"
_QUOTED_PHRASE = re.compile(r'\s*"[^"]*\w[^"]*"\s*')


def _match(query: str) -> str:
    """The text condition (on $3, the tsquery, and $4, the LIKE pattern). A query that is one
    "quoted phrase" is matched as words only: a text containing it with its quotes holds those
    words in that order anyway, and the trigram search for a phrase of frequent words reads
    millions of index entries."""
    return _WORDS if _QUOTED_PHRASE.fullmatch(query) else _WORDS_OR_TEXT


def _conditions(
    scope: SearchScope,
    *,
    query: str,
    words: str,
    language: str,
    filters: SearchFilters,
    now: datetime,
) -> tuple[str, list[object]]:
    """The WHERE clause of a search without the text match (``_match``, on $3-$4), and its
    arguments ($4, the LIKE pattern, is always passed; it is typed here in case the text
    condition does not use it)."""
    args: list[object] = [
        scope.channel_id if isinstance(scope, InChannel) else list(scope.channel_ids),
        language,
        words,
        contains_pattern(query),
        now,
    ]
    where = [
        "m.channel_id = $1" if isinstance(scope, InChannel) else "m.channel_id = ANY($1::uuid[])",
        "m.search_config = $2::text AND m.search_config <> '' AND $4::text IS NOT NULL",
        "m.search_text IS NOT NULL",
        "m.deleted_at IS NULL AND m.quarantined_at IS NULL",
        "(m.expires_at IS NULL OR m.expires_at > $5)",
    ]
    if filters.sender is not None:
        args.append(contains_pattern(filters.sender))
        where.append(
            "m.sender_id IN (SELECT u.id FROM users u"
            f" WHERE u.username ILIKE ${len(args)} ESCAPE '\\')"
        )
    if filters.after is not None:
        args.append(filters.after)
        where.append(f"m.created_at >= ${len(args)}")
    if filters.before is not None:
        args.append(filters.before)
        where.append(f"m.created_at <= ${len(args)}")
    if filters.has_file:
        where.append("m.message_type = 'file'")
    return "\n           AND ".join(where), args


def _row(record: Any) -> MessageRow:
    return message_row({k: record[k] for k in _MESSAGE_FIELDS})


@dataclass(frozen=True, slots=True)
class _Search:
    """One search's statements share their WHERE clause and arguments."""

    conditions: str
    args: list[object]
    match: str


async def list_matching_messages(
    conn: Conn,
    scope: SearchScope,
    *,
    query: str,
    language: str,
    filters: SearchFilters,
    now: datetime,
    limit: int,
    window: int = WINDOW,
) -> list[MessageRow]:
    """Visible messages (not deleted, quarantined or expired at ``now``) of ``scope`` matching
    the folded ``query`` and ``filters``, newest first (created_at, then id).

    How, so that the cost stays bounded whatever PostgreSQL estimates (left to itself, the
    planner sometimes took the ordered scan for a word it thought common and read millions of
    rows, seconds, to find a rare one):

    1. the newest ``window`` candidate messages of the scope are read in order and matched one
       by one until ``limit`` matches (a frequent word stops early; at most ``window`` rows);
    2. if that window was full and gave some matches but too few, the rate seen there says how
       many more rows the rest needs: if at most ``CONTINUE_FACTOR`` windows, reading on in
       order is cheaper than the index (words that are frequent but rarely together, such as a
       phrase of two common words, have many index candidates and few matches);
    3. otherwise the older messages are taken from the GIN index (the query is rare in recent
       messages, so its candidates are few) and sorted.
    Before that, one statement turns the query into a tsquery (as text), so that the others get
    it as a constant: the planner can estimate it, and it is not parsed again for every row
    (``websearch_to_tsquery`` of a configuration name is not folded at planning time)."""
    words = await conn.fetchval(
        "SELECT websearch_to_tsquery($1::regconfig, $2)::text", language, query
    )
    conditions, args = _conditions(
        scope, query=query, words=words, language=language, filters=filters, now=now
    )
    search = _Search(conditions, args, _match(query))
    found, edge = await _in_order(conn, search, window=window, limit=limit, edge=None)
    if len(found) >= limit or edge is None:
        return found
    if found:
        more = math.ceil((limit - len(found)) * window / len(found) * 1.5)
        if more <= CONTINUE_FACTOR * window:
            later, edge = await _in_order(
                conn, search, window=more, limit=limit - len(found), edge=edge
            )
            found += later
            if len(found) >= limit or edge is None:
                return found
    return found + await _from_index(conn, search, limit=limit - len(found), edge=edge)


async def _in_order(
    conn: Conn, search: _Search, *, window: int, limit: int, edge: tuple[datetime, uuid.UUID] | None
) -> tuple[list[MessageRow], tuple[datetime, uuid.UUID] | None]:
    """Up to ``limit`` matches among the next ``window`` candidates (newest first, older than
    ``edge`` if given), and the last of those candidates when the window was full (where a
    further search starts), else None."""
    args = [*search.args, window, limit + 1]
    size, take = len(search.args) + 1, len(search.args) + 2
    after_edge = ""
    if edge is not None:
        args += list(edge)
        after_edge = f"AND (m.created_at, m.id) < (${size + 2}, ${size + 3})"
    records = await conn.fetch(
        f"""
        SELECT {_W_COLUMNS}, w.hit, w.n
          FROM (SELECT {MESSAGE_COLUMNS}, {search.match} AS hit,
                       row_number() OVER (ORDER BY m.created_at DESC, m.id DESC) AS n
                  FROM messages m
                 WHERE {search.conditions}
                   {after_edge}
                 ORDER BY m.created_at DESC, m.id DESC
                 LIMIT ${size}) AS w
         WHERE w.hit OR w.n = ${size}
         ORDER BY w.created_at DESC, w.id DESC
         LIMIT ${take}
        """,
        *args,
    )
    found = [_row(r) for r in records if r["hit"]][:limit]
    last = next(((r["created_at"], r["id"]) for r in records if r["n"] == window), None)
    return found, last


async def _from_index(
    conn: Conn, search: _Search, *, limit: int, edge: tuple[datetime, uuid.UUID]
) -> list[MessageRow]:
    """Up to ``limit`` matches older than ``edge``, found through the GIN index and sorted
    (``OFFSET 0`` keeps the planner from reading the btree in order instead)."""
    before_at, before_id, need = (len(search.args) + n for n in (1, 2, 3))
    records = await conn.fetch(
        f"""
        SELECT {_S_COLUMNS}
          FROM (SELECT {MESSAGE_COLUMNS}
                  FROM messages m
                 WHERE {search.conditions}
                   AND (m.created_at, m.id) < (${before_at}, ${before_id})
                   AND {search.match}
                OFFSET 0) AS s
         ORDER BY s.created_at DESC, s.id DESC
         LIMIT ${need}
        """,
        *search.args,
        *edge,
        limit,
    )
    return [_row(r) for r in records]


async def list_headlines(
    conn: Conn, *, language: str, query: str, texts: Sequence[str], options: Sequence[str]
) -> list[str]:
    """``ts_headline`` of each text for the folded ``query``, with that text's options (same
    order as ``texts``)."""
    records = await conn.fetch(
        """
        SELECT ts_headline($1::regconfig, d.body, websearch_to_tsquery($1::regconfig, $2),
                           d.options) AS headline
          FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS d (body, options, n)
         ORDER BY d.n
        """,
        language,
        query,
        list(texts),
        list(options),
    )
    return [r["headline"] for r in records]


# -- the indexing job (services/search_index.py) ----------------------------------------------


async def exists_text_search_config(conn: Conn, name: str) -> bool:
    """Whether the database has a text-search configuration of this (unqualified) name that
    is visible without a schema (pg_catalog's built-in ones, or one on the search path)."""
    return bool(
        await conn.fetchval(
            """
            SELECT EXISTS (SELECT 1 FROM pg_ts_config c
                            WHERE c.cfgname = $1 AND pg_ts_config_is_visible(c.oid))
            """,
            name,
        )
    )


async def list_invalid_indexes(conn: Conn, names: Sequence[str]) -> list[str]:
    """Which of these indexes exist but are INVALID (an interrupted CREATE INDEX
    CONCURRENTLY); absent ones are not listed."""
    records = await conn.fetch(
        """
        SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
         WHERE c.relname = ANY($1::text[]) AND pg_table_is_visible(c.oid) AND NOT i.indisvalid
         ORDER BY c.relname
        """,
        list(names),
    )
    return [r["relname"] for r in records]


async def list_unclassified_messages(conn: Conn, *, limit: int) -> list[UnindexedRow]:
    """Up to ``limit`` messages the server has not classified yet (search_config NULL: stored
    before migration 046, or by an older server version), newest first, locked
    (``FOR UPDATE SKIP LOCKED``: rows another transaction holds are left to it). The ORDER BY
    names the index's own order, so that idx_messages_search_recent hands them out without a
    sort, whatever the statistics say."""
    records = await conn.fetch(
        f"""
        SELECT m.id, m.ciphertext, {_WEBHOOK_PLAINTEXT} FROM messages m
         WHERE m.search_config IS NULL
         ORDER BY m.search_config, m.created_at DESC
         LIMIT $1
           FOR UPDATE SKIP LOCKED
        """,
        limit,
    )
    return [UnindexedRow(r["id"], r["ciphertext"], r["plaintext"]) for r in records]


async def list_messages_indexed_otherwise(
    conn: Conn, language: str, *, limit: int
) -> list[UnindexedRow]:
    """Up to ``limit`` indexed messages whose configuration is not ``language`` (indexed
    before SEARCH_LANGUAGE changed), locked as above. Written as two ranges so that
    idx_messages_search_recent finds them (``<>`` cannot use an index)."""
    records = await conn.fetch(
        f"""
        SELECT m.id, m.ciphertext, {_WEBHOOK_PLAINTEXT} FROM messages m
         WHERE m.search_config <> '' AND (m.search_config < $1 OR m.search_config > $1)
         LIMIT $2
           FOR UPDATE SKIP LOCKED
        """,
        language,
        limit,
    )
    return [UnindexedRow(r["id"], r["ciphertext"], r["plaintext"]) for r in records]


async def count_unclassified_messages(conn: Conn) -> int:
    count: int = await conn.fetchval("SELECT count(*) FROM messages WHERE search_config IS NULL")
    return count


async def update_search_columns(
    conn: Conn,
    message_ids: Sequence[uuid.UUID],
    texts: Sequence[str | None],
    *,
    language: str,
) -> int:
    """Sets each message's search text (None: not indexable) and configuration; the trigger
    computes the tsvector. Returns how many rows were updated."""
    status = await conn.execute(
        """
        UPDATE messages m
           SET search_text = u.body,
               search_config = CASE WHEN u.body IS NULL THEN '' ELSE $3 END
          FROM unnest($1::uuid[], $2::text[]) AS u (id, body)
         WHERE m.id = u.id
        """,
        list(message_ids),
        list(texts),
        language,
    )
    return int(str(status).rsplit(" ", 1)[-1])
