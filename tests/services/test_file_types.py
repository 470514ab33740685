"""Every row of the magic-byte table (spec ws-auth-ops 5.3), in its order."""

from __future__ import annotations

import pytest

from chatalot.errors import Invalid
from chatalot.services.file_types import HEAD_BYTES, detect_content_type

RIFF = b"RIFF\x24\x00\x00\x00"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"rest", "image/png"),
        (b"\xff\xd8\xff\xe0", "image/jpeg"),
        (b"GIF87a....", "image/gif"),
        (b"GIF89a....", "image/gif"),
        (RIFF + b"WEBPVP8 ", "image/webp"),
        (b"BM\x00\x00\x00\x00", "image/bmp"),
        (b"ID3\x04", "audio/mpeg"),
        (b"\xff\xfb\x90", "audio/mpeg"),
        (b"\xff\xf3\x90", "audio/mpeg"),
        (b"\xff\xf2\x90", "audio/mpeg"),
        (b"OggS\x00", "audio/ogg"),
        (b"fLaC\x00", "audio/flac"),
        (RIFF + b"WAVEfmt ", "audio/wav"),
        (b"\x00\x00\x00\x18ftypmp42", "video/mp4"),
        (b"\x00\x00\x00\x14ftypqt  ", "video/mp4"),
        (b"\x1a\x45\xdf\xa3\x01", "video/webm"),
        (b"%PDF-1.7", "application/pdf"),
        (b"PK\x03\x04\x14", "application/zip"),
        (b"\x1f\x8b\x08", "application/gzip"),
        (b"BZh91AY", "application/x-bzip2"),
        (b"\xfd7zXZ\x00\x00", "application/x-xz"),
        (b"7z\xbc\xaf\x27\x1c\x00", "application/x-7z-compressed"),
        (b"Rar!\x1a\x07\x00", "application/x-rar-compressed"),
        (b"\x00asm\x01\x00\x00\x00", "application/wasm"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"),
        (b"  \n\t<svg/>", "image/svg+xml"),
        (b'<?xml version="1.0"?>\n<!-- x --><svg/>', "image/svg+xml"),
        (b'<?xml version="1.0"?><html/>', "text/plain"),
        (b"<html><svg/></html>", "text/plain"),
        (b"hello", "text/plain"),
        ("grüße, 日本".encode(), "text/plain"),
        (b"BM", "text/plain"),  # BM needs 6 bytes; 2 bytes of text are text
        (b"@echo of", "text/plain"),  # the batch rule needs 10 bytes
        (b"@echo off", "text/plain"),  # 9 bytes: still text (as the original)
    ],
)
def test_allowed(data: bytes, expected: str) -> None:
    assert detect_content_type(data) == expected


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"MZ\x90\x00", "Windows executable (PE) not allowed"),
        (b"MZ", "Windows executable (PE) not allowed"),
        (b"\x7fELF\x02", "Linux executable (ELF) not allowed"),
        (b"\xfe\xed\xfa\xce\x00", "macOS/Java executable not allowed"),
        (b"\xfe\xed\xfa\xcf\x00", "macOS/Java executable not allowed"),
        (b"\xce\xfa\xed\xfe\x00", "macOS/Java executable not allowed"),
        (b"\xcf\xfa\xed\xfe\x00", "macOS/Java executable not allowed"),
        (b"\xca\xfe\xba\xbe\x00", "macOS/Java executable not allowed"),
        (b"#!/usr/bin/env python\n", "shell script not allowed"),
        (b"#!", "shell script not allowed"),
        (b"@echo off\r\ndir", "batch script not allowed"),
        (b"@ECHO ON\r\n\r\ndir", "batch script not allowed"),
        (b"@Echo Off\r\n", "batch script not allowed"),
        (b"hello\x00world", "unrecognized binary file type"),
        (b"\x80\x81\x82", "unrecognized binary file type"),
        (b"RIFF\x00\x00\x00\x00AVI ", "unrecognized binary file type"),
    ],
)
def test_refused(data: bytes, reason: str) -> None:
    with pytest.raises(Invalid) as caught:
        detect_content_type(data)
    assert caught.value.message == f"file type not allowed: {reason}"


def test_first_match_wins() -> None:
    """A refusal comes before every allowed type; the table's order decides between them."""
    with pytest.raises(Invalid):
        detect_content_type(b"MZ" + b"\x89PNG")
    assert detect_content_type(b"GIF89a<svg>") == "image/gif"


def test_only_the_first_8192_bytes_are_read() -> None:
    """Text is judged by its first 8192 bytes: a NUL after them does not matter, and a
    multi-byte character cut at byte 8192 makes it binary (as the original)."""
    assert detect_content_type(b"a" * HEAD_BYTES + b"\x00") == "text/plain"
    cut = b"a" * (HEAD_BYTES - 1) + "é".encode()
    with pytest.raises(Invalid) as caught:
        detect_content_type(cut)
    assert caught.value.message == "file type not allowed: unrecognized binary file type"
