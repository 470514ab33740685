"""Blob store fixtures: every contract test runs on the local store (a temporary folder) and on
the S3 store against moto's S3 server, started once per session on a free loopback port."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from chatalot.storage.base import BlobStore
from chatalot.storage.local import LocalBlobStore
from chatalot.storage.s3 import S3BlobStore
from tests.support.moto_s3 import ACCESS_KEY, BUCKET, SECRET_KEY, MotoS3, moto_s3_server

__all__ = ["ACCESS_KEY", "BUCKET", "SECRET_KEY", "MotoS3"]


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    with moto_s3_server() as server:
        yield server


StoreFactory = Callable[[str], BlobStore]


@pytest.fixture(params=["local", "s3"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """``make_store(namespace)``: a store of the parametrised kind, empty at first; stores of
    different namespaces are neighbours (sibling folders; sibling prefixes in one bucket)."""
    if request.param == "local":

        def local(namespace: str) -> BlobStore:
            return LocalBlobStore(tmp_path / namespace)

        return local
    moto: MotoS3 = request.getfixturevalue("moto_s3")
    run = uuid.uuid4().hex[:12]  # each test its own part of the shared bucket

    def s3(namespace: str) -> BlobStore:
        return S3BlobStore.from_settings(moto.settings(prefix=f"t{run}/{namespace}"))

    return s3


@pytest.fixture
def store(make_store: StoreFactory) -> BlobStore:
    return make_store("blobs")
