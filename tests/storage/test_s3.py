"""What only the S3 store does: its keys live under S3_PREFIX in the bucket, failures of the
service become StorageUnavailable (quickly, with no secret in the message), a failed upload
still consumes the spooled file, and the startup check tells a wrong bucket."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from chatalot.config import S3Settings
from chatalot.storage.base import StorageUnavailable
from chatalot.storage.s3 import S3BlobStore
from tests.storage.conftest import ACCESS_KEY, SECRET_KEY, MotoS3
from tests.support.process import refused_port


async def test_keys_are_stored_under_the_prefix(moto_s3: MotoS3) -> None:
    store = S3BlobStore.from_settings(moto_s3.settings(prefix="deploy/chatalot"))
    await store.put_bytes("avatars/u.png", b"png")
    listed = moto_s3.client.list_objects_v2(Bucket="chatalot-test", Prefix="deploy/")
    assert [o["Key"] for o in listed["Contents"]] == ["deploy/chatalot/avatars/u.png"]
    assert await store.delete("avatars/u.png")
    assert moto_s3.client.list_objects_v2(Bucket="chatalot-test", Prefix="deploy/")["KeyCount"] == 0


async def test_without_prefix_keys_are_the_bucket_keys(moto_s3: MotoS3) -> None:
    moto_s3.client.create_bucket(Bucket="chatalot-noprefix")
    store = S3BlobStore.from_settings(moto_s3.settings(bucket="chatalot-noprefix"))
    await store.put_bytes("01/k", b"x")
    listed = moto_s3.client.list_objects_v2(Bucket="chatalot-noprefix")
    assert [o["Key"] for o in listed["Contents"]] == ["01/k"]
    moto_s3.client.put_object(
        Bucket="chatalot-noprefix", Key="not valid/key with spaces", Body=b"x"
    )
    assert [b.key async for b in store.iter_blobs()] == ["01/k"]  # foreign keys are skipped


async def test_check_names_a_missing_bucket(moto_s3: MotoS3) -> None:
    await S3BlobStore.from_settings(moto_s3.settings()).check()
    store = S3BlobStore.from_settings(moto_s3.settings(bucket="no-such-bucket"))
    with pytest.raises(StorageUnavailable, match="object storage list failed"):
        await store.check()


async def test_an_unreachable_service_is_storage_unavailable(tmp_path: Path) -> None:
    with refused_port() as port:
        store = S3BlobStore.from_settings(
            S3Settings(
                bucket="chatalot-test",
                access_key_id=ACCESS_KEY,
                secret_access_key=SECRET_KEY,
                endpoint=f"http://127.0.0.1:{port}",
                force_path_style=True,
            )
        )
        started = time.monotonic()
        with pytest.raises(StorageUnavailable) as failed:
            await store.stat("01/x")
        assert time.monotonic() - started < 25  # bounded retries, not obstore's 3 minutes
        assert SECRET_KEY not in str(failed.value) and ACCESS_KEY not in str(failed.value)
        assert "\n" not in str(failed.value)
        for call in (
            store.put_bytes("01/x", b"x"),
            store.read_bytes("01/x"),
            store.open("01/x"),
            store.delete("01/x"),
            store.check(),
        ):
            with pytest.raises(StorageUnavailable):
                await call
        with pytest.raises(StorageUnavailable):
            await anext(aiter(store.iter_blobs()))
        spooled = tmp_path / "upload"
        spooled.write_bytes(b"data")
        with pytest.raises(StorageUnavailable):
            await store.put_file("01/x", spooled)
        assert not spooled.exists()  # consumed, as on success


def test_virtual_hosted_style_puts_the_bucket_in_the_host() -> None:
    store = S3BlobStore.from_settings(
        S3Settings(
            bucket="media",
            access_key_id=ACCESS_KEY,
            secret_access_key=SECRET_KEY,
            endpoint="https://s3.example.com",
            force_path_style=False,
        )
    )
    config = store._store.config
    assert config["endpoint"] == "https://media.s3.example.com"
    assert config["virtual_hosted_style_request"] in (True, "true")
    assert SECRET_KEY not in repr(store) and SECRET_KEY not in store.description
