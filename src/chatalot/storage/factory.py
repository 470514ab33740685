"""The blob store the settings choose: STORAGE_BACKEND=local (``FILE_STORAGE_PATH``) or s3."""

from __future__ import annotations

from chatalot.config import Settings
from chatalot.storage.base import BlobStore
from chatalot.storage.local import LocalBlobStore


def open_blob_store(settings: Settings) -> BlobStore:
    if settings.storage_backend == "s3":
        if settings.s3 is None:  # load_settings never allows it
            raise ValueError("STORAGE_BACKEND=s3 without S3 settings")
        from chatalot.storage.s3 import S3BlobStore  # obstore is loaded only when used

        return S3BlobStore.from_settings(settings.s3)
    return LocalBlobStore(settings.file_storage_path)


def describe_blob_store(store: BlobStore) -> str:
    """For log lines: where the blobs are (never a secret)."""
    description = getattr(store, "description", None)
    if isinstance(description, str):
        return description
    root = getattr(store, "root", None)
    return f"{store.kind} {root}" if root is not None else store.kind
