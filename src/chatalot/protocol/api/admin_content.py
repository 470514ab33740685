"""Wire models of the admin content tools: purges, the file list, storage statistics and the
hash blocklist (`/api/admin/purge/*`, `/api/admin/files*`, `/api/admin/storage-stats`,
`/api/admin/blocked-hashes*`)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from chatalot.protocol.api.constraints import documented


class PurgeResultOut(msgspec.Struct):
    messages_deleted: int
    files_deleted: int  # blobs actually removed from storage
    hashes_blocked: int


class AdminFileOut(msgspec.Struct):
    id: str
    uploader_id: str | None
    encrypted_name: str
    size_bytes: int
    content_type: str | None
    checksum: str
    channel_id: str | None
    quarantined_at: str | None
    quarantined_by: str | None
    created_at: str
    has_thumbnail: bool


class AdminFilesOut(msgspec.Struct):
    files: list[AdminFileOut]
    total: int
    page: int
    per_page: int


class UploaderUsageOut(msgspec.Struct):
    user_id: str | None  # null: files of deleted accounts
    file_count: int
    total_bytes: int


class StorageStatsOut(msgspec.Struct):
    total_files: int
    total_bytes: int
    per_user: list[UploaderUsageOut]
    backend: str  # ours: "local" or "s3"


class BlockHashIn(msgspec.Struct):
    hash: Annotated[str, documented(pattern="^[0-9A-Fa-f]{64}$")]
    reason: Annotated[str, documented(maxLength=500)] | None = None


class BlockedHashOut(msgspec.Struct):
    id: str
    hash: str
    reason: str | None
    blocked_by: str | None
    created_at: str
