"""POST /api/files/upload, GET /api/files/{id} (ranges, HEAD), /meta, /thumb and DELETE: every
check and its message, in the original's order; what is stored (type from the bytes, metadata
stripped, SVG cleaned, thumbnails); who may read and delete. Limits here: MAX_FILE_SIZE_MB=1,
UPLOAD_QUOTA_MB=3 (see the ``settings`` fixture)."""

from __future__ import annotations

import hashlib
import io
import struct
import uuid
import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, PngImagePlugin

from chatalot.config import Settings
from chatalot.context import Ctx
from chatalot.ids import ChannelId, UserId
from chatalot.ratelimit import LocalRateLimiter
from chatalot.services.file_images import DECODE_FAILED, TOO_LARGE
from tests.conftest import settings_in
from tests.support.auth import TestUser, make_user
from tests.support.responses import error
from tests.support.spaces import add_channel_member, make_channel

MIB = 1024 * 1024
SECRET = "SecretCamera-GPS-Owner"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_in(tmp_path, MAX_FILE_SIZE_MB="1", UPLOAD_QUOTA_MB="3")


def image_bytes(fmt: str, size: tuple[int, int] = (64, 48), **save: Any) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def exif() -> bytes:
    data = Image.Exif()
    data[0x010F] = SECRET
    return data.tobytes()


def huge_png(width: int = 20000, height: int = 20000) -> bytes:
    """A valid PNG header announcing width x height, with a few KB of pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (width * 3 + 1) * 4, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


async def upload(
    client: httpx.AsyncClient,
    user: TestUser,
    data: bytes,
    *,
    filename: str = "upload.bin",
    content_type: str = "application/octet-stream",
    **fields: str,
) -> httpx.Response:
    return await client.post(
        "/api/files/upload",
        headers=user.headers,
        files={"file": (filename, data, content_type)},
        data=fields or None,
    )


def blobs(ctx: Ctx) -> list[str]:
    """Every stored blob's key (temporary files excluded)."""
    root = ctx.settings.file_storage_path
    if not root.exists():
        return []
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and not str(p.relative_to(root)).startswith(".")
    )


def temporary_files(ctx: Ctx) -> list[Path]:
    incoming = ctx.settings.file_storage_path / ".incoming"
    return sorted(incoming.iterdir()) if incoming.exists() else []


async def used(ctx: Ctx, user_id: UserId) -> int:
    async with ctx.db.connection() as conn:
        value: int = await conn.fetchval(
            "SELECT upload_bytes_used FROM users WHERE id = $1", user_id
        )
    return value


async def set_used(ctx: Ctx, user_id: UserId, value: int) -> None:
    async with ctx.db.transaction("test_set_used") as tx:
        await tx.conn.execute(
            "UPDATE users SET upload_bytes_used = $2 WHERE id = $1", user_id, value
        )


async def file_row(ctx: Ctx, file_id: str) -> dict[str, Any] | None:
    async with ctx.db.connection() as conn:
        record = await conn.fetchrow("SELECT * FROM files WHERE id = $1", uuid.UUID(file_id))
    return dict(record) if record is not None else None


async def stored_bytes(ctx: Ctx, file_id: str) -> bytes:
    return (ctx.settings.file_storage_path / file_id[:2] / file_id).read_bytes()


async def assert_nothing_stored(ctx: Ctx, user: TestUser, quota_before: int = 0) -> None:
    assert blobs(ctx) == []
    assert temporary_files(ctx) == []
    assert await used(ctx, user.id) == quota_before
    async with ctx.db.connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM files") == 0


# -- uploading -----------------------------------------------------------------------------


async def test_upload_a_text_file(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """The response, the row (checksum of the bytes as uploaded, detected type, the storage
    key), the blob and the quota counter."""
    user = await make_user(ctx)
    data = b"hello, files\n"
    response = await upload(client, user, data, name="notes.txt")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"id", "size_bytes", "created_at"}
    assert body["size_bytes"] == len(data)
    assert body["created_at"].endswith("+00:00")
    file_id = body["id"]
    row = await file_row(ctx, file_id)
    assert row is not None
    assert row["encrypted_name"] == "notes.txt"
    assert row["content_type"] == "text/plain"
    assert row["checksum"] == hashlib.sha256(data).hexdigest()
    assert row["storage_path"] == f"{file_id[:2]}/{file_id}"
    assert row["uploader_id"] == user.id
    assert row["channel_id"] is None
    assert row["thumbnail_path"] is None
    assert row["exif_stripped"] is False
    assert blobs(ctx) == [f"{file_id[:2]}/{file_id}"]
    assert await stored_bytes(ctx, file_id) == data
    assert temporary_files(ctx) == []
    assert await used(ctx, user.id) == len(data)


