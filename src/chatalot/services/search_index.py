"""Keeping the message search index complete: the text-search configuration in use, and the
``index_messages`` background job.

The server classifies every message it stores or edits (services/messages.py, with
services/search_text.py). Two kinds of rows are left for this job:

- rows never classified (``search_config`` NULL): every message of an instance upgraded from a
  version without search (migration 046 adds the columns empty), or stored by an older server
  process still running during a rolling upgrade;
- rows indexed with another configuration than the current SEARCH_LANGUAGE (it changed).

It works in batches of ``BATCH_SIZE`` rows, newest messages first (what users search most is
searchable first), each batch its own transaction: rows locked with ``FOR UPDATE SKIP LOCKED``,
classified in Python, written back in one UPDATE (the trigger of migration 046 makes the
tsvector). As the message retention jobs do, each batch first takes the job's advisory lock
with ``pg_try_advisory_xact_lock``; a server process that does not get it ends its run, so with
several processes one works through a backlog while the others skip. Progress is logged every
10 s while a backlog is worked through. Measured: about 7,000 rows/s on 2 CPUs
(docs/benchmarks.md), so an upgraded instance with 5 million messages is fully searchable after
about 12 minutes; newer messages first.

SEARCH_LANGUAGE names a PostgreSQL text-search configuration; whether the database has it is
known only once connected. ``search_language`` checks it once per process (remembered in
``_IN_USE``, keyed by the configured name: a catalog fact, the same for every database of a
server) and falls back to ``simple`` with a warning. The job's first run in a process does it at
startup, and also reports search indexes left INVALID by an interrupted migration 047.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from chatalot.config import DEFAULT_SEARCH_LANGUAGE, Settings
from chatalot.context import Ctx
from chatalot.db.database import Conn
from chatalot.repositories import message_retention as retention_repo
from chatalot.repositories import search as search_repo
from chatalot.repositories.search import UnindexedRow
from chatalot.services.search_text import searchable_text

log = logging.getLogger("chatalot_server")

JOB = "index_messages"
BATCH_SIZE = 1000
PROGRESS_EVERY_SECS = 10.0

_IN_USE: dict[str, str] = {}  # SEARCH_LANGUAGE -> the configuration used for it


async def search_language(conn: Conn, settings: Settings) -> str:
    """The text-search configuration to index and search with: SEARCH_LANGUAGE if the
    database has it, else ``simple`` (with a warning, once per process)."""
    configured = settings.search_language
    in_use = _IN_USE.get(configured)
    if in_use is None:
        if await search_repo.exists_text_search_config(conn, configured):
            in_use = configured
        else:
            log.warning(
                "SEARCH_LANGUAGE=%s: the database has no text-search configuration of that name"
                " (see SELECT cfgname FROM pg_ts_config); messages are indexed with '%s'",
                configured,
                DEFAULT_SEARCH_LANGUAGE,
            )
            in_use = DEFAULT_SEARCH_LANGUAGE
        _IN_USE[configured] = in_use
    return in_use


async def check_search_setup(ctx: Ctx) -> str:
    """At startup: the configuration in use (warns about an unknown SEARCH_LANGUAGE), and an
    error log line for each search index an interrupted migration left INVALID (it is kept up
    to date but never used: searches read the whole table until it is rebuilt)."""
    async with ctx.db.connection() as conn:
        language = await search_language(conn, ctx.settings)
        invalid = await search_repo.list_invalid_indexes(conn, search_repo.SEARCH_INDEXES)
    for name in invalid:
        log.error(
            "Search index %s is INVALID (its concurrent build was interrupted); rebuild it with"
            " REINDEX INDEX CONCURRENTLY %s; (see docs/database.md)",
            name,
            name,
        )
    return language


@dataclass
class IndexReport:
    """What one run of the job did (this process's share)."""

    classified: int = 0  # rows classified for the first time
    indexed: int = 0  # of those, rows with text to search (the others are not indexable)
    reindexed: int = 0  # rows indexed again with the current configuration


class _Progress:
    """Log lines while a backlog is worked through: at the start, every 10 s, at the end."""

    def __init__(self, ctx: Ctx, language: str) -> None:
        self.ctx = ctx
        self.language = language
        self.started = ctx.clock.monotonic()
        self.last = self.started
        self.backlog: int | None = None
        self.announced_reindex = False

    async def first_batch(self, conn: Conn) -> None:
        self.backlog = await search_repo.count_unclassified_messages(conn)
        log.info(
            "Search index: classifying %d messages stored without search columns, newest first",
            self.backlog,
        )

    def reindexing(self) -> None:
        if not self.announced_reindex:
            self.announced_reindex = True
            log.info(
                "Search index: re-indexing messages indexed with another configuration than"
                " SEARCH_LANGUAGE '%s'",
                self.language,
            )

    def tick(self, report: IndexReport) -> None:
        now = self.ctx.clock.monotonic()
        if now - self.last < PROGRESS_EVERY_SECS:
            return
        self.last = now
        rate = (report.classified + report.reindexed) / max(now - self.started, 1e-9)
        log.info(
            "Search index: %d of %d classified (%d with text to search), %d re-indexed;"
            " %.0f rows/s",
            report.classified,
            self.backlog or 0,
            report.indexed,
            report.reindexed,
            rate,
        )

    def done(self, report: IndexReport) -> None:
        if report.classified or report.reindexed:
            log.info(
                "Search index: done in %.0f s: %d classified (%d with text to search),"
                " %d re-indexed",
                self.ctx.clock.monotonic() - self.started,
                report.classified,
                report.indexed,
                report.reindexed,
            )


async def index_messages(ctx: Ctx, *, batch_size: int = BATCH_SIZE) -> IndexReport:
    """Classifies the unclassified messages and re-indexes those of another configuration,
    until none is left or another server process holds the job's lock; returns what this
    process did."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    async with ctx.db.connection() as conn:
        language = await search_language(conn, ctx.settings)
    report = IndexReport()
    progress = _Progress(ctx, language)
    while True:
        async with ctx.db.transaction(JOB) as tx:
            if not await retention_repo.try_lock_job(tx.conn, JOB):
                log.debug("%s: another server process is on it; leaving the rest to it", JOB)
                break
            rows = await search_repo.list_unclassified_messages(tx.conn, limit=batch_size)
            first_time = bool(rows)
            if first_time and progress.backlog is None:
                await progress.first_batch(tx.conn)
            if not rows:
                rows = await search_repo.list_messages_indexed_otherwise(
                    tx.conn, language, limit=batch_size
                )
                if rows:
                    progress.reindexing()
            if not rows:
                break
            indexed = await _classify(tx.conn, rows, language)
        if first_time:
            report.classified += len(rows)
            report.indexed += indexed
        else:
            report.reindexed += len(rows)
        progress.tick(report)
    progress.done(report)
    return report


def _row_text(row: UnindexedRow) -> str | None:
    """The text to index: a webhook message's content when its ``plaintext`` JSON holds one
    (messages written by the original server keep the content there only, with a zero byte as
    ciphertext), else what the ciphertext holds."""
    if row.plaintext is not None:
        try:
            content = json.loads(row.plaintext).get("content")
        except (ValueError, AttributeError, RecursionError):
            content = None
        if isinstance(content, str):
            return searchable_text(content.encode())
    return searchable_text(row.ciphertext)


async def _classify(conn: Conn, rows: list[UnindexedRow], language: str) -> int:
    """Writes the search columns of ``rows`` (locked by the caller); returns how many have
    text to search."""
    texts = [_row_text(row) for row in rows]
    await search_repo.update_search_columns(
        conn, [row.id for row in rows], texts, language=language
    )
    return sum(1 for text in texts if text is not None)


class IndexJob:
    """``index_messages`` as a background job (server.py): the first run of a process checks
    the setup first (``check_search_setup``)."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.checked = False

    async def run(self) -> IndexReport:
        if not self.checked:
            await check_search_setup(self.ctx)
            self.checked = True
        return await index_messages(self.ctx)
