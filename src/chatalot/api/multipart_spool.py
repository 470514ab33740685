"""Reading a file upload (multipart/form-data) as a stream, spooling the file part to disk.

The body is parsed while it arrives (the ``multipart`` package's PushMultipartParser): the
file part's bytes go to a temporary file in ``spool_dir`` (for the local store its
``incoming_dir``, on the same file system as the blobs, so storing the upload is a rename)
and through SHA-256 as they are written, in blocks of at most ``FLUSH_BYTES`` written by a
worker thread. Neither the request nor the file is ever held in memory: the memory used is a
block, the first ``HEAD_BYTES`` of the file (for the type check) and the small text parts.

Reading stops at the first problem, in the order the parts arrive: a file part over the
limit (the caller's message), a text part over its limit, broken multipart, a body larger
than allowed (413), or a client that goes away before the end (400 ``upload interrupted``).
Whatever the outcome, a temporary file that is not handed to the caller is removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from litestar import Request
from litestar.exceptions import InternalServerException
from multipart import (  # type: ignore[import-untyped]  # no type information shipped
    MultipartError,
    MultipartSegment,
    PushMultipartParser,
)

from chatalot.errors import Invalid, PayloadTooLarge
from chatalot.services.file_types import HEAD_BYTES

FLUSH_BYTES = 1024 * 1024
MAX_PARTS = 32
INTERRUPTED = "upload interrupted: the request ended before the whole body arrived"


@dataclass(slots=True)
class SpooledFile:
    """A file part on disk: the caller owns ``path`` (store it or ``discard`` it)."""

    path: Path
    size: int
    sha256: str  # lowercase hex, of the bytes as uploaded
    head: bytes  # the first HEAD_BYTES bytes (all of them for a shorter file)
    content_type: str | None  # the part's own header, never trusted

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class TextPart:
    """A small text part of at most ``limit`` bytes. A longer one is refused with
    ``too_long_message`` (400), or, when that is None, read to its end and given as None
    (for a value that is ignored when it is not valid anyway)."""

    limit: int
    too_long_message: str | None


@dataclass(slots=True)
class SpooledForm:
    file: SpooledFile | None = None
    texts: dict[str, bytes | None] = field(default_factory=dict)

    def discard(self) -> None:
        if self.file is not None:
            self.file.discard()
            self.file = None


class _Spool:
    """The file being written: hashing and writing happen in a worker thread, one block at
    a time."""

    def __init__(self, handle: IO[bytes], path: Path, content_type: str | None) -> None:
        self.handle = handle
        self.path = path
        self.content_type = content_type
        self.hash = hashlib.sha256()
        self.size = 0
        self.head = bytearray()
        self.pending = bytearray()

    @classmethod
    async def open(cls, directory: Path, content_type: str | None) -> _Spool:
        handle, path = await asyncio.to_thread(_create_temp, directory)
        return cls(handle, path, content_type)

    async def write(self, data: Any) -> None:
        self.size += len(data)
        if len(self.head) < HEAD_BYTES:
            self.head += data[: HEAD_BYTES - len(self.head)]
        self.pending += data
        if len(self.pending) >= FLUSH_BYTES:
            await self.flush()

    async def flush(self) -> None:
        if self.pending:
            block, self.pending = self.pending, bytearray()
            await asyncio.to_thread(self._write, block)

    def _write(self, block: bytearray) -> None:
        self.hash.update(block)
        self.handle.write(block)

    async def finish(self) -> SpooledFile:
        await self.flush()
        await asyncio.to_thread(self.handle.close)
        return SpooledFile(
            self.path, self.size, self.hash.hexdigest(), bytes(self.head), self.content_type
        )

    async def abandon(self) -> None:
        def remove() -> None:
            with contextlib.suppress(OSError):
                self.handle.close()
            self.path.unlink(missing_ok=True)

        await asyncio.to_thread(remove)


def _create_temp(directory: Path) -> tuple[IO[bytes], Path]:
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=directory, prefix="upload-")
    return os.fdopen(fd, "wb"), Path(name)


class _Reader:
    """Routes the parser's events: the file part to a spool, wanted text parts to memory,
    everything else nowhere."""

    def __init__(
        self,
        form: SpooledForm,
        *,
        file_field: str,
        spool_dir: Path,
        max_file_bytes: int,
        file_too_large: str,
        texts: dict[str, TextPart],
    ) -> None:
        self.form = form
        self.file_field = file_field
        self.spool_dir = spool_dir
        self.max_file_bytes = max_file_bytes
        self.file_too_large = file_too_large
        self.text_parts = texts
        self.spool: _Spool | None = None
        self.text_name: str | None = None
        self.text: bytearray | None = None
        self.text_overflow = False

    async def feed(self, event: Any) -> None:
        if isinstance(event, MultipartSegment):
            if event.name == self.file_field:
                self.spool = await _Spool.open(self.spool_dir, event.content_type)
            elif event.name in self.text_parts:
                self.text_name, self.text = event.name, bytearray()
                self.text_overflow = False
        elif event is None:
            await self._end_part()
        elif self.spool is not None:
            if self.spool.size + len(event) > self.max_file_bytes:
                raise Invalid(self.file_too_large)
            await self.spool.write(event)
        elif self.text is not None and self.text_name is not None:
            part = self.text_parts[self.text_name]
            if self.text_overflow:
                return
            if len(self.text) + len(event) > part.limit:
                if part.too_long_message is not None:
                    raise Invalid(part.too_long_message)
                self.text_overflow = True
                return
            self.text += event

    async def _end_part(self) -> None:
        if self.spool is not None:
            spooled = await self.spool.finish()
            self.spool = None
            self.form.discard()  # a repeated file part: the last one counts
            self.form.file = spooled
        elif self.text is not None and self.text_name is not None:
            self.form.texts[self.text_name] = None if self.text_overflow else bytes(self.text)
        self.text_name = self.text = None

    async def abandon(self) -> None:
        if self.spool is not None:
            await self.spool.abandon()
            self.spool = None
        await asyncio.to_thread(self.form.discard)


async def spool_upload(
    request: Request[Any, Any, Any],
    *,
    spool_dir: Path,
    file_field: str,
    max_file_bytes: int,
    max_body_bytes: int,
    file_too_large: str,
    texts: dict[str, TextPart],
) -> SpooledForm:
    """Reads the whole multipart body. The file part (the last one named ``file_field``) is
    spooled to ``spool_dir``; text parts named in ``texts`` are kept; others are skipped.
    Raises Invalid (multipart errors, limits, interruption) or PayloadTooLarge (a body over
    ``max_body_bytes``, by Content-Length before anything is read, or counted)."""
    media_type, options = request.content_type
    if media_type != "multipart/form-data":
        raise Invalid("multipart error: expected a multipart/form-data request")
    boundary = options.get("boundary")
    if not boundary:
        raise Invalid("multipart error: missing boundary")
    announced = request.headers.get("content-length")
    if announced is not None and announced.isdigit() and int(announced) > max_body_bytes:
        raise PayloadTooLarge(file_too_large)

    form = SpooledForm()
    reader = _Reader(
        form,
        file_field=file_field,
        spool_dir=spool_dir,
        max_file_bytes=max_file_bytes,
        file_too_large=file_too_large,
        texts=texts,
    )
    try:
        await _read(request, boundary, reader, max_body_bytes, file_too_large)
    except MultipartError as exc:
        await reader.abandon()
        raise Invalid(f"multipart error: {exc}") from None
    except InternalServerException:  # Litestar: "client disconnected prematurely"
        await reader.abandon()
        raise Invalid(INTERRUPTED) from None
    except BaseException:
        await asyncio.shield(reader.abandon())
        raise
    return form


async def _read(
    request: Request[Any, Any, Any],
    boundary: str,
    reader: _Reader,
    max_body_bytes: int,
    too_large: str,
) -> None:
    received = 0
    parser = PushMultipartParser(boundary, max_segment_count=MAX_PARTS)
    async for chunk in request.stream():
        if not chunk:
            continue
        received += len(chunk)
        if received > max_body_bytes:
            raise PayloadTooLarge(too_large)
        for event in parser.parse(chunk):
            await reader.feed(event)
        if parser.closed:
            break
    if not parser.closed:
        parser.close()  # raises when the body ended in the middle of the multipart
