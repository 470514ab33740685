"""The API on the S3 store end to end (in process, moto's S3 server behind ``ctx.storage``): an
upload lands in the bucket under its key, ranged downloads stream from it, an avatar is stored
and served from it, a delete removes the blobs, and the orphan sweep keeps what rows name."""

from __future__ import annotations

import struct
import zlib

import httpx

from chatalot.clock import FakeClock
from chatalot.context import Ctx
from chatalot.ids import uuid7
from chatalot.services.orphan_files import sweep_orphan_files
from chatalot.storage.s3 import S3BlobStore
from tests.support.auth import make_user
from tests.support.moto_s3 import MotoS3


def png(width: int = 4, height: int = 4) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress((b"\x00" + b"\x10\x20\x30" * width) * height, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


async def test_files_and_avatars_live_in_the_bucket(
    client: httpx.AsyncClient, ctx: Ctx, moto_s3: MotoS3
) -> None:
    prefix = f"api-{uuid7().hex}"
    ctx.storage = S3BlobStore.from_settings(moto_s3.settings(prefix=prefix))
    user = await make_user(ctx)
    headers = {"Authorization": f"Bearer {user.token}"}
    data = b"0123456789" * 1000 + b"\n"
    response = await client.post(
        "/api/files/upload",
        headers=headers,
        files={"file": ("notes.txt", data, "text/plain")},
        data={"name": "notes.txt"},
    )
    assert response.status_code == 200, response.text
    file_id = response.json()["id"]
    key = f"{prefix}/{file_id[:2]}/{file_id}"
    assert moto_s3.keys(prefix) == {key: len(data)}

    whole = await client.get(f"/api/files/{file_id}", headers=headers)
    assert whole.status_code == 200 and whole.content == data
    part = await client.get(f"/api/files/{file_id}", headers={**headers, "Range": "bytes=5-14"})
    assert part.status_code == 206 and part.content == data[5:15]

    avatar = await client.post(
        "/api/account/avatar", headers=headers, files={"avatar": ("a.png", png(), "image/png")}
    )
    assert avatar.status_code == 200, avatar.text
    url = avatar.json()["avatar_url"]  # the user, as GET /api/users/{id} shows it
    name = url.split("/api/avatars/")[1].split("?")[0]
    assert f"{prefix}/avatars/{name}" in moto_s3.keys(prefix)
    served = await client.get(f"/api/avatars/{name}")
    assert served.status_code == 200 and served.content.startswith(b"\x89PNG")

    deleted = await client.delete(f"/api/files/{file_id}", headers=headers)
    assert deleted.status_code == 200, deleted.text
    assert set(moto_s3.keys(prefix)) == {f"{prefix}/avatars/{name}"}

    # A day later: the sweep keeps the avatar (its row names it) and removes a stray blob.
    await ctx.storage.put_bytes(f"01/{uuid7()}", b"stray")
    assert isinstance(ctx.clock, FakeClock)
    ctx.clock.advance(86_400)
    report = await sweep_orphan_files(ctx)
    assert report is not None and report.removed == 1
    assert set(moto_s3.keys(prefix)) == {f"{prefix}/avatars/{name}"}
