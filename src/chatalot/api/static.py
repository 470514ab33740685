"""Everything outside /api: an external web client from STATIC_FILES_PATH, else the built-in one.

When STATIC_FILES_PATH holds an ``index.html`` that site is served as it is (e.g. the original
Chatalot client): existing files (a precompressed ``.br`` / ``.gz`` sibling is preferred when the
client accepts it), and ``index.html`` for any other path so the client's own routes (/channels,
/invite/...) work. Paths never escape the root.

Otherwise the built-in client (api/web_client.py, held in memory) answers:

- ``/client/<version>/<path>``: the file; cached for a year under the current version, and
  ``no-cache`` under any other one (an old tab after an upgrade must not keep the new file under
  the old URL); an unknown file is a plain-text 404 (a missing module must not get HTML);
- ``/version.json``: ``{"version": "<version>"}``; ``/favicon.ico``: the SVG icon; ``/sw.js``:
  the service worker (Web Push notifications), ``no-cache``;
- any other path: the rendered ``index.html`` (``no-cache``, ETag = the version, 304 on a match).
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from chatalot.api.web_client import BuiltinClient

_EXTRA_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".wasm": "application/wasm",
    ".webmanifest": "application/manifest+json",
    ".json": "application/json",
    ".svg": "image/svg+xml",
}
_ALIASES = {"favicon.ico": "favicon.png"}
CLIENT_PREFIX = "/client/"
IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
_NOT_FOUND = b"not found\n"
_TEXT_PLAIN = "text/plain"  # the framework adds "; charset=utf-8" to text/*


@dataclass(frozen=True, slots=True)
class StaticFile:
    path: Path
    media_type: str
    content_encoding: str | None


@dataclass(frozen=True, slots=True)
class Served:
    """An answer of the built-in client: status, body, media type and headers."""

    status: int
    body: bytes
    media_type: str
    headers: dict[str, str] = field(default_factory=dict)


class StaticSite:
    def __init__(self, root: Path, client: BuiltinClient | None = None) -> None:
        """``client``: the built-in client (default: the package's, shared by the process)."""
        if client is None:
            # imported here: web_client uses media_type_for from this module
            from chatalot.api.web_client import builtin_client

            client = builtin_client()
        self.root = root.resolve()
        self.client = client
        self._version_json = msgspec.json.encode({"version": client.version})

    def is_external(self) -> bool:
        """True when STATIC_FILES_PATH holds a web client (an ``index.html``) of its own."""
        return (self.root / "index.html").is_file()

    def resolve(self, url_path: str, accept_encoding: str) -> StaticFile | None:
        """The external site's file for ``url_path``, else its SPA index (None: no index)."""
        relative = url_path.lstrip("/")
        relative = _ALIASES.get(relative, relative)
        found = self._existing(relative) if relative else None
        if found is None:
            found = self._existing("index.html")
            if found is None:
                return None
        return self._with_encoding(found, accept_encoding)

    def builtin(self, url_path: str, accept_encoding: str, if_none_match: str) -> Served:
        """The built-in client's answer for ``url_path`` (GET or HEAD)."""
        client = self.client
        gzip_ok = accepts_gzip(accept_encoding)
        if url_path.startswith(CLIENT_PREFIX) or url_path == CLIENT_PREFIX[:-1]:
            version, _, relative = url_path[len(CLIENT_PREFIX) :].partition("/")
            found = client.get(relative)
            if found is None:
                return Served(404, _NOT_FOUND, _TEXT_PLAIN, {"Cache-Control": NO_CACHE})
            cache = IMMUTABLE if version == client.version else NO_CACHE
            return _served(found.encoded(gzip_ok), found.media_type, {"Cache-Control": cache})
        if url_path == "/version.json":
            return Served(200, self._version_json, "application/json", {"Cache-Control": NO_CACHE})
        if url_path == "/sw.js":  # the service worker lives at the root: its scope is the site
            worker = client.get("sw.js")
            if worker is not None:
                no_cache = {"Cache-Control": NO_CACHE}
                return _served(worker.encoded(gzip_ok), worker.media_type, no_cache)
        if url_path == "/favicon.ico":
            icon = client.get("favicon.svg")
            if icon is not None:
                return _served(icon.encoded(gzip_ok), icon.media_type, {"Cache-Control": NO_CACHE})
        etag = f'"{client.version}"'
        headers = {"Cache-Control": NO_CACHE, "ETag": etag}
        if etag_matches(if_none_match, etag):
            return Served(304, b"", "", {**headers, "Vary": "Accept-Encoding"})
        return _served(client.index.encoded(gzip_ok), client.index.media_type, headers)

    def _existing(self, relative: str) -> Path | None:
        if "\x00" in relative:
            return None
        candidate = (self.root / relative).resolve()
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            return None
        return candidate

    @staticmethod
    def _with_encoding(path: Path, accept_encoding: str) -> StaticFile:
        media_type = media_type_for(path)
        accepted = {part.split(";")[0].strip().lower() for part in accept_encoding.split(",")}
        for encoding, suffix in (("br", ".br"), ("gzip", ".gz")):
            sibling = path.with_name(path.name + suffix)
            if encoding in accepted and sibling.is_file():
                return StaticFile(sibling, media_type, encoding)
        return StaticFile(path, media_type, None)


def _served(encoded: tuple[bytes, str | None], media_type: str, headers: dict[str, str]) -> Served:
    body, encoding = encoded
    headers["Vary"] = "Accept-Encoding"
    if encoding is not None:
        headers["Content-Encoding"] = encoding
    return Served(200, body, media_type, headers)


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding value allows gzip (``gzip`` or ``*`` with a q above 0)."""
    star = False
    for part in accept_encoding.lower().split(","):
        name, _, params = part.partition(";")
        name = name.strip()
        if name not in ("gzip", "x-gzip", "*"):
            continue
        allowed = _quality(params) > 0
        if name != "*":
            return allowed
        star = allowed
    return star


def _quality(params: str) -> float:
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip() == "q":
            try:
                return float(value.strip())
            except ValueError:
                return 0.0
    return 1.0


def etag_matches(if_none_match: str, etag: str) -> bool:
    """If-None-Match (weak comparison, RFC 9110 13.1.2) against ``etag``."""
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == etag:
            return True
    return False


def media_type_for(path: Path) -> str:
    extra = _EXTRA_TYPES.get(path.suffix.lower())
    if extra:
        return extra
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"
