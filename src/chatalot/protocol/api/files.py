"""Files over REST (spec rest-api 2.13). The upload is multipart (api/routes/files.py);
downloads and thumbnails are raw bytes."""

from __future__ import annotations

import msgspec


class UploadOut(msgspec.Struct):
    """``POST /api/files/upload``: ``size_bytes`` is the stored size (after metadata
    stripping or SVG cleaning)."""

    id: str
    size_bytes: int
    created_at: str


class FileMetadataOut(msgspec.Struct):
    """``GET /api/files/{id}/meta`` (the original's FileMetadataResponse). Every key is always
    present; ``uploader_id`` is null once the uploader's account has been deleted."""

    id: str
    uploader_id: str | None
    encrypted_name: str
    size_bytes: int
    content_type: str | None
    checksum: str
    created_at: str
