"""The built-in web client (the package's ``web/`` folder), held in memory.

Every file under the root is read once, at construction (no ``__pycache__``, no dotfiles, no
``*.md``). ``version`` is the first 16 hex digits of a SHA-256 over the sorted (relative path,
content) pairs, so any change of the client changes it; the client's assets are served under
``/client/<version>/<path>`` and can be cached forever. ``index.html`` is rendered once with
``%CHATALOT_VERSION%`` replaced by the version. A text-like file of 256 bytes or more also gets
a gzip variant. Requests are answered only from known relative keys: no file system access per
request, so no path can escape the root.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

from chatalot.api.static import media_type_for

PACKAGE_ROOT = Path(__file__).resolve().parent.parent / "web"
VERSION_MARKER = b"%CHATALOT_VERSION%"
INDEX = "index.html"
GZIP_MIN_BYTES = 256
_TEXT_LIKE = ("javascript", "json", "svg", "css", "manifest")


@dataclass(frozen=True, slots=True)
class ClientFile:
    body: bytes
    media_type: str
    gzipped: bytes | None

    def encoded(self, gzip_accepted: bool) -> tuple[bytes, str | None]:
        """The body to send and its Content-Encoding (None: as is)."""
        if gzip_accepted and self.gzipped is not None:
            return self.gzipped, "gzip"
        return self.body, None


class BuiltinClient:
    """The client's files by relative posix path (``js/main.js``); immutable once built."""

    def __init__(self, root: Path = PACKAGE_ROOT) -> None:
        self.root = root.resolve()
        raw = dict(sorted(_read_tree(self.root).items()))
        digest = hashlib.sha256()
        for relative, content in raw.items():
            name = relative.encode()
            digest.update(len(name).to_bytes(8, "big") + name)
            digest.update(len(content).to_bytes(8, "big") + content)
        self.version = digest.hexdigest()[:16]
        if INDEX in raw:
            raw[INDEX] = raw[INDEX].replace(VERSION_MARKER, self.version.encode())
        self._files = {
            relative: _client_file(relative, content) for relative, content in raw.items()
        }

    def get(self, relative: str) -> ClientFile | None:
        """The file at ``relative`` (e.g. ``js/main.js``), or None."""
        return self._files.get(relative)

    @property
    def index(self) -> ClientFile:
        """The rendered ``index.html`` (a minimal page if the root has none)."""
        return self._files.get(INDEX) or _MISSING_INDEX

    def __contains__(self, relative: str) -> bool:
        return relative in self._files

    def __len__(self) -> int:
        return len(self._files)


@functools.cache
def builtin_client() -> BuiltinClient:
    """The package's client, built once per process (it never changes while running)."""
    return BuiltinClient()


def _read_tree(root: Path) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    if not root.is_dir():
        return found
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
            continue
        if path.suffix.lower() == ".md" or not path.is_file():
            continue
        found[relative.as_posix()] = path.read_bytes()
    return found


def _client_file(relative: str, content: bytes) -> ClientFile:
    media_type = media_type_for(Path(relative))  # the framework adds "; charset=utf-8" to text/*
    gzipped = None
    if len(content) >= GZIP_MIN_BYTES and _is_text_like(media_type):
        gzipped = gzip.compress(content, compresslevel=9, mtime=0)
    return ClientFile(content, media_type, gzipped)


def _is_text_like(media_type: str) -> bool:
    return media_type.startswith("text/") or any(word in media_type for word in _TEXT_LIKE)


_MISSING_INDEX = ClientFile(
    b"<!doctype html><title>Chatalot</title><p>The web client is missing.</p>\n",
    "text/html",
    None,
)
