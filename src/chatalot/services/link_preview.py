"""Link previews: fetch a page through the SSRF-safe fetcher and read its title, description,
image and site name (Open Graph, then ``<meta name="description">`` and ``<title>``).

As the original: URL 1-2048 bytes after trimming, http(s) only, a 10 s limit, at most 3
redirects, ``User-Agent: ChatalotBot/1.0 (link preview)``, non-HTML pages give an empty preview,
the first 512,000 bytes are read, fields are cut to 200 / 500 / 2048 / 100 characters with
``...`` appended, and previews are cached for an hour (1,000 URLs).

Differences, on purpose:
- internal addresses are refused before anything is sent, also behind a DNS name or a redirect
  (see outbound/safe_http.py); the original checked only the literal host and then made the
  request, hiding only the answer;
- the page is parsed as HTML (html.parser), not with patterns, so attribute order, quoting,
  case and entities do not matter; parsing stops where the head ends if it had a title (Open
  Graph tags belong in the head; html.parser needs about a second for 512 kB of body markup),
  else 64 KiB into the body;
- a relative image path is resolved against the page's final URL (the original dropped
  ``img.png``, and made ``/img.png`` absolute without the port);
- an error page (status 4xx/5xx) gives an empty preview, not a preview of the error page;
  5xx answers are not cached;
- concurrent requests for the same URL share one fetch.
"""

from __future__ import annotations

import asyncio
import codecs
import logging
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx

from chatalot.context import Ctx
from chatalot.errors import Invalid
from chatalot.outbound.safe_http import (
    BlockedDestination,
    BodyReadFailed,
    FetchFailed,
    SafeFetcher,
)
from chatalot.outbound.ttl_cache import TtlLruCache
from chatalot.services.actor import Actor

log = logging.getLogger("chatalot_server")

MAX_URL_BYTES = 2048
MAX_BODY_BYTES = 512_000
TITLE_CHARS = 200
DESCRIPTION_CHARS = 500
IMAGE_CHARS = 2048
SITE_NAME_CHARS = 100
CACHE_TTL_SECS = 3600.0
CACHE_ENTRIES = 1000
USER_AGENT = "ChatalotBot/1.0 (link preview)"
ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"

MSG_URL_REQUIRED = "url is required"
MSG_URL_LENGTH = "URL must be 1-2048 characters"
MSG_SCHEME = "Only http/https URLs are allowed"
MSG_INTERNAL = "Cannot preview internal URLs"
MSG_FETCH = "Could not fetch URL"
MSG_READ = "Could not read response"


@dataclass(frozen=True, slots=True)
class LinkPreview:
    url: str
    title: str | None = None
    description: str | None = None
    image: str | None = None
    site_name: str | None = None


# The fetcher and cache of this process. Tests replace ``fetcher`` (a resolver override and an
# allow-list for their local servers) and clear ``cache``.
fetcher = SafeFetcher(user_agent=USER_AGENT)
cache: TtlLruCache[str, LinkPreview] = TtlLruCache(CACHE_ENTRIES, CACHE_TTL_SECS)
_inflight: dict[str, asyncio.Task[tuple[LinkPreview, bool]]] = {}


def validate_url(url: str | None) -> str:
    """The trimmed URL, or the original's 400s."""
    if url is None:
        raise Invalid(MSG_URL_REQUIRED)
    url = url.strip()
    if not 1 <= len(url.encode()) <= MAX_URL_BYTES:
        raise Invalid(MSG_URL_LENGTH)
    if not url[:8].lower().startswith(("http://", "https://")):
        raise Invalid(MSG_SCHEME)
    return url


async def get_link_preview(ctx: Ctx, actor: Actor, url: str | None) -> LinkPreview:
    url = validate_url(url)
    cached = cache.get(url)
    if cached is not None:
        return cached
    task = _inflight.get(url)
    if task is None:
        task = asyncio.create_task(_fetch_preview(url))
        _inflight[url] = task
        task.add_done_callback(lambda done: _finished(url, done))
    preview, cacheable = await asyncio.shield(task)
    if cacheable:
        cache.put(url, preview)
    return preview


def _finished(url: str, task: asyncio.Task[tuple[LinkPreview, bool]]) -> None:
    _inflight.pop(url, None)
    if not task.cancelled():
        task.exception()  # retrieved here too: every waiter may have gone away meanwhile


def _is_html(headers: httpx.Headers) -> bool:
    return "text/html" in headers.get("content-type", "").lower()


async def _fetch_preview(url: str) -> tuple[LinkPreview, bool]:
    """The preview and whether it may be cached."""
    try:
        result = await fetcher.fetch(
            url,
            max_bytes=MAX_BODY_BYTES,
            want_body=lambda h: _is_html(h),
            accept=ACCEPT,
        )
    except BlockedDestination as err:
        log.info("Link preview refused: %s", err)
        raise Invalid(MSG_INTERNAL) from None
    except BodyReadFailed as err:
        log.debug("Link preview: could not read %s: %s", url, err)
        raise Invalid(MSG_READ) from None
    except FetchFailed as err:
        log.debug("Link preview: could not fetch %s: %s", url, err)
        raise Invalid(MSG_FETCH) from None
    if not 200 <= result.status < 300 or not _is_html(result.headers):
        return LinkPreview(url=url), result.status < 500
    text = decode_html(result.body, result.content_type)
    # html.parser is pure Python: half a megabyte takes a few tens of milliseconds, off the loop
    preview = await asyncio.to_thread(parse_preview, text, url, result.url)
    return preview, True


