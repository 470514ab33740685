"""GIF search and trending through GIPHY (``GIPHY_API_KEY``; ``GIPHY_API_URL`` for another
endpoint, e.g. a test server).

As the original: the key is checked first (400 ``GIF search is not configured on this
server``), an empty or over-long (> 256 bytes) query gives no results without asking GIPHY,
``limit`` defaults to 20 and above 50 gives 50, ``pos`` is the offset, ``rating=g``, and answers
are cached for 5 minutes (200 pages).

Differences, on purpose:
- ``limit`` below 1 or not a whole number, and ``pos`` that is not a whole number from 0 to
  4999 (GIPHY's largest offset), are a 400 naming the parameter (the original ignored a bad
  ``pos``);
- GIPHY failing (unreachable, a timeout, an error status, an answer that is not GIPHY's JSON)
  is a 502 ``bad_gateway`` ``GIF search is unavailable right now``, not a 500.

GIPHY is a fixed service the operator configures, not an address a user chose, so it is called
with a plain HTTP client (no SSRF rules) and a 10 s limit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx

from chatalot.context import Ctx
from chatalot.errors import BadGateway, Invalid
from chatalot.outbound.safe_http import default_ssl_context
from chatalot.outbound.ttl_cache import TtlLruCache
from chatalot.services.actor import Actor

log = logging.getLogger("chatalot_server")

DEFAULT_LIMIT = 20
MAX_LIMIT = 50
MAX_OFFSET = 4999
MAX_QUERY_BYTES = 256
TIMEOUT_SECS = 10.0
CACHE_TTL_SECS = 300.0
CACHE_ENTRIES = 200
RATING = "g"

MSG_NOT_CONFIGURED = "GIF search is not configured on this server"
MSG_UNAVAILABLE = "GIF search is unavailable right now"
MSG_LIMIT = f"limit must be a whole number between 1 and {MAX_LIMIT}"
MSG_POS = f"pos must be a whole number between 0 and {MAX_OFFSET}"


@dataclass(frozen=True, slots=True)
class Gif:
    id: str
    title: str
    preview_url: str
    url: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class GifPage:
    results: tuple[Gif, ...]
    next: str | None


EMPTY = GifPage(results=(), next=None)

# (api url, api key, kind, q, limit, offset) -> page; tests clear it.
cache: TtlLruCache[tuple[str, str, str, str, int, int], GifPage] = TtlLruCache(
    CACHE_ENTRIES, CACHE_TTL_SECS
)


def parse_limit(value: str | None) -> int:
    if value is None or value.strip() == "":
        return DEFAULT_LIMIT
    text = value.strip().removeprefix("+")
    if not text.isascii() or not text.isdigit():
        raise Invalid(MSG_LIMIT)
    number = int(text) if len(text) <= 10 else MAX_LIMIT
    if number < 1:
        raise Invalid(MSG_LIMIT)
    return min(number, MAX_LIMIT)


def parse_pos(value: str | None) -> int:
    if value is None or value.strip() == "":
        return 0
    text = value.strip().removeprefix("+")
    if not text.isascii() or not text.isdigit() or len(text) > 10 or int(text) > MAX_OFFSET:
        raise Invalid(MSG_POS)
    return int(text)


def _api_key(ctx: Ctx) -> str:
    key = ctx.settings.giphy_api_key
    if not key:
        raise Invalid(MSG_NOT_CONFIGURED)
    return key


async def search_gifs(
    ctx: Ctx, actor: Actor, q: str | None, limit: str | None, pos: str | None
) -> GifPage:
    key = _api_key(ctx)
    count, offset = parse_limit(limit), parse_pos(pos)
    query = (q or "").strip()
    if not query or len(query.encode()) > MAX_QUERY_BYTES:
        return EMPTY
    return await _page(ctx, key, "search", query, count, offset)


async def trending_gifs(ctx: Ctx, actor: Actor, limit: str | None, pos: str | None) -> GifPage:
    key = _api_key(ctx)
    return await _page(ctx, key, "trending", "", parse_limit(limit), parse_pos(pos))


async def _page(ctx: Ctx, key: str, kind: str, q: str, limit: int, offset: int) -> GifPage:
    base = ctx.settings.giphy_api_url
    cache_key = (base, key, kind, q, limit, offset)
    cached = cache.get(cache_key)
    if cached is not None:
        return cached
    params: dict[str, str | int] = {"api_key": key, "limit": limit, "offset": offset}
    if kind == "search":
        params["q"] = q
    params["rating"] = RATING
    body = await _call_giphy(f"{base}/v1/gifs/{kind}", params)
    page = to_page(body, limit, offset)
    if page is None:
        log.warning("GIPHY %s: the answer is not GIPHY's JSON", kind)
        raise BadGateway(MSG_UNAVAILABLE)
    cache.put(cache_key, page)
    return page


async def _call_giphy(url: str, params: dict[str, str | int]) -> Any:
    try:
        async with httpx.AsyncClient(
            timeout=TIMEOUT_SECS,
            follow_redirects=False,
            verify=default_ssl_context(),  # building one per request costs milliseconds
        ) as client:
            response = await client.get(url, params=params, headers={"Accept": "application/json"})
    except httpx.HTTPError as err:  # the key is in the URL: log the kind of failure only
        log.warning("GIPHY unreachable: %s", type(err).__name__)
        raise BadGateway(MSG_UNAVAILABLE) from None
    if response.status_code != 200:
        log.warning("GIPHY answered %d", response.status_code)
        raise BadGateway(MSG_UNAVAILABLE)
    try:
        return response.json()
    except ValueError:
        log.warning("GIPHY answered with something that is not JSON")
        raise BadGateway(MSG_UNAVAILABLE) from None


def _dimension(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 9:
        number = int(value)
    else:
        return None
    return number if 0 <= number < 2**31 else None


def _gif(item: object) -> Gif | None:
    """One result, or None when it lacks what a client needs (skipped, as the original)."""
    if not isinstance(item, dict):
        return None
    gif_id, title, images = item.get("id"), item.get("title"), item.get("images")
    if not isinstance(gif_id, str) or not gif_id or not isinstance(images, dict):
        return None
    original, small = images.get("original"), images.get("fixed_width_small")
    if not isinstance(original, dict):
        return None
    url = original.get("url")
    width, height = _dimension(original.get("width")), _dimension(original.get("height"))
    if not isinstance(url, str) or not url or width is None or height is None:
        return None
    preview = small.get("url") if isinstance(small, dict) else None
    return Gif(
        id=gif_id,
        title=title if isinstance(title, str) else "",
        preview_url=preview if isinstance(preview, str) and preview else url,
        url=url,
        width=width,
        height=height,
    )


def to_page(body: object, limit: int, offset: int) -> GifPage | None:
    """GIPHY's ``{data: [...], pagination: {total_count, count, offset}}`` as a page; None
    if the body is not that shape. ``next`` is the offset after this page while GIPHY has more
    (and GIPHY accepts it as an offset)."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return None
    data: list[object] = body["data"]
    results = tuple(g for g in (_gif(item) for item in data) if g is not None)
    pagination = body.get("pagination")
    pagination = pagination if isinstance(pagination, dict) else {}
    count = _dimension(pagination.get("count"))
    count = len(data) if count is None else count
    total = _dimension(pagination.get("total_count"))
    following = offset + count
    more = following < total if total is not None else count >= limit
    has_next = count > 0 and more and following <= MAX_OFFSET
    return GifPage(results=results, next=str(following) if has_next else None)
