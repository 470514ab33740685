"""The storage interface every blob (uploaded file, thumbnail, avatar, community/group asset,
custom emoji) goes through, so that where the bytes live is configuration only: the local disk
under ``FILE_STORAGE_PATH`` (storage/local.py) or S3-compatible object storage
(storage/s3.py, for several server processes on different machines).

Keys are relative, ``/``-separated names such as ``01/0190c2f4-...`` or ``avatars/{uuid}.png``:
each segment is 1-200 characters of ``[A-Za-z0-9._-]`` and does not start with a dot, so a key
can never climb out of the store's root or name a hidden (temporary) file. ``check_key``
refuses anything else with ``ValueError``; callers build keys from ids they generated, so a
refused key is a bug, never user input reaching the store.

Writes are atomic: a blob is either absent or complete (a temporary name, then a rename, on
disk; a single PUT or a completed multipart upload on S3).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

CHUNK_BYTES = 256 * 1024
_SEGMENT = re.compile(r"^[A-Za-z0-9_\-][A-Za-z0-9._\-]{0,199}$")


class BlobNotFound(LookupError):
    """The key names no blob."""


class StorageUnavailable(RuntimeError):
    """The backend failed (disk error, S3 unreachable or refusing): a 5xx for the caller."""


@dataclass(frozen=True, slots=True)
class BlobInfo:
    key: str
    size: int
    modified: datetime


@dataclass(slots=True)
class BlobRead:
    """An open read of ``[start, end)`` of a blob of ``size`` bytes. Iterate ``chunks`` to the
    end, or call ``close()``: either releases the file handle or connection."""

    size: int
    start: int
    end: int
    chunks: AsyncIterator[bytes]

    async def close(self) -> None:
        aclose = getattr(self.chunks, "aclose", None)
        if aclose is not None:
            await aclose()


def check_key(key: str) -> str:
    parts = key.split("/")
    if not key or not all(_SEGMENT.match(part) for part in parts):
        raise ValueError(f"invalid storage key: {key!r}")
    return key


class BlobStore(Protocol):
    """Where blobs live. Every method may raise StorageUnavailable."""

    kind: str  # "local" or "s3": shown by `config check` and the admin storage stats

    async def put_file(self, key: str, path: Path) -> None:
        """Stores the file at ``path`` (a local file, typically a spooled upload) under
        ``key`` and consumes it: the file is gone afterwards, whether moved or uploaded."""
        ...

    async def put_bytes(self, key: str, data: bytes) -> None:
        """Stores small content (thumbnails, emoji, avatars) under ``key``."""
        ...

    async def stat(self, key: str) -> BlobInfo | None:
        """The blob's size and modification time, or None when it does not exist."""
        ...

    async def open(self, key: str, start: int = 0, end: int | None = None) -> BlobRead:
        """Reads ``[start, end)`` (``end`` None: to the end); raises BlobNotFound. The range
        must lie within the blob (callers check it against ``stat``)."""
        ...

    async def read_bytes(self, key: str) -> bytes:
        """The whole blob (for small ones); raises BlobNotFound."""
        ...

    async def delete(self, key: str) -> bool:
        """Removes the blob; False when there was none."""
        ...

    def iter_blobs(self, prefix: str = "") -> AsyncIterator[BlobInfo]:
        """Every blob whose key starts with ``prefix`` (no order promised). Temporary files
        of unfinished writes are never listed."""
        ...

    async def close(self) -> None: ...
