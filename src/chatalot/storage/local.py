"""Blobs as files under one directory (``FILE_STORAGE_PATH``): ``{root}/{key}``.

Every disk operation runs in a worker thread, so a slow disk never stalls the event loop. A
write goes to a temporary file in ``{root}/.incoming/`` and is then renamed into place
(``os.replace`` is atomic within one file system), so readers and the orphan clean-up never
see half a blob; ``iter_blobs`` skips the dot-directories those temporary files live in.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from stat import S_ISREG
from typing import BinaryIO

from chatalot.storage.base import CHUNK_BYTES, BlobInfo, BlobNotFound, BlobRead, check_key

INCOMING = ".incoming"


class LocalBlobStore:
    kind = "local"

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, key: str) -> Path:
        return self.root / check_key(key)

    @property
    def incoming_dir(self) -> Path:
        """Where uploads are spooled: on the same file system as the blobs, so storing a
        spooled upload is a rename, not a copy."""
        return self.root / INCOMING

    async def remove_stale_incoming(self, cutoff: datetime) -> int:
        """Removes temporary files in ``incoming_dir`` last written before ``cutoff``: what a
        crash or a kill left of unfinished uploads and writes. Returns how many."""
        return await asyncio.to_thread(self._remove_stale_incoming, cutoff.timestamp())

    def _remove_stale_incoming(self, cutoff: float) -> int:
        removed = 0
        try:
            entries = list(os.scandir(self.incoming_dir))
        except FileNotFoundError:
            return 0
        for entry in entries:
            with contextlib.suppress(FileNotFoundError):
                if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
        return removed

    async def put_file(self, key: str, path: Path) -> None:
        await asyncio.to_thread(self._put_file, self.path_of(key), path)

    def _put_file(self, target: Path, source: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(source, target)
            return
        except OSError:
            pass  # another file system: copy to a temporary name, then rename
        try:
            temp = self._temp_file()
            with source.open("rb") as src, temp.open("wb") as dst:
                shutil.copyfileobj(src, dst, CHUNK_BYTES)
            os.replace(temp, target)
        finally:
            source.unlink(missing_ok=True)

    def _temp_file(self) -> Path:
        self.incoming_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.incoming_dir, prefix="put-")
        os.close(fd)
        return Path(name)

    async def put_bytes(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._put_bytes, self.path_of(key), data)

    def _put_bytes(self, target: Path, data: bytes) -> None:
        temp = self._temp_file()
        try:
            temp.write_bytes(data)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)

    async def stat(self, key: str) -> BlobInfo | None:
        return await asyncio.to_thread(self._stat, key)

    def _stat(self, key: str) -> BlobInfo | None:
        try:
            st = self.path_of(key).stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not S_ISREG(st.st_mode):
            return None
        return BlobInfo(key, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC))

    async def open(self, key: str, start: int = 0, end: int | None = None) -> BlobRead:
        handle, size = await asyncio.to_thread(self._open, self.path_of(key))
        stop = size if end is None else min(end, size)
        return BlobRead(size, start, stop, _FileChunks(handle, start, stop))

    @staticmethod
    def _open(path: Path) -> tuple[BinaryIO, int]:
        try:
            handle = path.open("rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise BlobNotFound(str(path)) from None
        st = os.fstat(handle.fileno())
        if not S_ISREG(st.st_mode):
            handle.close()
            raise BlobNotFound(str(path))
        return handle, st.st_size

    async def read_bytes(self, key: str) -> bytes:
        try:
            return await asyncio.to_thread(self.path_of(key).read_bytes)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise BlobNotFound(key) from None

    async def delete(self, key: str) -> bool:
        return await asyncio.to_thread(self._delete, self.path_of(key))

    @staticmethod
    def _delete(path: Path) -> bool:
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError):
            return False
        return True

    async def iter_blobs(self, prefix: str = "") -> AsyncIterator[BlobInfo]:
        walker = os.walk(self.root)  # lazy: each step below reads one directory in a thread
        while (infos := await asyncio.to_thread(self._next_directory, walker, prefix)) is not None:
            for info in infos:
                yield info

    def _next_directory(
        self, walker: Iterator[tuple[str, list[str], list[str]]], prefix: str
    ) -> list[BlobInfo] | None:
        step = next(walker, None)
        if step is None:
            return None
        directory, subdirs, files = step
        subdirs[:] = [d for d in subdirs if not d.startswith(".")]
        relative = os.path.relpath(directory, self.root).replace(os.sep, "/")
        infos = []
        for name in files:
            key = name if relative == "." else f"{relative}/{name}"
            if name.startswith(".") or not key.startswith(prefix):
                continue
            try:
                info = self._stat(key)
            except ValueError:  # a stray file whose name is no valid key: not ours to list
                continue
            if info is not None:
                infos.append(info)
        return infos

    async def close(self) -> None:
        return None


class _FileChunks:
    """``[start, stop)`` of an open file in chunks of at most CHUNK_BYTES (each read in a worker
    thread). The handle is closed at the end, on an error, or by ``aclose()``, also when no
    chunk was ever read (an async generator's ``finally`` would not run then)."""

    __slots__ = ("_handle", "_left", "_start")

    def __init__(self, handle: BinaryIO, start: int, stop: int) -> None:
        self._handle: BinaryIO | None = handle
        self._start = start
        self._left = stop - start

    def __aiter__(self) -> _FileChunks:
        return self

    async def __anext__(self) -> bytes:
        handle = self._handle
        if handle is None:
            raise StopAsyncIteration
        try:
            if self._start:
                await asyncio.to_thread(handle.seek, self._start)
                self._start = 0
            chunk = (
                await asyncio.to_thread(handle.read, min(CHUNK_BYTES, self._left))
                if self._left > 0
                else b""
            )
        except BaseException:
            await self.aclose()
            raise
        if not chunk:
            await self.aclose()
            raise StopAsyncIteration
        self._left -= len(chunk)
        return chunk

    async def aclose(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.close()