async def test_default_name_is_unnamed(client: httpx.AsyncClient, ctx: Ctx) -> None:
    user = await make_user(ctx)
    response = await upload(client, user, b"x")
    row = await file_row(ctx, response.json()["id"])
    assert row is not None
    assert row["encrypted_name"] == "unnamed"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 64, "Linux executable (ELF) not allowed"),
        (b"MZ\x90\x00\x03" + b"\x00" * 64, "Windows executable (PE) not allowed"),
        (b"\xcf\xfa\xed\xfe" + b"\x00" * 64, "macOS/Java executable not allowed"),
        (b"#!/bin/sh\nrm -rf /\n", "shell script not allowed"),
        (b"@ECHO OFF\r\ndel *\r\n", "batch script not allowed"),
        (b"\x00\x01\x02\x03binary", "unrecognized binary file type"),
    ],
)
async def test_executables_under_an_image_name_are_refused(
    client: httpx.AsyncClient, ctx: Ctx, data: bytes, reason: str
) -> None:
    """The name (cat.png) and the declared type (image/png) lie; the bytes decide."""
    user = await make_user(ctx)
    response = await upload(client, user, data, filename="cat.png", content_type="image/png")
    assert error(response) == (400, f"file type not allowed: {reason}")
    await assert_nothing_stored(ctx, user)


