"""Blob storage: one small interface (storage/base.py), a local-disk backend and an S3 one."""

from __future__ import annotations

from chatalot.storage.base import (
    BlobInfo,
    BlobNotFound,
    BlobRead,
    BlobStore,
    StorageUnavailable,
    check_key,
)
from chatalot.storage.local import LocalBlobStore

__all__ = [
    "BlobInfo",
    "BlobNotFound",
    "BlobRead",
    "BlobStore",
    "LocalBlobStore",
    "StorageUnavailable",
    "check_key",
]
