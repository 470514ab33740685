"""The S3 store's read stream hands out pieces of at most CHUNK_BYTES, whatever sizes obstore
delivers (its stream size is a minimum: a quick network gave 680 KB at once on CI)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from chatalot.storage.base import CHUNK_BYTES
from chatalot.storage.s3 import _chunks


async def delivered(*sizes: int) -> AsyncIterator[bytes]:
    for index, size in enumerate(sizes):
        yield bytes([index % 256]) * size


async def test_large_deliveries_are_cut_and_small_ones_pass_as_they_are() -> None:
    sizes = (679_936, 10, CHUNK_BYTES, 2 * CHUNK_BYTES + 1)
    pieces = [piece async for piece in _chunks(delivered(*sizes), "01/key")]
    assert all(0 < len(piece) <= CHUNK_BYTES for piece in pieces)
    assert [len(p) for p in pieces] == [
        CHUNK_BYTES,
        CHUNK_BYTES,
        679_936 - 2 * CHUNK_BYTES,
        10,
        CHUNK_BYTES,
        CHUNK_BYTES,
        CHUNK_BYTES,
        1,
    ]
    expected = b"".join(bytes([i]) * size for i, size in enumerate(sizes))
    assert b"".join(pieces) == expected
