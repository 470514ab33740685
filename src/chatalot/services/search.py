"""Message search (REST): in one channel (members only, 403 otherwise) or in every channel the
caller is a member of. Spec rest-api.md 2.8; the design is in docs/decisions/0005.

Only messages the server could read are indexed (services/search_text.py): end-to-end
encrypted ones never are, so a search in an encrypted channel finds nothing, never an error.
The query is folded like the indexed text and matched as words (``websearch_to_tsquery``:
words, "quoted phrases", stemming in SEARCH_LANGUAGE) or as a substring (the original's
semantics: partial words and prefixes). See repositories/search.py for the SQL.

Each result comes with a ``highlight``: the message (up to 200 characters) or a short snippet
of it, with the matches marked, as HTML-escaped text in which only ``<mark>`` and ``</mark>``
are markup. PostgreSQL's ``ts_headline`` marks word matches (stemmed forms included; in
snippets of longer messages it leaves out tag-like words such as ``<b>``); when it marks
nothing (a substring match), the substring matches are marked here. None when neither finds the
query in the text.
"""

from __future__ import annotations

import bisect
import html
import unicodedata
import uuid
from dataclasses import dataclass, field

from chatalot.context import Ctx
from chatalot.db.database import Conn
from chatalot.errors import Forbidden, Invalid
from chatalot.ids import ChannelId
from chatalot.repositories import channels as channels_repo
from chatalot.repositories import memberships as memberships_repo
from chatalot.repositories import messages as messages_repo
from chatalot.repositories import search as search_repo
from chatalot.repositories.messages import MessageRow
from chatalot.repositories.search import InChannel, InChannels, SearchFilters, SearchScope
from chatalot.services.actor import Actor
from chatalot.services.messages import MessageView
from chatalot.services.search_index import search_language
from chatalot.services.search_text import fold

QUERY_CHARS = (2, 256)
QUERY_MESSAGE = "search query must be 2-256 characters"
MAX_SENDER_CHARS = 256
DEFAULT_LIMIT = 20
MAX_LIMIT = 50

START, STOP = "\x02", "\x03"  # ts_headline's markers, replaced by <mark> / </mark>
SHORT_TEXT = 200  # characters: a message this short is its own snippet
WHOLE_TEXT_OPTIONS = f'StartSel="{START}", StopSel="{STOP}", HighlightAll=true'
FRAGMENT_OPTIONS = (
    f'StartSel="{START}", StopSel="{STOP}", MaxWords=24, MinWords=8, ShortWord=2,'
    ' MaxFragments=2, FragmentDelimiter=" … "'
)
SNIPPET_BEFORE = 40  # characters of context kept before the first substring match
SNIPPET_AFTER = 120  # and after it


@dataclass(frozen=True, slots=True)
class SearchRequest:
    query: str
    filters: SearchFilters = field(default_factory=SearchFilters)
    limit: int = DEFAULT_LIMIT


@dataclass(frozen=True, slots=True)
class SearchHit:
    view: MessageView
    highlight: str | None


def check_request(request: SearchRequest) -> None:
    low, high = QUERY_CHARS
    if not low <= len(request.query) <= high:
        raise Invalid(QUERY_MESSAGE)
    if "\x00" in request.query:
        raise Invalid("search query must not contain the NUL character")
    sender = request.filters.sender
    if sender is not None and (len(sender) > MAX_SENDER_CHARS or "\x00" in sender):
        raise Invalid(f"sender must be at most {MAX_SENDER_CHARS} characters, without NUL")
    if not 1 <= request.limit <= MAX_LIMIT:
        raise Invalid(f"limit must be between 1 and {MAX_LIMIT}")


async def search_channel(
    ctx: Ctx, actor: Actor, channel_id: ChannelId, request: SearchRequest
) -> list[SearchHit]:
    """Matching messages of one channel the caller is a member of (else 403), newest first."""
    check_request(request)
    async with ctx.db.transaction("search_channel_messages") as tx:
        if await channels_repo.select_channel_role(tx.conn, channel_id, actor.user_id) is None:
            raise Forbidden()
        return await _search(ctx, tx.conn, InChannel(channel_id), request)