async def test_the_declared_type_never_becomes_the_stored_type(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """A PNG declared as text/html named page.html is stored and served as image/png."""
    user = await make_user(ctx)
    response = await upload(
        client,
        user,
        image_bytes("PNG"),
        filename="page.html",
        content_type="text/html",
        name="page.html",
    )
    assert response.status_code == 200, response.text
    served = await client.get(f"/api/files/{response.json()['id']}", headers=user.headers)
    assert served.headers["content-type"] == "image/png"


async def test_gif_html_polyglot_is_a_gif_served_as_attachment(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """A GIF header followed by HTML/JS is image/gif (not text/html), downloaded as an
    attachment; it decodes as no image, so it gets no thumbnail, and the upload succeeds."""
    user = await make_user(ctx)
    polyglot = b"GIF89a/*\x00\x00*/=1;<html><script>alert(document.cookie)</script></html>"
    response = await upload(client, user, polyglot, name="x.html", content_type="text/html")
    assert response.status_code == 200, response.text
    file_id = response.json()["id"]
    served = await client.get(f"/api/files/{file_id}", headers=user.headers)
    assert served.headers["content-type"] == "image/gif"
    assert served.headers["content-disposition"] == 'attachment; filename="x.html"'
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.content == polyglot  # GIFs are stored as they are
    thumb = await client.get(f"/api/files/{file_id}/thumb", headers=user.headers)
    assert error(thumb) == (404, "no thumbnail available")


async def test_jpeg_with_a_zip_appended_is_cut_by_the_re_encoding(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """The re-encoded JPEG has neither the appended ZIP nor the EXIF; the checksum is of the
    bytes as uploaded; exif_stripped is set."""
    user = await make_user(ctx)
    archive = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("payload.txt", "hidden")
    original = image_bytes("JPEG", exif=exif()) + archive.getvalue()
    assert SECRET.encode() in original
    response = await upload(client, user, original)
    assert response.status_code == 200, response.text
    file_id = response.json()["id"]
    data = await stored_bytes(ctx, file_id)
    assert data.startswith(b"\xff\xd8\xff")
    assert b"PK\x03\x04" not in data
    assert b"payload.txt" not in data
    assert SECRET.encode() not in data
    assert response.json()["size_bytes"] == len(data)
    row = await file_row(ctx, file_id)
    assert row is not None
    assert row["exif_stripped"] is True
    assert row["checksum"] == hashlib.sha256(original).hexdigest()
    assert await used(ctx, user.id) == len(data)


async def test_png_text_chunks_and_exif_are_stripped(client: httpx.AsyncClient, ctx: Ctx) -> None:
    user = await make_user(ctx)
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "SecretTextChunk")
    original = image_bytes("PNG", exif=exif(), pnginfo=info)
    assert b"SecretTextChunk" in original
    response = await upload(client, user, original)
    assert response.status_code == 200, response.text
    data = await stored_bytes(ctx, response.json()["id"])
    assert data.startswith(b"\x89PNG")
    assert b"SecretTextChunk" not in data
    assert SECRET.encode() not in data
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (64, 48)


async def test_webp_is_stored_as_webp(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Deliberately unlike the original (PNG bytes under image/webp): real WebP, no EXIF."""
    user = await make_user(ctx)
    response = await upload(client, user, image_bytes("WEBP", exif=exif()))
    assert response.status_code == 200, response.text
    file_id = response.json()["id"]
    data = await stored_bytes(ctx, file_id)
    assert data[:4] == b"RIFF"
    assert data[8:12] == b"WEBP"
    assert SECRET.encode() not in data
    row = await file_row(ctx, file_id)
    assert row is not None
    assert row["content_type"] == "image/webp"


async def test_jpeg_thumbnail_fits_300(client: httpx.AsyncClient, ctx: Ctx) -> None:
    user = await make_user(ctx)
    response = await upload(client, user, image_bytes("JPEG", size=(1200, 600)))
    file_id = response.json()["id"]
    row = await file_row(ctx, file_id)
    assert row is not None
    assert row["thumbnail_path"] == f"{file_id[:2]}/{file_id}_thumb"
    thumb = await client.get(f"/api/files/{file_id}/thumb", headers=user.headers)
    assert thumb.status_code == 200
    assert thumb.headers["content-type"] == "image/jpeg"
    assert thumb.headers["cache-control"] == "private, max-age=3600"
    assert thumb.headers["content-disposition"] == "inline"
    with Image.open(io.BytesIO(thumb.content)) as image:
        assert image.format == "JPEG"
        assert image.size == (300, 150)


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "PNG"])
async def test_other_raster_images_get_thumbnails(
    client: httpx.AsyncClient, ctx: Ctx, fmt: str
) -> None:
    user = await make_user(ctx)
    response = await upload(client, user, image_bytes(fmt, size=(400, 400)))
    assert response.status_code == 200, response.text
    thumb = await client.get(f"/api/files/{response.json()['id']}/thumb", headers=user.headers)
    assert thumb.status_code == 200
    with Image.open(io.BytesIO(thumb.content)) as image:
        assert image.size == (300, 300)


async def test_decompression_bomb_is_refused_before_decoding(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """A 20000x20000 PNG of a few KB (1.2 GB decoded) is a 400, nothing stored."""
    user = await make_user(ctx)
    bomb = huge_png()
    assert len(bomb) < 10_000
    response = await upload(client, user, bomb, filename="small.png")
    assert error(response) == (400, TOO_LARGE)
    await assert_nothing_stored(ctx, user)


async def test_a_huge_gif_is_stored_without_thumbnail(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """GIFs are not re-encoded: one announcing 60000x60000 is kept, but never decoded."""
    user = await make_user(ctx)
    gif = b"GIF89a" + struct.pack("<HH", 60000, 60000) + b"\x00\x00\x00" + b"\x3b"
    response = await upload(client, user, gif)
    assert response.status_code == 200, response.text
    row = await file_row(ctx, response.json()["id"])
    assert row is not None
    assert row["thumbnail_path"] is None


async def test_an_undecodable_jpeg_is_refused(client: httpx.AsyncClient, ctx: Ctx) -> None:
    user = await make_user(ctx)
    response = await upload(client, user, b"\xff\xd8\xff\xe0" + b"not really a jpeg" * 10)
    assert error(response) == (400, DECODE_FAILED)
    await assert_nothing_stored(ctx, user)


async def test_svg_is_cleaned(client: httpx.AsyncClient, ctx: Ctx) -> None:
    user = await make_user(ctx)
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
        b' onload="alert(1)"><script>alert(2)</script>'
        b'<a xlink:href="javascript:alert(3)"><circle r="4"/></a>'
        b'<image href="https://tracker.example/p.png"/></svg>'
    )
    response = await upload(client, user, svg, name="drawing.svg")
    assert response.status_code == 200, response.text
    file_id = response.json()["id"]
    data = await stored_bytes(ctx, file_id)
    for bad in (b"onload", b"<script", b"alert", b"javascript:", b"tracker.example"):
        assert bad not in data
    assert b"<circle" in data
    assert response.json()["size_bytes"] == len(data)
    served = await client.get(f"/api/files/{file_id}", headers=user.headers)
    assert served.headers["content-type"] == "image/svg+xml"
    assert served.headers["content-disposition"].startswith("attachment;")
    thumb = await client.get(f"/api/files/{file_id}/thumb", headers=user.headers)
    assert error(thumb) == (404, "no thumbnail available")


async def test_svg_with_an_external_entity_is_refused(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """XXE: the entity is never resolved; 400 ``invalid SVG: ...``, nothing stored."""
    user = await make_user(ctx)
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>'
    )
    response = await upload(client, user, xxe)
    status, message = error(response)
    assert status == 400
    assert message.startswith("invalid SVG: ")
    await assert_nothing_stored(ctx, user)


# -- the limits and their order ------------------------------------------------------------


async def test_file_size_limit(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Exactly MAX_FILE_SIZE_MB passes; one byte more is 400 while reading; a body whose
    Content-Length is already over the limit (plus framing) is 413, same message."""
    user = await make_user(ctx)
    ok = await upload(client, user, b"a" * MIB)
    assert ok.status_code == 200, ok.text
    await set_used(ctx, user.id, 0)
    assert error(await upload(client, user, b"a" * (MIB + 1))) == (400, "file too large (max 1 MB)")
    big = await upload(client, user, b"a" * (2 * MIB))
    assert error(big) == (413, "file too large (max 1 MB)")
    assert big.json()["error"]["code"] == "payload_too_large"
    assert len(blobs(ctx)) == 1
    assert temporary_files(ctx) == []


async def test_name_limit(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """512 bytes (UTF-8) pass, 513 are refused; NUL and invalid UTF-8 too."""
    user = await make_user(ctx)
    assert (await upload(client, user, b"x", name="é" * 256)).status_code == 200
    too_long = await upload(client, user, b"x", name="a" * 513)
    assert error(too_long) == (400, "file name too long (max 512 bytes)")
    nul = await upload(client, user, b"x", name="a\x00b")
    assert error(nul) == (400, "file name must not contain the NUL character")
    assert len(blobs(ctx)) == 1


async def test_no_file_part(client: httpx.AsyncClient, ctx: Ctx) -> None:
    user = await make_user(ctx)
    response = await client.post(
        "/api/files/upload",
        headers=user.headers,
        files={"other": ("a.txt", b"x", "text/plain")},
        data={"name": "a.txt"},
    )
    assert error(response) == (400, "no file field")
    await assert_nothing_stored(ctx, user)


async def test_not_multipart(client: httpx.AsyncClient, ctx: Ctx) -> None:
    user = await make_user(ctx)
    response = await client.post("/api/files/upload", headers=user.headers, json={"file": "x"})
    assert error(response) == (400, "multipart error: expected a multipart/form-data request")


async def test_truncated_multipart_stores_nothing(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """The body ends in the middle of the file part: 400, no blob, no temporary file."""
    user = await make_user(ctx)
    body = (
        b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n'
        + b"a" * 200_000
    )
    response = await client.post(
        "/api/files/upload",
        headers={**user.headers, "Content-Type": "multipart/form-data; boundary=XyZ"},
        content=body,
    )
    status, message = error(response)
    assert status == 400
    assert message.startswith("multipart error: ")
    await assert_nothing_stored(ctx, user)


async def test_channel_id(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A member may upload into the channel; anyone else 403; an id that is not a UUID is
    ignored (as the original)."""
    owner, outsider = await make_user(ctx), await make_user(ctx)
    channel = await make_channel(ctx, None, owner.id)
    ok = await upload(client, owner, b"x", channel_id=str(channel))
    assert ok.status_code == 200, ok.text
    row = await file_row(ctx, ok.json()["id"])
    assert row is not None
    assert row["channel_id"] == channel
    assert (await upload(client, outsider, b"x", channel_id=str(channel))).status_code == 403
    assert (await upload(client, outsider, b"x", channel_id=str(uuid.uuid4()))).status_code == 403
    loose = await upload(client, outsider, b"x", channel_id="not-a-uuid")
    assert loose.status_code == 200
    row = await file_row(ctx, loose.json()["id"])
    assert row is not None
    assert row["channel_id"] is None


async def test_quota(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """used + size over UPLOAD_QUOTA_MB is refused with the limit and what remains; up to
    the limit exactly is fine."""
    user = await make_user(ctx)
    await set_used(ctx, user.id, 3 * MIB - MIB // 2)
    response = await upload(client, user, b"a" * (MIB // 2 + 1))
    assert error(response) == (400, "upload quota exceeded (3 MB limit, 0.5 MB remaining)")
    assert blobs(ctx) == []
    assert await used(ctx, user.id) == 3 * MIB - MIB // 2
    assert (await upload(client, user, b"a" * (MIB // 2))).status_code == 200
    assert await used(ctx, user.id) == 3 * MIB


async def test_quota_counts_the_stored_size(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A re-encoded image may grow: the counter gets the stored size, and it is checked
    again when the row is written."""
    user = await make_user(ctx)
    original = image_bytes("JPEG", size=(300, 300))
    response = await upload(client, user, original)
    assert await used(ctx, user.id) == response.json()["size_bytes"]


async def test_blocked_hash(client: httpx.AsyncClient, ctx: Ctx) -> None:
    user = await make_user(ctx)
    data = b"a forbidden meme\n"
    async with ctx.db.transaction("test_block") as tx:
        await tx.conn.execute(
            "INSERT INTO blocked_hashes (id, hash, reason) VALUES ($1, $2, 'test')",
            uuid.uuid4(),
            hashlib.sha256(data).hexdigest(),
        )
    response = await upload(client, user, data)
    assert error(response) == (400, "this file has been blocked by an administrator")
    await assert_nothing_stored(ctx, user)
    assert (await upload(client, user, data + b"!")).status_code == 200


async def test_the_order_of_the_checks(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """channel membership before quota before blocked hash before type."""
    user, owner = await make_user(ctx), await make_user(ctx)
    channel = await make_channel(ctx, None, owner.id)
    elf = b"\x7fELF" + b"\x00" * 100
    async with ctx.db.transaction("test_block") as tx:
        await tx.conn.execute(
            "INSERT INTO blocked_hashes (id, hash) VALUES ($1, $2)",
            uuid.uuid4(),
            hashlib.sha256(elf).hexdigest(),
        )
    assert (await upload(client, user, elf, channel_id=str(channel))).status_code == 403
    assert error(await upload(client, user, elf))[1] == (
        "this file has been blocked by an administrator"
    )
    await set_used(ctx, user.id, 3 * MIB)
    assert error(await upload(client, user, elf))[1].startswith("upload quota exceeded")
    # the part sizes come before everything, in the order of the parts (httpx sends the
    # text parts first)
    both = await upload(client, user, b"a" * (MIB + 1), name="n" * 600)
    assert error(both) == (400, "file name too long (max 512 bytes)")
    too_large = await upload(client, user, b"a" * (MIB + 1), name="n")
    assert error(too_large) == (400, "file too large (max 1 MB)")


async def test_rate_limit_per_user(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """10 uploads per user, then 429 with Retry-After; another user is not affected."""
    ctx.limiter = LocalRateLimiter()
    user, other = await make_user(ctx), await make_user(ctx)
    for _ in range(10):
        assert (await upload(client, user, b"x")).status_code == 200
    refused = await upload(client, user, b"x")
    assert error(refused) == (429, "upload rate limit exceeded (max 10 per minute)")
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused.headers["retry-after"]) >= 1
    assert temporary_files(ctx) == []
    assert (await upload(client, other, b"x")).status_code == 200


async def test_a_name_with_a_path_is_only_a_name(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """``../../etc/passwd`` is stored as the name and never used as a path; the download's
    Content-Disposition quotes it safely; CR/LF and quotes cannot break the header."""
    user = await make_user(ctx)
    name = '../../etc/passwd"\r\nSet-Cookie: a=b'
    response = await upload(client, user, b"data", name=name)
    assert response.status_code == 200, response.text
    file_id = response.json()["id"]
    assert blobs(ctx) == [f"{file_id[:2]}/{file_id}"]
    row = await file_row(ctx, file_id)
    assert row is not None
    assert row["encrypted_name"] == name
    served = await client.get(f"/api/files/{file_id}", headers=user.headers)
    assert served.headers["content-disposition"] == (
        'attachment; filename="../../etc/passwd\'__Set-Cookie: a=b"'
    )
    assert "set-cookie" not in served.headers
    meta = await client.get(f"/api/files/{file_id}/meta", headers=user.headers)
    assert meta.json()["encrypted_name"] == name


async def test_a_non_ascii_name_in_content_disposition(client: httpx.AsyncClient, ctx: Ctx) -> None:
    user = await make_user(ctx)
    response = await upload(client, user, b"data", name="résumé 😀.txt")
    served = await client.get(f"/api/files/{response.json()['id']}", headers=user.headers)
    assert served.status_code == 200
    assert served.headers["content-disposition"] == (
        "attachment; filename=\"r_sum_ _.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%F0%9F%98%80.txt"
    )


# -- reading -------------------------------------------------------------------------------


async def uploaded(
    client: httpx.AsyncClient, user: TestUser, data: bytes = b"0123456789abcdef", **fields: str
) -> str:
    response = await upload(client, user, data, **fields)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


async def test_download_headers(client: httpx.AsyncClient, ctx: Ctx) -> None:
    user = await make_user(ctx)
    file_id = await uploaded(client, user, name="a.txt")
    served = await client.get(f"/api/files/{file_id}", headers=user.headers)
    assert served.status_code == 200
    assert served.content == b"0123456789abcdef"
    assert served.headers["cache-control"] == "private, no-store"
    assert served.headers["content-disposition"] == 'attachment; filename="a.txt"'
    assert served.headers["accept-ranges"] == "bytes"
    assert served.headers["content-length"] == "16"
    assert served.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    ("header", "status", "body", "content_range"),
    [
        ("bytes=0-3", 206, b"0123", "bytes 0-3/16"),
        ("bytes=10-", 206, b"abcdef", "bytes 10-15/16"),
        ("bytes=-4", 206, b"cdef", "bytes 12-15/16"),
        ("bytes=14-100", 206, b"ef", "bytes 14-15/16"),
        ("bytes=-100", 206, b"0123456789abcdef", "bytes 0-15/16"),
        ("bytes=5-2", 200, b"0123456789abcdef", None),
        ("bytes=0-1,4-5", 200, b"0123456789abcdef", None),
        ("items=0-3", 200, b"0123456789abcdef", None),
    ],
)
async def test_range_requests(
    client: httpx.AsyncClient,
    ctx: Ctx,
    header: str,
    status: int,
    body: bytes,
    content_range: str | None,
) -> None:
    user = await make_user(ctx)
    file_id = await uploaded(client, user)
    served = await client.get(f"/api/files/{file_id}", headers={**user.headers, "Range": header})
    assert served.status_code == status
    assert served.content == body
    assert served.headers.get("content-range") == content_range
    assert served.headers["content-length"] == str(len(body))


@pytest.mark.parametrize("header", ["bytes=16-", "bytes=100-200", "bytes=-0"])
async def test_unsatisfiable_range(client: httpx.AsyncClient, ctx: Ctx, header: str) -> None:
    user = await make_user(ctx)
    file_id = await uploaded(client, user)
    served = await client.get(f"/api/files/{file_id}", headers={**user.headers, "Range": header})
    assert served.status_code == 416
    assert served.headers["content-range"] == "bytes */16"
    assert served.json()["error"]["code"] == "range_not_satisfiable"


async def test_head(client: httpx.AsyncClient, ctx: Ctx) -> None:
    user = await make_user(ctx)
    file_id = await uploaded(client, user)
    response = await client.head(f"/api/files/{file_id}", headers=user.headers)
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "16"
    assert response.headers["accept-ranges"] == "bytes"


async def test_unknown_file(client: httpx.AsyncClient, ctx: Ctx) -> None:
    user = await make_user(ctx)
    for suffix in ("", "/meta", "/thumb"):
        response = await client.get(f"/api/files/{uuid.uuid4()}{suffix}", headers=user.headers)
        assert error(response) == (404, "file not found")
    response = await client.delete(f"/api/files/{uuid.uuid4()}", headers=user.headers)
    assert error(response) == (404, "file not found")


async def test_access_without_channel(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """The uploader and instance admins; nobody else."""
    uploader, other = await make_user(ctx), await make_user(ctx)
    admin = await make_user(ctx, is_admin=True)
    file_id = await uploaded(client, uploader, image_bytes("PNG"))
    for suffix in ("", "/meta", "/thumb"):
        url = f"/api/files/{file_id}{suffix}"
        assert (await client.get(url, headers=uploader.headers)).status_code == 200
        assert (await client.get(url, headers=admin.headers)).status_code == 200
        assert error(await client.get(url, headers=other.headers)) == (403, "forbidden")


async def test_access_in_a_channel(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Current channel members only: an admin who is not a member is refused, and the
    uploader loses access after leaving."""
    uploader, member, outsider = [await make_user(ctx) for _ in range(3)]
    admin = await make_user(ctx, is_admin=True)
    channel = await make_channel(ctx, None, member.id)
    await add_channel_member(ctx, channel, uploader.id)
    file_id = await uploaded(client, uploader, image_bytes("PNG"), channel_id=str(channel))
    for suffix in ("", "/meta", "/thumb"):
        url = f"/api/files/{file_id}{suffix}"
        assert (await client.get(url, headers=member.headers)).status_code == 200
        assert (await client.get(url, headers=uploader.headers)).status_code == 200
        assert (await client.get(url, headers=outsider.headers)).status_code == 403
        assert (await client.get(url, headers=admin.headers)).status_code == 403
    await leave(ctx, channel, uploader.id)
    assert (await client.get(f"/api/files/{file_id}", headers=uploader.headers)).status_code == 403


async def leave(ctx: Ctx, channel: ChannelId, user_id: UserId) -> None:
    async with ctx.db.transaction("test_leave") as tx:
        await tx.conn.execute(
            "DELETE FROM channel_members WHERE channel_id = $1 AND user_id = $2", channel, user_id
        )


async def test_quarantine(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A quarantined file: only instance admins download it or its thumbnail; its metadata
    stays readable by the uploader (as the original)."""
    uploader = await make_user(ctx)
    admin = await make_user(ctx, is_admin=True)
    file_id = await uploaded(client, uploader, image_bytes("PNG"))
    async with ctx.db.transaction("test_quarantine") as tx:
        await tx.conn.execute(
            "UPDATE files SET quarantined_at = now(), quarantined_by = $2 WHERE id = $1",
            uuid.UUID(file_id),
            admin.id,
        )
    assert (await client.get(f"/api/files/{file_id}", headers=uploader.headers)).status_code == 403
    thumb = await client.get(f"/api/files/{file_id}/thumb", headers=uploader.headers)
    assert thumb.status_code == 403
    meta = await client.get(f"/api/files/{file_id}/meta", headers=uploader.headers)
    assert meta.status_code == 200
    assert (await client.get(f"/api/files/{file_id}", headers=admin.headers)).status_code == 200


async def test_no_thumbnail_is_checked_before_access(client: httpx.AsyncClient, ctx: Ctx) -> None:
    uploader, other = await make_user(ctx), await make_user(ctx)
    file_id = await uploaded(client, uploader)
    response = await client.get(f"/api/files/{file_id}/thumb", headers=other.headers)
    assert error(response) == (404, "no thumbnail available")


async def test_meta(client: httpx.AsyncClient, ctx: Ctx) -> None:
    user = await make_user(ctx)
    data = b"meta data"
    file_id = await uploaded(client, user, data, name="m.txt")
    meta = (await client.get(f"/api/files/{file_id}/meta", headers=user.headers)).json()
    row = await file_row(ctx, file_id)
    assert row is not None
    assert meta == {
        "id": file_id,
        "uploader_id": str(user.id),
        "encrypted_name": "m.txt",
        "size_bytes": len(data),
        "content_type": "text/plain",
        "checksum": hashlib.sha256(data).hexdigest(),
        "created_at": meta["created_at"],
    }
    assert meta["created_at"].endswith("+00:00")


async def test_rows_written_by_the_original_are_served(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """storage_path as the original wrote it: an absolute path under FILE_STORAGE_PATH, or
    one under another root that ends in /{xx}/{id}."""
    user = await make_user(ctx)
    root = ctx.settings.file_storage_path
    for prefix in (str(root.absolute()), "/app/data/files"):
        file_id = uuid.uuid4()
        key = f"{str(file_id)[:2]}/{file_id}"
        await ctx.storage.put_bytes(key, b"legacy bytes")
        await ctx.storage.put_bytes(f"{key}_thumb", b"legacy thumb")
        async with ctx.db.transaction("test_legacy") as tx:
            await tx.conn.execute(
                "INSERT INTO files (id, uploader_id, encrypted_name, size_bytes, content_type,"
                " storage_path, checksum, thumbnail_path)"
                " VALUES ($1, $2, 'old.txt', 12, 'text/plain', $3, 'x', $4)",
                file_id,
                user.id,
                f"{prefix}/{key}",
                f"{prefix}/{key}_thumb",
            )
        served = await client.get(f"/api/files/{file_id}", headers=user.headers)
        assert served.content == b"legacy bytes"
        thumb = await client.get(f"/api/files/{file_id}/thumb", headers=user.headers)
        assert thumb.content == b"legacy thumb"
        assert (
            await client.delete(f"/api/files/{file_id}", headers=user.headers)
        ).status_code == 200
        assert not (root / key).exists()
        assert not (root / f"{key}_thumb").exists()


async def test_a_missing_blob_is_a_logged_404(
    client: httpx.AsyncClient, ctx: Ctx, caplog: pytest.LogCaptureFixture
) -> None:
    user = await make_user(ctx)
    file_id = await uploaded(client, user)
    (ctx.settings.file_storage_path / file_id[:2] / file_id).unlink()
    response = await client.get(f"/api/files/{file_id}", headers=user.headers)
    assert error(response) == (404, "file not found")
    assert f"File {file_id} has a database row but no blob" in caplog.text


# -- deleting ------------------------------------------------------------------------------


async def test_delete_by_the_uploader(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Blob and thumbnail removed, row deleted, quota given back, audit ``file_deleted``."""
    user = await make_user(ctx)
    file_id = await uploaded(client, user, image_bytes("PNG"))
    assert len(blobs(ctx)) == 2
    assert await used(ctx, user.id) > 0
    response = await client.delete(f"/api/files/{file_id}", headers=user.headers)
    assert response.status_code == 200
    assert response.content == b""
    assert blobs(ctx) == []
    assert await file_row(ctx, file_id) is None
    assert await used(ctx, user.id) == 0
    async with ctx.db.connection() as conn:
        entry = await conn.fetchrow(
            "SELECT user_id, metadata FROM audit_log WHERE action = 'file_deleted'"
        )
    assert entry is not None
    assert entry["user_id"] == user.id
    metadata = entry["metadata"]
    if isinstance(metadata, str):
        import json

        metadata = json.loads(metadata)
    assert metadata == {"file_id": file_id, "uploader_id": str(user.id)}


async def test_delete_permissions_and_quota_floor(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Others 403; an admin may, and the uploader's quota goes down, never below 0."""
    uploader, other = await make_user(ctx), await make_user(ctx)
    admin = await make_user(ctx, is_admin=True)
    file_id = await uploaded(client, uploader, b"x" * 100)
    assert (await client.delete(f"/api/files/{file_id}", headers=other.headers)).status_code == 403
    assert len(blobs(ctx)) == 1
    await set_used(ctx, uploader.id, 10)
    assert (await client.delete(f"/api/files/{file_id}", headers=admin.headers)).status_code == 200
    assert await used(ctx, uploader.id) == 0
    assert await used(ctx, admin.id) == 0
    assert blobs(ctx) == []
