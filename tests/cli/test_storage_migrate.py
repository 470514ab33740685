"""`chatalot storage migrate [--dry-run]`: the local store's blobs are copied to the S3 store
under the same keys (so switching STORAGE_BACKEND is configuration only), a dry run copies
nothing, a second run skips what is there, a blob whose size differs is copied again, the exit
status tells failures; plus the S3 settings as `config check` shows and refuses them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatalot.storage.base import StorageUnavailable
from chatalot.storage.local import LocalBlobStore
from chatalot.storage.migrate import migrate_local_to_s3
from chatalot.storage.s3 import S3BlobStore
from tests.support.moto_s3 import ACCESS_KEY, SECRET_KEY, MotoS3, moto_s3_server
from tests.support.process import base_env, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def moto_s3() -> Iterator[MotoS3]:
    with moto_s3_server() as server:
        yield server


@pytest.fixture
def prefix() -> str:
    return f"migrate-{uuid.uuid4().hex[:10]}"


def local_files(root: Path) -> dict[str, bytes]:
    blobs = {
        "01/0190c2f4-0000-7000-8000-000000000001": os.urandom(9 * 1024 * 1024),  # multipart
        "01/0190c2f4-0000-7000-8000-000000000001_thumb": b"thumb",
        "avatars/0190c2f4-0000-7000-8000-0000000000aa.png": b"png",
        "community_assets/0190c2f4-0000-7000-8000-0000000000bb_icon.webp": b"webp",
        "emojis/0190c2f4-0000-7000-8000-0000000000cc.gif": b"gif",
        "group_assets/0190c2f4-0000-7000-8000-0000000000dd_banner.jpg": b"",
    }
    for key, data in blobs.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(data)
    # Never copied: unfinished writes of the local store and stray names that are no keys.
    (root / ".incoming").mkdir()
    (root / ".incoming" / "put-123").write_bytes(b"half")
    (root / "01" / ".hidden").write_bytes(b"x")
    return blobs


def migrate_env(moto: MotoS3, root: Path, prefix: str) -> dict[str, str]:
    return base_env(FILE_STORAGE_PATH=str(root), **moto.env(prefix=prefix))


def test_migrate_copies_every_blob_once(moto_s3: MotoS3, tmp_path: Path, prefix: str) -> None:
    root = tmp_path / "files"
    blobs = local_files(root)
    env = migrate_env(moto_s3, root, prefix)

    dry = run_cli(tmp_path, env, "storage", "migrate", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would copy 6 blob(s)" in dry.stdout and "skipped 0" in dry.stdout
    assert moto_s3.keys(prefix) == {}

    first = run_cli(tmp_path, env, "storage", "migrate")
    assert first.returncode == 0, first.stderr
    assert "copied 6 blob(s) (9.0 MiB), skipped 0 already present, failed 0" in first.stdout
    assert moto_s3.keys(prefix) == {f"{prefix}/{k}": len(v) for k, v in blobs.items()}
    assert SECRET_KEY not in first.stdout + first.stderr
    for key, data in blobs.items():  # the local store is left as it was
        assert (root / key).read_bytes() == data
    obj = moto_s3.client.get_object(Bucket="chatalot-test", Key=f"{prefix}/{next(iter(blobs))}")
    assert obj["Body"].read() == next(iter(blobs.values()))

    again = run_cli(tmp_path, env, "storage", "migrate")
    assert again.returncode == 0, again.stderr
    assert "copied 0 blob(s) (0.0 MiB), skipped 6 already present, failed 0" in again.stdout

    # New uploads since, and a blob whose size no longer matches: copied; the rest skipped.
    (root / "avatars" / "0190c2f4-0000-7000-8000-0000000000aa.png").write_bytes(b"a new png")
    (root / "02").mkdir()
    (root / "02" / "0290c2f4-0000-7000-8000-000000000002").write_bytes(b"new file")
    third = run_cli(tmp_path, env, "storage", "migrate")
    assert third.returncode == 0, third.stderr
    assert "copied 2 blob(s)" in third.stdout and "skipped 5 already present" in third.stdout
    assert moto_s3.keys(prefix)[f"{prefix}/avatars/0190c2f4-0000-7000-8000-0000000000aa.png"] == 9


def test_migrate_fails_with_status_1_when_the_bucket_is_missing(
    moto_s3: MotoS3, tmp_path: Path
) -> None:
    root = tmp_path / "files"
    local_files(root)
    env = base_env(FILE_STORAGE_PATH=str(root), **moto_s3.env(bucket="no-such-bucket"))
    result = run_cli(tmp_path, env, "storage", "migrate")
    assert result.returncode == 1
    assert "error: object storage list failed" in result.stderr
    assert SECRET_KEY not in result.stderr and ACCESS_KEY not in result.stderr


def test_migrate_needs_the_s3_settings(tmp_path: Path) -> None:
    result = run_cli(tmp_path, base_env(), "storage", "migrate")
    assert result.returncode == 2
    assert result.stderr.startswith("error: S3_BUCKET: storage migrate copies to the S3 store")


def test_migrate_needs_the_local_folder(moto_s3: MotoS3, tmp_path: Path, prefix: str) -> None:
    result = run_cli(
        tmp_path, migrate_env(moto_s3, tmp_path / "absent", prefix), "storage", "migrate"
    )
    assert result.returncode == 1
    assert "FILE_STORAGE_PATH" in result.stderr and "is not a directory" in result.stderr


async def test_a_failing_blob_is_counted_and_the_others_are_copied(
    moto_s3: MotoS3, tmp_path: Path, prefix: str
) -> None:
    root = tmp_path / "files"
    blobs = local_files(root)
    broken = "emojis/0190c2f4-0000-7000-8000-0000000000cc.gif"

    class Flaky(S3BlobStore):
        async def upload_file(self, key: str, path: Path) -> None:
            if key == broken:
                raise StorageUnavailable("object storage put failed: simulated")
            await super().upload_file(key, path)

    real = S3BlobStore.from_settings(moto_s3.settings(prefix=prefix))
    target = Flaky(real._store, description=real.description)
    report = await migrate_local_to_s3(LocalBlobStore(root), target, concurrency=2)
    assert report.failed == [broken]
    assert report.copied == len(blobs) - 1
    assert set(moto_s3.keys(prefix)) == {f"{prefix}/{k}" for k in blobs if k != broken}

    retry = await migrate_local_to_s3(LocalBlobStore(root), real)
    assert (retry.copied, retry.skipped, retry.failed) == (1, len(blobs) - 1, [])


def test_config_check_masks_the_s3_keys(moto_s3: MotoS3, tmp_path: Path) -> None:
    env = base_env(TOTP_ENCRYPTION_KEY="f" * 64, **moto_s3.env(prefix="chatalot/"))
    result = run_cli(tmp_path, env, "config", "check")
    assert result.returncode == 0, result.stderr
    assert SECRET_KEY not in result.stdout and ACCESS_KEY not in result.stdout
    lines = dict(line.split(None, 1) for line in result.stdout.splitlines() if "  " in line)
    assert lines["STORAGE_BACKEND"] == "s3"
    assert lines["S3_BUCKET"] == "chatalot-test"
    assert lines["S3_ACCESS_KEY_ID"] == "***"
    assert lines["S3_SECRET_ACCESS_KEY"] == "***"
    assert lines["S3_PREFIX"] == "chatalot"
    assert lines["S3_FORCE_PATH_STYLE"] == "true"
    assert lines["S3_REGION"] == "us-east-1"
