"""Byte strings on the wire are JSON arrays of integers 0-255 (never base64)."""

from __future__ import annotations

from typing import Annotated

import msgspec

Byte = Annotated[int, msgspec.Meta(ge=0, le=255)]
ByteList = list[Byte]
Int32 = Annotated[int, msgspec.Meta(ge=-(2**31), le=2**31 - 1)]


def to_bytes(values: list[int]) -> bytes:
    return bytes(values)


def to_list(data: bytes) -> list[int]:
    return list(data)