async def search_all(ctx: Ctx, actor: Actor, request: SearchRequest) -> list[SearchHit]:
    """Matching messages of every channel the caller is a member of, newest first."""
    check_request(request)
    async with ctx.db.transaction("search_messages") as tx:
        channels = await memberships_repo.list_channel_ids_of_user(tx.conn, actor.user_id)
        if not channels:
            return []
        return await _search(ctx, tx.conn, InChannels(channels), request)


async def _search(
    ctx: Ctx, conn: Conn, scope: SearchScope, request: SearchRequest
) -> list[SearchHit]:
    """Runs inside the caller's transaction (``SET LOCAL`` lasts until it ends)."""
    query = fold(request.query)  # never empty: no character folds to nothing
    language = await search_language(conn, ctx.settings)
    await search_repo.prefer_custom_plans(conn)
    rows = await search_repo.list_matching_messages(
        conn,
        scope,
        query=query,
        language=language,
        filters=request.filters,
        now=ctx.clock.now(),
        limit=request.limit,
    )
    if not rows:
        return []
    ids = [r.id for r in rows]
    reactions = await messages_repo.list_reactions(conn, ids)
    threads = await messages_repo.thread_stats(conn, ids)
    highlights = await _highlights(conn, rows, language=language, query=query)
    return [
        SearchHit(MessageView(r, reactions.get(r.id, []), threads.get(r.id)), highlights[r.id])
        for r in rows
    ]


# -- highlights --------------------------------------------------------------------------------


def display_text(ciphertext: bytes) -> str:
    """The message as shown (NFC), without the two characters used as markers, nor NUL
    (PostgreSQL text cannot hold it: a webhook message written by the original server is one
    zero byte, indexed from its plaintext)."""
    text = unicodedata.normalize("NFC", ciphertext.decode("utf-8", errors="replace"))
    return text.replace(START, "").replace(STOP, "").replace("\x00", "")


async def _highlights(
    conn: Conn, rows: list[MessageRow], *, language: str, query: str
) -> dict[uuid.UUID, str | None]:
    texts = [display_text(r.ciphertext) for r in rows]
    options = [WHOLE_TEXT_OPTIONS if len(t) <= SHORT_TEXT else FRAGMENT_OPTIONS for t in texts]
    headlines = await search_repo.list_headlines(
        conn, language=language, query=query, texts=texts, options=options
    )
    out: dict[uuid.UUID, str | None] = {}
    for row, text, headline in zip(rows, texts, headlines, strict=True):
        if headline and START in headline:
            out[row.id] = marked_html(headline)
        else:
            out[row.id] = substring_highlight(text, query)
    return out


def marked_html(headline: str) -> str:
    """A ts_headline result (markers ``START``/``STOP``) as escaped HTML with ``<mark>``."""
    escaped = html.escape(headline.strip(), quote=True)
    return escaped.replace(START, "<mark>").replace(STOP, "</mark>")


def substring_highlight(text: str, query: str) -> str | None:
    """A snippet of ``text`` around the first place its folded form contains the folded
    ``query``, every occurrence inside the snippet marked; None if there is none."""
    if not query:
        return None
    # Fold character by character, remembering where each folded character came from.
    starts: list[int] = []
    folded_parts: list[str] = []
    position = 0
    for char in text:
        piece = fold(char)
        starts.append(position)
        folded_parts.append(piece)
        position += len(piece)
    folded = "".join(folded_parts)
    spans: list[tuple[int, int]] = []
    at = folded.find(query)
    while at != -1:
        first = bisect.bisect_right(starts, at) - 1
        last = bisect.bisect_right(starts, at + len(query) - 1) - 1
        spans.append((first, last + 1))
        at = folded.find(query, at + max(1, len(query)))
    if not spans:
        return None
    begin = max(0, spans[0][0] - SNIPPET_BEFORE)
    end = min(len(text), spans[0][1] + SNIPPET_AFTER)
    pieces = ["…" if begin > 0 else ""]
    cursor = begin
    for first, last in spans:
        if first < cursor or last > end:
            continue
        pieces.append(html.escape(text[cursor:first], quote=True))
        pieces.append(f"<mark>{html.escape(text[first:last], quote=True)}</mark>")
        cursor = last
    pieces.append(html.escape(text[cursor:end], quote=True))
    if end < len(text):
        pieces.append("…")
    return "".join(pieces).strip() or None