def decode_html(body: bytes, content_type: str) -> str:
    """Text of the page: the charset from Content-Type, else UTF-8 if it is valid, else the
    charset a ``<meta>`` declares, else Windows-1252 (what browsers assume)."""
    charset = _charset_param(content_type)
    if charset is not None:
        return body.decode(charset, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as err:
        if err.start >= len(body) - 3 and len(body) >= MAX_BODY_BYTES:
            return body.decode("utf-8", errors="replace")  # cut inside a character
    sniffer = _CharsetSniffer()
    sniffer.feed(body[:4096].decode("latin-1"))
    charset = _known_codec(sniffer.charset) if sniffer.charset else None
    return body.decode(charset or "cp1252", errors="replace")


def _known_codec(name: str) -> str | None:
    try:
        return codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None


def _charset_param(content_type: str) -> str | None:
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return _known_codec(value)
    return None


class _CharsetSniffer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.charset: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "meta" or self.charset:
            return
        values = {k.lower(): v or "" for k, v in attrs}
        if values.get("charset"):
            self.charset = values["charset"]
        elif values.get("http-equiv", "").lower() == "content-type":
            self.charset = _raw_charset(values.get("content", ""))


def _raw_charset(content_type: str) -> str | None:
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip()
    return None


_FEED_CHARS = 8192
_BODY_CHARS = 64 * 1024  # read this far into the body for pages whose head has no title
_META_KEYS = frozenset({"og:title", "og:description", "description", "og:image", "og:site_name"})


class _PreviewParser(HTMLParser):
    """Collects the first value of each interesting ``<meta>`` and the first ``<title>`` that
    is not inside an ``<svg>``. Entities are decoded by the parser."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title: str | None = None
        self._in_title = False
        self._title_parts: list[str] = []
        self._svg_depth = 0
        self.head_ended = False
        # The head is over and it had a title: the rest of the page is not needed (parsing a
        # large body costs a second of CPU; Open Graph tags belong in the head).
        self.done = False

    def _end_head(self) -> None:
        if not self.head_ended:
            self.head_ended = True
            self.done = "og:title" in self.meta or self.title is not None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:
            return
        if tag == "body":
            self._end_head()
        elif tag == "meta":
            self._meta(attrs)
        elif tag == "svg":
            self._svg_depth += 1
        elif tag == "title" and self.title is None and not self._svg_depth:
            self._in_title = True

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta" and not self.done:
            self._meta(attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self._end_head()
        elif tag == "svg" and self._svg_depth:
            self._svg_depth -= 1
        elif tag == "title" and self._in_title:
            self._in_title = False
            self.title = "".join(self._title_parts)

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self._title_parts.append(data)

    def _meta(self, attrs: list[tuple[str, str | None]]) -> None:
        values: dict[str, str] = {}
        for key, value in attrs:
            values.setdefault(key.lower(), value or "")
        content = values.get("content")
        if content is None:
            return
        for attribute in ("property", "name"):
            key = values.get(attribute, "").strip().lower()
            if key in _META_KEYS:
                self.meta.setdefault(key, content)


def _clean(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    text = " ".join(value.split())
    if not text:
        return None
    return text[:limit] + "..." if len(text) > limit else text


def _absolute_image(image: str | None, page_url: str) -> str | None:
    if image is None:
        return None
    image = image.strip()
    if not image:
        return None
    if image.startswith("//"):
        image = "https:" + image
    elif not image.lower().startswith(("http://", "https://")):
        if ":" in image.split("/", 1)[0]:  # data:, javascript:, ftp:, ...
            return None
        try:
            image = urljoin(page_url, image)
        except ValueError:
            return None
    try:
        scheme = urlsplit(image).scheme.lower()
    except ValueError:
        return None
    if scheme not in ("http", "https"):
        return None
    return image[:IMAGE_CHARS] + "..." if len(image) > IMAGE_CHARS else image


def parse_preview(html: str, url: str, final_url: str | None = None) -> LinkPreview:
    """The preview of a page (``url``: as requested; ``final_url``: after redirects, the base
    for relative image paths)."""
    parser = _PreviewParser()
    try:
        body_from: int | None = None
        for start in range(0, len(html), _FEED_CHARS):
            parser.feed(html[start : start + _FEED_CHARS])
            if parser.head_ended and body_from is None:
                body_from = start
            if parser.done or (body_from is not None and start - body_from >= _BODY_CHARS):
                break
        else:
            parser.close()
    except (AssertionError, ValueError):  # html.parser gives up on some malformed markup
        pass
    if parser._in_title and parser.title is None:  # an unclosed <title>
        parser.title = "".join(parser._title_parts)
    meta = parser.meta
    title = meta.get("og:title") or parser.title
    description = meta.get("og:description") or meta.get("description")
    return LinkPreview(
        url=url,
        title=_clean(title, TITLE_CHARS),
        description=_clean(description, DESCRIPTION_CHARS),
        image=_absolute_image(meta.get("og:image"), final_url or url),
        site_name=_clean(meta.get("og:site_name"), SITE_NAME_CHARS),
    )
