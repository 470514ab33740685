"""Decoding JSON request bodies: the one place every JSON body passes through.

Litestar decodes a body to plain Python values first and converts them to the route's type
afterwards; ``ChatalotRequest.json`` replaces that first step so that, for every route at once:

- malformed JSON is a 400 ``validation_error`` naming the problem;
- nesting deeper than ``MAX_DEPTH`` is a 400 (the decoder would otherwise exhaust the recursion
  limit on ``[[[[...]]]]`` and the request would end in a 500);
- a NUL character (``\\u0000``) in any string or key is a 400 naming the field: PostgreSQL text
  cannot hold NUL, and letting one through would fail deep in a query instead.

Both checks have a fast path on the raw bytes, so an ordinary body costs two substring scans.
The size limit is Litestar's ``request_max_body_size`` (1 MiB by default, see app.py), checked
against Content-Length before anything is read and again while reading.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.types import Empty

from chatalot.errors import Invalid

MAX_DEPTH = 64
_NUL_ESCAPE = b"\\u0000"


def decode_json_body(body: bytes) -> Any:
    """The decoded body (``None`` when empty), or Invalid."""
    if not body:
        return None
    try:
        value = msgspec.json.decode(body)
    except RecursionError:
        raise Invalid(f"JSON is nested too deeply (at most {MAX_DEPTH} levels)") from None
    except msgspec.DecodeError as err:
        raise Invalid(f"malformed JSON: {err}") from None
    if body.count(b"[") + body.count(b"{") > MAX_DEPTH:
        _check_depth(value)
    if _NUL_ESCAPE in body:
        where = _find_nul(value)
        if where is not None:
            raise Invalid(f"{where} must not contain the NUL character (\\u0000)")
    return value


def _check_depth(value: Any) -> None:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise Invalid(f"JSON is nested too deeply (at most {MAX_DEPTH} levels)")
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def _find_nul(value: Any) -> str | None:
    """The dotted path of the first string or key holding a NUL, e.g. ``username`` or
    ``settings.theme`` (``[2]`` for list items); None when there is none."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return path or "the request body"
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{path}.{key}" if path else str(key)
                if "\x00" in key:
                    return f"a key in {path}" if path else "a key of the request body"
                stack.append((child, child_path))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{i}]") for i, child in enumerate(item))
    return None


class ChatalotRequest(Request[Any, Any, Any]):
    """Litestar's request with our JSON decoding (see the module docstring)."""

    async def json(self) -> Any:
        if self._json is Empty:
            cached = self._connection_state.json
            if cached is not Empty:
                self._json = cached
            else:
                self._json = self._connection_state.json = decode_json_body(await self.body())
        return self._json
