"""The BlobStore contract (storage/base.py), the same tests on both backends: the local folder
and S3 (moto's server). Writing, consuming spooled files, stat, ranged streaming reads,
deleting, listing with prefixes, neighbours that never see each other, missing keys, keys that
could climb out of the store, and a 20 MB file that goes up in parts and comes back in chunks."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chatalot.storage.base import CHUNK_BYTES, BlobNotFound, BlobStore
from tests.storage.conftest import StoreFactory


async def read_range(store: BlobStore, key: str, start: int = 0, end: int | None = None) -> bytes:
    read = await store.open(key, start, end)
    return b"".join([chunk async for chunk in read.chunks])


async def keys_of(store: BlobStore, prefix: str = "") -> set[str]:
    return {info.key async for info in store.iter_blobs(prefix)}


async def test_put_bytes_then_read_and_stat(store: BlobStore) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    await store.put_bytes("01/abc", b"hello world")
    assert await store.read_bytes("01/abc") == b"hello world"
    info = await store.stat("01/abc")
    assert info is not None
    assert (info.key, info.size) == ("01/abc", 11)
    assert info.modified.tzinfo is not None
    assert before <= info.modified <= datetime.now(UTC) + timedelta(seconds=5)


async def test_put_replaces_an_existing_blob(store: BlobStore) -> None:
    await store.put_bytes("avatars/u.png", b"first version")
    await store.put_bytes("avatars/u.png", b"second")
    assert await store.read_bytes("avatars/u.png") == b"second"
    info = await store.stat("avatars/u.png")
    assert info is not None and info.size == 6


async def test_put_file_stores_and_consumes_the_file(store: BlobStore, tmp_path: Path) -> None:
    spooled = tmp_path / "spooled-upload"
    spooled.write_bytes(b"file content" * 100)
    await store.put_file("01/0190c2f4-0000-7000-8000-000000000001", spooled)
    assert not spooled.exists()
    assert await store.read_bytes("01/0190c2f4-0000-7000-8000-000000000001") == (
        b"file content" * 100
    )


async def test_empty_blob(store: BlobStore) -> None:
    await store.put_bytes("emojis/empty.png", b"")
    assert await store.read_bytes("emojis/empty.png") == b""
    read = await store.open("emojis/empty.png")
    assert (read.size, read.start, read.end) == (0, 0, 0)
    assert [chunk async for chunk in read.chunks] == []


async def test_ranged_reads(store: BlobStore) -> None:
    data = bytes(range(256)) * 4
    await store.put_bytes("01/r", data)
    assert await read_range(store, "01/r") == data
    assert await read_range(store, "01/r", 2, 5) == data[2:5]
    assert await read_range(store, "01/r", 1000) == data[1000:]
    assert await read_range(store, "01/r", 0, 1) == data[:1]
    assert await read_range(store, "01/r", 1023, 1024) == data[1023:]
    read = await store.open("01/r", 10, 20)
    assert (read.size, read.start, read.end) == (1024, 10, 20)
    await read.close()
    empty = await store.open("01/r", 7, 7)
    assert (empty.size, empty.start, empty.end) == (1024, 7, 7)
    assert [chunk async for chunk in empty.chunks] == []


async def test_a_read_can_be_closed_early(store: BlobStore) -> None:
    await store.put_bytes("01/c", os.urandom(3 * CHUNK_BYTES))
    read = await store.open("01/c")
    first = await anext(read.chunks)
    assert first
    await read.close()
    assert await store.read_bytes("01/c")  # the store still works


async def test_delete(store: BlobStore) -> None:
    await store.put_bytes("01/d", b"x")
    assert await store.delete("01/d") is True
    assert await store.stat("01/d") is None
    assert await store.delete("01/d") is False


async def test_missing_keys(store: BlobStore) -> None:
    assert await store.stat("01/missing") is None
    with pytest.raises(BlobNotFound):
        await store.open("01/missing")
    with pytest.raises(BlobNotFound):
        await store.open("01/missing", 3, 9)
    with pytest.raises(BlobNotFound):
        await store.read_bytes("01/missing")
    assert await store.delete("01/missing") is False
    assert await keys_of(store) == set()


async def test_iter_blobs_and_prefixes(store: BlobStore) -> None:
    keys = {
        "01/0190c2f4-0000-7000-8000-000000000001",
        "01/0190c2f4-0000-7000-8000-000000000001_thumb",
        "02/x",
        "avatars/u.png",
        "avatars/u_banner.jpg",
        "avatarsx/other",
        "emojis/e.png",
        "top-level",
    }
    for key in keys:
        await store.put_bytes(key, key.encode())
    listed = [info async for info in store.iter_blobs()]
    assert {info.key for info in listed} == keys
    assert all(info.size == len(info.key) for info in listed)
    assert await keys_of(store, "avatars/") == {"avatars/u.png", "avatars/u_banner.jpg"}
    assert await keys_of(store, "avatars") == {
        "avatars/u.png",
        "avatars/u_banner.jpg",
        "avatarsx/other",
    }
    assert await keys_of(store, "avatars/u_") == {"avatars/u_banner.jpg"}
    assert await keys_of(store, "01/") == {
        "01/0190c2f4-0000-7000-8000-000000000001",
        "01/0190c2f4-0000-7000-8000-000000000001_thumb",
    }
    assert await keys_of(store, "0") == {
        "01/0190c2f4-0000-7000-8000-000000000001",
        "01/0190c2f4-0000-7000-8000-000000000001_thumb",
        "02/x",
    }
    assert await keys_of(store, "nothing/") == set()


async def test_neighbouring_stores_never_see_each_other(make_store: StoreFactory) -> None:
    """Sibling namespaces ("ns" and "ns-other": sibling folders, sibling S3 prefixes) share
    nothing: no listing, read, stat or delete reaches the other one."""
    mine, other, parent = make_store("ns"), make_store("ns-other"), make_store("ns-other/ns")
    await mine.put_bytes("01/a", b"mine")
    await other.put_bytes("01/a", b"other")
    await other.put_bytes("01/b", b"other only")
    await parent.put_bytes("01/c", b"nested")
    assert await keys_of(mine) == {"01/a"}
    assert await keys_of(other) == {"01/a", "01/b", "ns/01/c"}
    assert await mine.read_bytes("01/a") == b"mine"
    assert await mine.stat("01/b") is None
    assert await mine.delete("01/b") is False
    assert await other.read_bytes("01/b") == b"other only"


BAD_KEYS = ["", "../x", "01/../../etc/passwd", "/etc/passwd", "a//b", ".hidden", "01/.tmp", "a/"]


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_keys_that_could_escape_are_refused(
    store: BlobStore, key: str, tmp_path: Path
) -> None:
    spooled = tmp_path / "upload"
    spooled.write_bytes(b"x")
    with pytest.raises(ValueError, match="invalid storage key"):
        await store.put_bytes(key, b"x")
    with pytest.raises(ValueError, match="invalid storage key"):
        await store.put_file(key, spooled)
    with pytest.raises(ValueError, match="invalid storage key"):
        await store.stat(key)
    with pytest.raises(ValueError, match="invalid storage key"):
        await store.open(key)
    with pytest.raises(ValueError, match="invalid storage key"):
        await store.read_bytes(key)
    with pytest.raises(ValueError, match="invalid storage key"):
        await store.delete(key)
    assert spooled.exists()  # a refused key consumes nothing
    assert await keys_of(store) == set()


async def test_a_large_file_is_streamed_both_ways(store: BlobStore, tmp_path: Path) -> None:
    """20 MB: more than two 8 MiB parts of an S3 multipart upload; read back in chunks of at
    most CHUNK_BYTES, and a range across a part boundary."""
    size = 20 * 1024 * 1024 + 17
    spooled = tmp_path / "large"
    digest = hashlib.sha256()
    with spooled.open("wb") as out:
        for _ in range(20):
            block = os.urandom(1024 * 1024)
            digest.update(block)
            out.write(block)
        out.write(b"z" * 17)
        digest.update(b"z" * 17)
    middle_start = 8 * 1024 * 1024 - 100
    with spooled.open("rb") as handle:
        handle.seek(middle_start)
        middle = handle.read(200)
    await store.put_file("01/large", spooled)
    assert not spooled.exists()
    info = await store.stat("01/large")
    assert info is not None and info.size == size

    read = await store.open("01/large")
    assert (read.size, read.start, read.end) == (size, 0, size)
    received = hashlib.sha256()
    chunks = 0
    total = 0
    async for chunk in read.chunks:
        assert 0 < len(chunk) <= 2 * CHUNK_BYTES  # streamed, never the whole blob at once
        received.update(chunk)
        chunks += 1
        total += len(chunk)
    assert total == size and chunks >= size // (2 * CHUNK_BYTES)
    assert received.hexdigest() == digest.hexdigest()
    assert await read_range(store, "01/large", middle_start, middle_start + 200) == middle
