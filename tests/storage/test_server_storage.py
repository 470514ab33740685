"""A server process with STORAGE_BACKEND=s3: it checks the bucket at startup and says where
the files are; a bucket it cannot use stops startup with one line (exit status 1)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from tests.support.moto_s3 import SECRET_KEY, MotoS3
from tests.support.pg import PgServer
from tests.support.process import base_env, start_server

pytestmark = pytest.mark.slow


async def test_a_server_on_s3_starts_and_names_the_store(
    moto_s3: MotoS3, pg: PgServer, fresh_db: str, tmp_path: Path
) -> None:
    prefix = f"server-{uuid.uuid4().hex[:8]}"
    env = base_env(
        DATABASE_URL=pg.url(fresh_db).dsn,
        CHATALOT_ENV="dev",
        FILE_STORAGE_PATH=str(tmp_path / "unused-local-files"),
        **moto_s3.env(prefix=prefix),
    )
    server = start_server(tmp_path, env)
    try:
        await asyncio.to_thread(server.wait_healthy)
        assert (
            f"Files are stored in s3://chatalot-test/{prefix} at {moto_s3.endpoint}" in server.log
        )
    finally:
        assert server.stop() == 0
    assert SECRET_KEY not in server.log


async def test_a_bucket_it_cannot_use_stops_startup(moto_s3: MotoS3, tmp_path: Path) -> None:
    env = base_env(CHATALOT_ENV="dev", **moto_s3.env(bucket="missing-bucket"))
    server = start_server(tmp_path, env)
    code = await asyncio.to_thread(server.proc.wait, 60)
    assert code == 1
    assert "S3_BUCKET: cannot use s3://missing-bucket at http://127.0.0.1:" in server.log
    assert "object storage list failed" in server.log
    assert "Database connected" not in server.log  # checked before anything else starts
    assert SECRET_KEY not in server.log
