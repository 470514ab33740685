"""Type codecs registered on every pooled connection, so repositories never encode JSON."""

from __future__ import annotations

from typing import Any

import msgspec

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


def _encode_json(value: Any) -> str:
    return _encoder.encode(value).decode()


def _decode_json(value: str) -> Any:
    return _decoder.decode(value)


async def register_codecs(conn: Any) -> None:
    """asyncpg ``init`` hook: json/jsonb as Python objects."""
    for name in ("json", "jsonb"):
        await conn.set_type_codec(
            name, encoder=_encode_json, decoder=_decode_json, schema="pg_catalog"
        )
