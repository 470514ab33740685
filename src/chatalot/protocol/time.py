"""Timestamps on the wire: RFC 3339 in UTC with a ``+00:00`` offset (never ``Z``) and 0, 3 or
6 fraction digits, the shortest that is exact (the original's chrono ``to_rfc3339``)."""

from __future__ import annotations

from datetime import UTC, datetime


def rfc3339(value: datetime) -> str:
    value = value.astimezone(UTC)
    base = value.strftime("%Y-%m-%dT%H:%M:%S")
    micro = value.microsecond
    if micro == 0:
        fraction = ""
    elif micro % 1000 == 0:
        fraction = f".{micro // 1000:03d}"
    else:
        fraction = f".{micro:06d}"
    return f"{base}{fraction}+00:00"


def rfc3339_or_none(value: datetime | None) -> str | None:
    return rfc3339(value) if value is not None else None
