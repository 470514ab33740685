"""Blobs in an S3-compatible bucket (AWS S3, MinIO, Garage, ...): ``{prefix}/{key}``.

Built on obstore (Python bindings of the Rust ``object_store`` crate; why not aioboto3:
docs/decisions/0006-object-storage.md). Every call is natively async: the requests run on
obstore's own Tokio runtime, so neither the network nor reading a spooled upload from disk
blocks the event loop.

- ``put_file`` streams the file: above ``PART_BYTES`` it is a multipart upload of that part
  size (``PART_CONCURRENCY`` part in flight, so memory stays bounded), completed
  only when every part is in: a reader never sees half a blob. The local file is removed
  afterwards, also when the upload failed (the caller's request has failed then anyway).
- ``open`` is a ranged GET streamed in ``CHUNK_BYTES`` pieces.
- ``iter_blobs`` lists under the store's prefix only (obstore's prefixes match whole path
  segments: prefix ``chatalot`` never sees ``chatalot-old/...``); keys that are not valid
  storage keys (written by something else) are skipped, as the local store skips stray files.
- Missing keys raise ``BlobNotFound``; every other failure (unreachable, refused, timed out,
  bad credentials) raises ``StorageUnavailable`` with the first line of the cause, which
  names the operation and URL but never the credentials.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import obstore
from obstore.exceptions import BaseError as ObstoreError
from obstore.exceptions import NotFoundError as ObstoreNotFound
from obstore.store import S3Store

from chatalot.config import S3Settings
from chatalot.storage.base import (
    CHUNK_BYTES,
    BlobInfo,
    BlobNotFound,
    BlobRead,
    StorageUnavailable,
    check_key,
)

if TYPE_CHECKING:
    from obstore import GetOptions, ObjectMeta

PART_BYTES = 5 * 1024 * 1024  # multipart part size (S3: 5 MiB at least, 10,000 parts at most)
PART_CONCURRENCY = 1
READ_BYTES = 256 * 1024  # read from the spooled file and handed to the writer at a time
LIST_PAGE = 1000
# Requests: connect within 5 s; a download streamed to a slow client may take long (the
# overall limit), a stalled one fails; failures are retried 3 times within 20 s, so a request
# to an unreachable store fails within about half a minute instead of obstore's 3 minutes.
CLIENT_OPTIONS = {"connect_timeout": "5s", "timeout": "2h"}
MAX_RETRIES = 3
RETRY_TIMEOUT = timedelta(seconds=20)


class S3BlobStore:
    kind = "s3"

    def __init__(self, store: S3Store, *, description: str) -> None:
        self._store = store
        self.description = description  # "s3://bucket/prefix at endpoint" (no secrets)

    @classmethod
    def from_settings(cls, s3: S3Settings) -> S3BlobStore:
        endpoint = s3.endpoint
        if endpoint is not None and not s3.force_path_style:
            # Virtual-hosted style on a custom endpoint: the bucket is part of the host name.
            scheme, _, rest = endpoint.partition("://")
            endpoint = f"{scheme}://{s3.bucket}.{rest}"
        config: dict[str, str | bool] = {
            "region": s3.region,
            "access_key_id": s3.access_key_id,
            "secret_access_key": s3.secret_access_key,
            "virtual_hosted_style_request": not s3.force_path_style,
        }
        if endpoint is not None:
            config["endpoint"] = endpoint
        client: dict[str, str | bool] = dict(CLIENT_OPTIONS)
        if endpoint is not None and endpoint.startswith("http://"):
            client["allow_http"] = True
        store = S3Store(
            s3.bucket,
            prefix=s3.prefix or None,
            config=config,  # type: ignore[arg-type]  # a plain dict of S3Config keys
            client_options=client,  # type: ignore[arg-type]  # a plain dict of ClientConfig keys
            retry_config={"max_retries": MAX_RETRIES, "retry_timeout": RETRY_TIMEOUT},
        )
        where = f"s3://{s3.bucket}/{s3.prefix}".rstrip("/")
        return cls(store, description=f"{where} at {s3.endpoint or 'AWS ' + s3.region}")

    async def check(self) -> None:
        """One listing request: the bucket exists and the credentials are accepted. Raises
        StorageUnavailable otherwise (server startup reports it)."""
        try:
            stream = obstore.list(self._store, chunk_size=1)
            await anext(aiter(stream), None)
        except (ObstoreError, OSError) as err:
            _unavailable("list", err)

    async def upload_file(self, key: str, path: Path) -> None:
        """Stores a copy of the local file ``path`` (which stays): `chatalot storage migrate`.

        Written through obstore's buffered writer, fed ``READ_BYTES`` at a time from a worker
        thread: one part of ``PART_BYTES`` buffered, one in flight (``put_async`` with a path
        held about 20 MB more for a 100 MB file; this about 6-9 MB). The upload is completed
        only after the last byte was written; when reading or sending fails it is left
        incomplete, which S3 never shows as an object."""
        check_key(key)
        try:
            writer = obstore.open_writer_async(
                self._store, key, buffer_size=PART_BYTES, max_concurrency=PART_CONCURRENCY
            )
            with path.open("rb") as source:
                while chunk := await asyncio.to_thread(source.read, READ_BYTES):
                    await writer.write(chunk)
            await writer.close()
        except (ObstoreError, OSError) as err:
            _unavailable(f"put {key}", err)

    async def put_file(self, key: str, path: Path) -> None:
        check_key(key)
        try:
            await self.upload_file(key, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    async def put_bytes(self, key: str, data: bytes) -> None:
        check_key(key)
        try:
            await obstore.put_async(self._store, key, data, use_multipart=False)
        except (ObstoreError, OSError) as err:
            _unavailable(f"put {key}", err)

    async def stat(self, key: str) -> BlobInfo | None:
        check_key(key)
        try:
            meta = await obstore.head_async(self._store, key)
        except (ObstoreNotFound, FileNotFoundError):
            return None
        except (ObstoreError, OSError) as err:
            _unavailable(f"head {key}", err)
        return _info(meta)

    async def open(self, key: str, start: int = 0, end: int | None = None) -> BlobRead:
        check_key(key)
        if start < 0 or (end is not None and end < start):
            raise ValueError(f"invalid range [{start}, {end})")
        if start == 0 and end is None:
            options: GetOptions = {}
        elif end is None or end > start:
            options = {"range": {"offset": start} if end is None else (start, end)}
        else:  # an empty range: S3 has no request for it, only the size is needed
            info = await self.stat(key)
            if info is None:
                raise BlobNotFound(key)
            return BlobRead(info.size, start, start, _no_chunks())
        try:
            result = await obstore.get_async(self._store, key, options=options)
        except (ObstoreNotFound, FileNotFoundError):
            raise BlobNotFound(key) from None
        except (ObstoreError, OSError) as err:
            _unavailable(f"get {key}", err)
        first, stop = result.range
        size = result.meta["size"]
        return BlobRead(size, first, stop, _chunks(result.stream(CHUNK_BYTES), key))

    async def read_bytes(self, key: str) -> bytes:
        check_key(key)
        try:
            result = await obstore.get_async(self._store, key)
            return bytes(await result.bytes_async())
        except (ObstoreNotFound, FileNotFoundError):
            raise BlobNotFound(key) from None
        except (ObstoreError, OSError) as err:
            _unavailable(f"get {key}", err)

    async def delete(self, key: str) -> bool:
        # S3 answers a DELETE of a missing key with success too: ask first.
        if await self.stat(key) is None:
            return False
        try:
            await obstore.delete_async(self._store, key)
        except (ObstoreNotFound, FileNotFoundError):
            return False
        except (ObstoreError, OSError) as err:
            _unavailable(f"delete {key}", err)
        return True

    async def iter_blobs(self, prefix: str = "") -> AsyncIterator[BlobInfo]:
        # obstore matches prefixes by whole segments; ours is a plain string prefix, so list
        # the folder part and filter.
        folder = prefix.rpartition("/")[0] or None
        stream = obstore.list(self._store, prefix=folder, chunk_size=LIST_PAGE)
        while True:
            try:
                page = await anext(stream)
            except StopAsyncIteration:
                return
            except (ObstoreError, OSError) as err:
                _unavailable("list", err)
            for meta in page:
                key = meta["path"]
                if not key.startswith(prefix):
                    continue
                try:
                    check_key(key)
                except ValueError:
                    continue
                yield _info(meta)

    async def close(self) -> None:
        return None  # obstore's connections close when the store is dropped


def _info(meta: ObjectMeta) -> BlobInfo:
    return BlobInfo(meta["path"], meta["size"], meta["last_modified"])


def _unavailable(operation: str, err: BaseException) -> NoReturn:
    first_line = (str(err).strip().splitlines() or [type(err).__name__])[0][:300]
    raise StorageUnavailable(f"object storage {operation} failed: {first_line}") from None


async def _chunks(stream: AsyncIterator[bytes], key: str) -> AsyncIterator[bytes]:
    """The object's bytes in pieces of at most CHUNK_BYTES. obstore's ``stream(n)`` takes a
    minimum size: when the network is quick it hands over more at once (680 KB was seen), which
    is cut here so that readers always get the same bounded pieces as from the local store."""
    while True:
        try:
            chunk = await anext(stream)
        except StopAsyncIteration:
            return
        except (ObstoreError, OSError) as err:
            _unavailable(f"get {key}", err)
        if len(chunk) <= CHUNK_BYTES:
            yield chunk
            continue
        view = memoryview(chunk)
        for offset in range(0, len(view), CHUNK_BYTES):
            yield bytes(view[offset : offset + CHUNK_BYTES])


async def _no_chunks() -> AsyncIterator[bytes]:
    empty: tuple[bytes, ...] = ()
    for chunk in empty:  # an async generator that yields nothing
        yield chunk
