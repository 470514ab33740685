"""Input rules as the OpenAPI document states them (``Annotated[str, USERNAME]``).

These are documentation only: msgspec does not enforce ``extra_json_schema``, so decoding is
unchanged and the services keep checking every rule, with their own messages. Litestar copies
the ``extra`` mapping into the field's schema.

The server counts lengths in UTF-8 bytes; JSON Schema counts characters. Where the two differ,
a field's ``maxLength`` is the number of characters that always fit (text fields allow only
characters of at most 3 bytes, so ``limit // 3``), and its description states the byte limit.
Free-text patterns allow a conservative set of characters (printable ASCII, Latin, Greek,
Cyrillic, CJK): every string that matches is accepted; the server also accepts more (other
scripts, emoji) and refuses control and invisible formatting characters, which is why the
document does not promise "any string".
"""

from __future__ import annotations

from typing import Any

import msgspec

# Characters no rule refuses (no control, formatting, separator or combining characters).
_TEXT = (
    "\\x20-\\x7e\\u00a0-\\u00ac\\u00ae-\\u02ff\\u0370-\\u0377\\u037a-\\u037f\\u0384-\\u038a"
    "\\u038c\\u038e-\\u03a1\\u03a3-\\u0482\\u048a-\\u052f\\u4e00-\\u9fff"
)
_VISIBLE = "!-~\\u00a1-\\u00ac\\u00ae-\\u02ff\\u4e00-\\u9fff"  # not stripped as white space
_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def documented(description: str | None = None, **schema: Any) -> msgspec.Meta:
    """A msgspec Meta whose JSON-schema keywords (e.g. ``pattern``, ``maxLength``) appear in the
    OpenAPI document only."""
    extra: dict[str, Any] = {"extra": schema}
    if description:
        extra["description"] = description
    return msgspec.Meta(extra_json_schema=extra)


def text_schema(limit: int, *, required: bool = False, multiline: bool = False) -> dict[str, Any]:
    """The JSON-schema keywords of free text of at most ``limit`` UTF-8 bytes (trimmed by the
    server; ``required``: not blank; ``multiline``: newlines and tabs allowed)."""
    chars = _TEXT + ("\\r\\n\\t" if multiline else "")
    most = limit // 3
    # the length is in the pattern (no maxLength: generators aiming at a length boundary would
    # have to hit the pattern's longest form exactly)
    pattern = f"^[{_VISIBLE}][{chars}]{{0,{most - 1}}}$" if required else f"^[{chars}]{{0,{most}}}$"
    return {
        "type": "string",
        "pattern": pattern,
        "description": f"At most {limit} bytes of UTF-8 text, without control or invisible "
        "formatting characters.",
    }


def text(limit: int, *, required: bool = False, multiline: bool = False) -> msgspec.Meta:
    """``text_schema`` as a field annotation."""
    schema = text_schema(limit, required=required, multiline=multiline)
    description = schema.pop("description")
    del schema["type"]
    return documented(description, **schema)


USERNAME = documented(
    "3-32 ASCII letters, digits, '_', '-' and '.', starting with a letter or digit, not ending "
    "with a dot, without two dots in a row. Unique regardless of case.",
    pattern="^[A-Za-z0-9][A-Za-z0-9_-]{2,15}(\\.[A-Za-z0-9_-]{1,7}){0,2}$",
    # no minLength/maxLength: the pattern bounds the length (3-32), and generators that aim
    # at a length boundary would have to hit the pattern's longest form exactly
)
EMAIL = documented(
    "An e-mail address (at most 254 bytes). Unique regardless of case.",
    pattern="^[^\\s@\\x00-\\x1f\\x7f-\\x9f]{1,20}@[^\\s@.\\x00-\\x1f\\x7f-\\x9f]{1,20}"
    "(\\.[^\\s@.\\x00-\\x1f\\x7f-\\x9f]{1,10}){1,2}$",
)
PASSWORD = documented(
    "8-128 bytes, with an upper-case letter, a lower-case letter, a digit and a character "
    "that is not an ASCII letter or digit, in any order. (The pattern shows one form that is "
    "always accepted: JSON Schema cannot say 'in any order' without look-ahead, which "
    "generators handle badly.)",
    pattern="^[A-Z][a-z][0-9][^A-Za-z0-9\\x00][^\\x00]{4,28}$",
)
DISPLAY_NAME = text(64, required=True)
RECOVERY_CODE = documented(
    "The recovery code shown at registration (XXXX-XXXX-XXXX-XXXX).",
    pattern="^[A-HJ-NP-Z2-9]{4}(-[A-HJ-NP-Z2-9]{4}){3}$",
)
UUID = documented("A UUID.", format="uuid")
# the schema shows the always-accepted form (an uploaded avatar or ""): external URLs depend on
# an instance setting, which a schema cannot express
AVATAR_URL_PATTERN = (
    f"^(/api/avatars/{_UUID}(_[a-z]{{1,16}})?\\.(png|jpg|jpeg|webp|gif)(\\?v=[0-9]{{1,20}})?)?$"
)
IMAGE_URL = documented(
    'The URL of an image uploaded to this server (`/api/avatars/...`), `""` to clear it, or '
    "(when the instance allows external images) an http(s) URL; at most 2048 bytes.",
    pattern=AVATAR_URL_PATTERN,
)
_BYTE = {"type": "integer", "minimum": 0, "maximum": 255}
PUBLIC_KEY = documented("32 bytes.", minItems=32, maxItems=32, items=_BYTE)
SIGNATURE = documented("64 bytes (Ed25519).", minItems=64, maxItems=64, items=_BYTE)
PREFERENCES = documented(
    "A JSON object (at most 16 KB, nested at most 32 deep), shallow-merged into the stored one.",
    type="object",
)
