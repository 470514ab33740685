"""Static files and the single-page-app fallback for everything outside /api.

Existing files under STATIC_FILES_PATH are served (a precompressed ``.br`` / ``.gz`` sibling is
preferred when the client accepts it); any other path gets ``index.html`` so the client's own
routes (/channels, /invite/...) work; without an index.html a built-in placeholder page is shown.
Paths never escape the root.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import Path

_PLACEHOLDER = Path(__file__).resolve().parent.parent / "web" / "index.html"
_EXTRA_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".wasm": "application/wasm",
    ".webmanifest": "application/manifest+json",
    ".json": "application/json",
    ".svg": "image/svg+xml",
}
_ALIASES = {"favicon.ico": "favicon.png"}


@dataclass(frozen=True, slots=True)
class StaticFile:
    path: Path
    media_type: str
    content_encoding: str | None


class StaticSite:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def resolve(self, url_path: str, accept_encoding: str) -> StaticFile:
        """The file for ``url_path``, else the SPA index, else the placeholder page."""
        relative = url_path.lstrip("/")
        relative = _ALIASES.get(relative, relative)
        found = self._existing(relative) if relative else None
        if found is None:
            found = self._existing("index.html") or _PLACEHOLDER
        return self._with_encoding(found, accept_encoding)

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


def media_type_for(path: Path) -> str:
    extra = _EXTRA_TYPES.get(path.suffix.lower())
    if extra:
        return extra
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"
