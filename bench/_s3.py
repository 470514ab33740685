"""A local S3-compatible server for a benchmark: moto's server mode in its own process (so
neither its CPU nor its memory is counted in the load generator or the chatalot server), with
one empty bucket. The same credentials and bucket as tests/support/moto_s3.py."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench._server import free_port

BUCKET = "chatalot-bench"
ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key-not-real"  # noqa: S105 - moto accepts any key
REGION = "us-east-1"


def _create_bucket(endpoint: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.create_bucket(Bucket=BUCKET)
            return
        except (BotoCoreError, ClientError):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextmanager
def moto_server(workdir: Path) -> Iterator[dict[str, str]]:
    """The environment for ``chatalot serve`` (STORAGE_BACKEND=s3 and the S3_* settings) on a
    fresh moto S3 server; the server is stopped afterwards. Its log goes to
    ``workdir/moto.log``."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log = open(workdir / "moto.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _create_bucket(endpoint, proc)
        yield {
            "STORAGE_BACKEND": "s3",
            "S3_BUCKET": BUCKET,
            "S3_ENDPOINT": endpoint,
            "S3_REGION": REGION,
            "S3_ACCESS_KEY_ID": ACCESS_KEY,
            "S3_SECRET_ACCESS_KEY": SECRET_KEY,
        }
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
