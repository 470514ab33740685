"""What an uploaded file is, from its first bytes (spec ws-auth-ops 5.3): the stored
``content_type`` of every upload is decided here, never by the client's name or part header.

The table below is the contract, implemented as written and in its order (first match wins):
executables and scripts are refused, a fixed list of media, document and archive signatures is
allowed with its type, and anything else is ``text/plain`` or ``image/svg+xml`` when its first
8192 bytes are valid UTF-8 without NUL, else refused. We deliberately do not delegate to a
detection library (``puremagic``, ``filetype``): they recognise hundreds of types the contract
does not allow, name some of the allowed ones differently (``video/quicktime`` for a ``ftyp``
brand the table calls ``video/mp4``, ``audio/x-wav``), and read further into the file than the
first bytes the table speaks of. Matching the dozen signatures here is shorter than mapping a
library's answer back onto the table, and a test checks every row
(tests/services/test_file_types.py).

Only the start of the file is needed: ``HEAD_BYTES`` bytes (the length conditions of the table,
"at least 6 bytes" and "at least 10 bytes", are conditions on the start as well).
"""

from __future__ import annotations

from chatalot.errors import Invalid

HEAD_BYTES = 8192

_REFUSED_PREFIXES: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "Windows executable (PE) not allowed"),
    (b"\x7fELF", "Linux executable (ELF) not allowed"),
)
_MACH_O_JAVA = frozenset({0xFEEDFACE, 0xFEEDFACF, 0xCEFAEDFE, 0xCFFAEDFE, 0xCAFEBABE})

_ALLOWED_PREFIXES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_AFTER_RIFF: tuple[tuple[bytes, str], ...] = (
    (b"ID3", "audio/mpeg"),
    (b"\xff\xfb", "audio/mpeg"),
    (b"\xff\xf3", "audio/mpeg"),
    (b"\xff\xf2", "audio/mpeg"),
    (b"OggS", "audio/ogg"),
    (b"fLaC", "audio/flac"),
)
_AFTER_FTYP: tuple[tuple[bytes, str], ...] = (
    (b"\x1a\x45\xdf\xa3", "video/webm"),
    (b"%PDF", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
    (b"BZh", "application/x-bzip2"),
    (b"\xfd7zXZ\x00", "application/x-xz"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"Rar!\x1a\x07", "application/x-rar-compressed"),
    (b"\x00asm", "application/wasm"),
)


def refused(reason: str) -> Invalid:
    return Invalid(f"file type not allowed: {reason}")


def detect_content_type(head: bytes) -> str:
    """The type of a file whose first bytes are ``head`` (at least ``HEAD_BYTES`` of them, or
    the whole file when it is shorter). Raises Invalid ``file type not allowed: {reason}``."""
    data = head[:HEAD_BYTES]
    reason = _refusal(data)
    if reason is not None:
        raise refused(reason)
    return _allowed_type(data) or _text_type(data)


def _refusal(data: bytes) -> str | None:
    if not data:
        return "empty file"
    for prefix, reason in _REFUSED_PREFIXES:
        if data.startswith(prefix):
            return reason
    if len(data) >= 4 and int.from_bytes(data[:4], "big") in _MACH_O_JAVA:
        return "macOS/Java executable not allowed"
    if data.startswith(b"#!"):
        return "shell script not allowed"
    if len(data) >= 10 and data[:10].lower().startswith((b"@echo off", b"@echo on")):
        return "batch script not allowed"
    return None


def _allowed_type(data: bytes) -> str | None:
    for prefix, content_type in _ALLOWED_PREFIXES:
        if data.startswith(prefix):
            return content_type
    riff = len(data) >= 12 and data.startswith(b"RIFF")
    if riff and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"BM") and len(data) >= 6:
        return "image/bmp"
    for prefix, content_type in _AFTER_RIFF:
        if data.startswith(prefix):
            return content_type
    if riff and data[8:12] == b"WAVE":
        return "audio/wav"
    if data[4:8] == b"ftyp":
        return "video/mp4"
    for prefix, content_type in _AFTER_FTYP:
        if data.startswith(prefix):
            return content_type
    return None


def _text_type(data: bytes) -> str:
    if b"\x00" in data:
        raise refused("unrecognized binary file type")
    try:
        text = data.decode("utf-8")  # strict: a character cut at byte 8192 makes it binary
    except UnicodeDecodeError:
        raise refused("unrecognized binary file type") from None
    trimmed = text.lstrip()
    if trimmed.startswith("<svg") or (trimmed.startswith("<?xml") and "<svg" in trimmed):
        return "image/svg+xml"
    return "text/plain"
