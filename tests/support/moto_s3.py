"""moto's S3 server on a free loopback port, for the S3 blob store's tests."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from chatalot.config import S3Settings
from tests.support.process import free_port

BUCKET = "chatalot-test"
ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key-not-real"


@dataclass(frozen=True)
class MotoS3:
    endpoint: str
    client: Any  # a boto3 S3 client on the server (to look behind the store's back)

    def settings(self, prefix: str = "", bucket: str = BUCKET) -> S3Settings:
        return S3Settings(
            bucket=bucket,
            access_key_id=ACCESS_KEY,
            secret_access_key=SECRET_KEY,
            endpoint=self.endpoint,
            prefix=prefix,
            force_path_style=True,
        )

    def env(self, prefix: str = "", bucket: str = BUCKET) -> dict[str, str]:
        """The same as environment variables (STORAGE_BACKEND=s3)."""
        return {
            "STORAGE_BACKEND": "s3",
            "S3_BUCKET": bucket,
            "S3_ENDPOINT": self.endpoint,
            "S3_ACCESS_KEY_ID": ACCESS_KEY,
            "S3_SECRET_ACCESS_KEY": SECRET_KEY,
            "S3_PREFIX": prefix,
        }

    def keys(self, prefix: str = "", bucket: str = BUCKET) -> dict[str, int]:
        """Every object under ``prefix`` with its size, as the bucket has it."""
        found: dict[str, int] = {}
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            for obj in page.get("Contents", []):
                found[obj["Key"]] = obj["Size"]
        return found


@contextmanager
def moto_s3_server() -> Iterator[MotoS3]:
    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    client.create_bucket(Bucket=BUCKET)
    try:
        yield MotoS3(endpoint, client)
    finally:
        server.stop()
