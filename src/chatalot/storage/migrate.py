"""`chatalot storage migrate`: copy every blob of the local store (``FILE_STORAGE_PATH``) to
the configured S3 store, under the same keys, so that switching ``STORAGE_BACKEND`` to ``s3``
is configuration only (the database holds keys, never the backend).

A blob the target already has with the same size is skipped, so the command can be run again
and again: before the switch while the server still writes to the local store, then once more
after it to pick up what came in meanwhile. Nothing is deleted from either side. Blobs are
copied a few at a time (``CONCURRENCY``), each streamed from its file.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from chatalot.storage.base import BlobInfo, StorageUnavailable
from chatalot.storage.local import LocalBlobStore
from chatalot.storage.s3 import S3BlobStore

log = logging.getLogger("chatalot_server")

CONCURRENCY = 8


@dataclass(slots=True)
class MigrationReport:
    copied: int = 0
    copied_bytes: int = 0
    skipped: int = 0  # already in the target with the same size
    vanished: int = 0  # deleted from the local store while the copy ran: nothing to copy
    failed: list[str] = field(default_factory=list)  # keys
    dry_run: bool = False

    def summary(self) -> str:
        verb = "would copy" if self.dry_run else "copied"
        return (
            f"{verb} {self.copied} blob(s) ({self.copied_bytes / 1_048_576:.1f} MiB), "
            f"skipped {self.skipped} already present, failed {len(self.failed)}"
        )


async def migrate_local_to_s3(
    source: LocalBlobStore,
    target: S3BlobStore,
    *,
    dry_run: bool = False,
    progress: Callable[[MigrationReport], None] | None = None,
    concurrency: int = CONCURRENCY,
) -> MigrationReport:
    """Copies what ``target`` lacks; returns the counts. Raises StorageUnavailable when the
    target cannot be reached at all (its first check fails); a failure of a single blob is
    counted in ``failed`` and the others are still copied."""
    await target.check()
    report = MigrationReport(dry_run=dry_run)
    slots = asyncio.Semaphore(concurrency)
    pending: set[asyncio.Task[None]] = set()

    async def one(blob: BlobInfo) -> None:
        try:
            there = await target.stat(blob.key)
            if there is not None and there.size == blob.size:
                report.skipped += 1
                return
            if not dry_run:
                await target.upload_file(blob.key, source.path_of(blob.key))
            report.copied += 1
            report.copied_bytes += blob.size
        except (StorageUnavailable, OSError) as err:
            if not source.path_of(blob.key).exists():
                report.vanished += 1
                return
            log.warning("storage migrate: %s failed: %s", blob.key, err)
            report.failed.append(blob.key)
        finally:
            slots.release()
            if progress is not None:
                progress(report)

    async for blob in source.iter_blobs():
        await slots.acquire()  # at most `concurrency` blobs in flight (and listed ahead)
        task = asyncio.create_task(one(blob))
        pending.add(task)
        task.add_done_callback(pending.discard)
    if pending:
        await asyncio.gather(*pending)
    return report
