"""Profile images: avatar, banner and voice-background uploads, removal, and the public
/api/avatars/{filename} endpoint; plus the magic-byte detection they rely on."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from PIL import Image

from chatalot.clock import FakeClock
from chatalot.context import Ctx
from chatalot.protocol.events import UserProfileUpdated
from chatalot.services import images
from chatalot.services.audience import EVERYONE
from chatalot.services.images import detect_image_type
from tests.conftest import RecordingSink
from tests.support.auth import PASSWORD, TestUser, make_user
from tests.support.responses import error

GPS_MARKER = "SecretCamera-GPS-Owner"


def image_bytes(fmt: str, size: tuple[int, int] = (8, 6), **save: Any) -> bytes:
    mode = "P" if fmt == "GIF" else "RGB"
    image = Image.new(mode, size, 3 if mode == "P" else (200, 30, 30))
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def exif_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = GPS_MARKER  # camera make
    exif[0x0112] = 6  # orientation: rotate 90
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 0.0)}
    return exif.tobytes()


PNG = image_bytes("PNG")
JPEG = image_bytes("JPEG")
WEBP = image_bytes("WEBP")
GIF = image_bytes("GIF")


def multipart(parts: list[tuple[str, str | None, bytes]], boundary: str = "b0undary") -> bytes:
    """A raw multipart body: (name, content type or None, data) per part."""
    out = b""
    for name, content_type, data in parts:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="f"\r\n'.encode()
        if content_type is not None:
            out += f"Content-Type: {content_type}\r\n".encode()
        out += b"\r\n" + data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


async def upload(
    client: httpx.AsyncClient,
    user: TestUser,
    data: bytes,
    content_type: str = "image/png",
    *,
    path: str = "/api/account/avatar",
    field: str = "avatar",
) -> httpx.Response:
    return await client.post(
        path, headers=user.headers, files={field: ("image.bin", data, content_type)}
    )


def stored(ctx: Ctx) -> list[str]:
    directory = ctx.settings.file_storage_path / "avatars"
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


# -- detection -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (WEBP, "image/webp"),
        (GIF, "image/gif"),
        (b"GIF87a" + b"\x00" * 10, "image/gif"),
        (b"RIFF\x00\x00\x00\x00WAVE", None),
        (b"RIFF\x00\x00\x00\x00WEB", None),
        (b"\x89PNG\r\n", None),
        (b"\xff\xd8", None),
        (b"", None),
        (b"MZ\x90\x00", None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
    ],
)
def test_detect_image_type(data: bytes, expected: str | None) -> None:
    """Magic bytes decide png/jpeg/gif/webp; anything else (or a truncated header) is None."""
    assert detect_image_type(data) == expected


# -- uploads -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "content_type", "ext"),
    [
        (PNG, "image/png", "png"),
        (JPEG, "image/jpeg", "jpg"),
        (WEBP, "image/webp", "webp"),
        (GIF, "image/gif", "gif"),
    ],
)
async def test_avatar_upload_each_type(
    client: httpx.AsyncClient,
    ctx: Ctx,
    sink: RecordingSink,
    data: bytes,
    content_type: str,
    ext: str,
) -> None:
    """Each allowed type is stored as {user_id}.{ext}, served back with its content type,
    the profile points at it with ?v=<unix seconds>, and everyone hears of it."""
    user = await make_user(ctx)
    assert isinstance(ctx.clock, FakeClock)
    response = await upload(client, user, data, content_type)
    assert response.status_code == 200, response.text
    body = response.json()
    seconds = int(ctx.clock.now().timestamp())
    assert body["avatar_url"] == f"/api/avatars/{user.id}.{ext}?v={seconds}"
    assert body["id"] == str(user.id)
    assert stored(ctx) == [f"{user.id}.{ext}"]
    served = await client.get(body["avatar_url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == content_type
    assert served.headers["cache-control"] == "public, max-age=3600"
    assert detect_image_type(served.content) == content_type
    if content_type == "image/gif":
        assert served.content == data  # stored as is
    [emitted] = sink.published
    assert emitted.audience == EVERYONE
    assert isinstance(emitted.event, UserProfileUpdated)
    assert emitted.event.avatar_url == body["avatar_url"]
    assert msgspec.json.decode(msgspec.json.encode(emitted.event))["type"] == "user_profile_updated"


@pytest.mark.parametrize(
    ("fmt", "content_type"), [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")]
)
async def test_upload_strips_exif_and_gps(
    client: httpx.AsyncClient, ctx: Ctx, fmt: str, content_type: str
) -> None:
    """EXIF (camera, GPS position) never reaches the stored file."""
    user = await make_user(ctx)
    data = image_bytes(fmt, (12, 8), exif=exif_with_gps())
    assert GPS_MARKER.encode() in data
    response = await upload(client, user, data, content_type)
    assert response.status_code == 200, response.text
    served = await client.get(response.json()["avatar_url"])
    assert GPS_MARKER.encode() not in served.content
    with Image.open(io.BytesIO(served.content)) as image:
        assert dict(image.getexif()) == {}
        if fmt == "JPEG":
            assert image.size == (8, 12)  # the orientation was applied to the pixels


async def test_animated_gif_stays_animated(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """An animated GIF is stored byte for byte."""
    user = await make_user(ctx)
    frames = [Image.new("P", (4, 4), i) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    response = await upload(client, user, out.getvalue(), "image/gif")
    assert response.status_code == 200
    served = await client.get(response.json()["avatar_url"])
    assert served.content == out.getvalue()


async def test_new_extension_replaces_old_file(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Uploading a JPEG after a PNG leaves only the JPEG (no stale file, no temp file)."""
    user = await make_user(ctx)
    assert (await upload(client, user, PNG)).status_code == 200
    assert (await upload(client, user, JPEG, "image/jpeg")).status_code == 200
    assert stored(ctx) == [f"{user.id}.jpg"]


async def test_banner_and_avatar_coexist(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """The banner is {user_id}_banner.{ext}, sets banner_url, and never removes the avatar."""
    user = await make_user(ctx)
    await upload(client, user, PNG)
    response = await upload(
        client, user, GIF, "image/gif", path="/api/account/banner", field="banner"
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["banner_url"].startswith(f"/api/avatars/{user.id}_banner.gif?v=")
    assert body["avatar_url"].startswith(f"/api/avatars/{user.id}.png?v=")
    assert stored(ctx) == sorted([f"{user.id}.png", f"{user.id}_banner.gif"])


async def test_voice_background_upload_and_delete(
    client: httpx.AsyncClient, ctx: Ctx, sink: RecordingSink
) -> None:
    """The voice background answers {"url"} (not a UserPublic); DELETE clears the URL and the
    file; both tell everyone."""
    user = await make_user(ctx)
    response = await upload(
        client, user, WEBP, "image/webp", path="/api/account/voice-background", field="background"
    )
    assert response.status_code == 200, response.text
    url = response.json()["url"]
    assert set(response.json()) == {"url"}
    assert url.startswith(f"/api/avatars/{user.id}_voicebg.webp?v=")
    me = (await client.get("/api/account/me", headers=user.headers)).json()
    assert me["voice_background_url"] == url
    removed = await client.request(
        "DELETE", "/api/account/voice-background", headers=user.headers, json={}
    )
    assert removed.status_code == 200
    assert removed.content == b""
    me = (await client.get("/api/account/me", headers=user.headers)).json()
    assert "voice_background_url" not in me
    assert stored(ctx) == []
    assert [e.event.voice_background_url for e in sink.published] == [url, None]  # type: ignore[attr-defined]
    assert {e.audience for e in sink.published} == {EVERYONE}


@pytest.mark.parametrize(
    ("path", "field", "message"),
    [
        ("/api/account/avatar", "avatar", "avatar too large (max 10 MB)"),
        ("/api/account/banner", "banner", "banner too large (max 10 MB)"),
        ("/api/account/voice-background", "background", "file too large (max 10 MB)"),
    ],
)
async def test_too_large(
    client: httpx.AsyncClient, ctx: Ctx, path: str, field: str, message: str
) -> None:
    """10 MiB + 1 byte is refused with the original's message, and nothing is stored."""
    user = await make_user(ctx)
    data = PNG + b"\x00" * (images.MAX_IMAGE_BYTES + 1 - len(PNG))
    response = await upload(client, user, data, path=path, field=field)
    assert error(response) == (400, message)
    assert stored(ctx) == []


async def test_exactly_ten_mib_is_not_too_large(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A 10 MiB PNG (valid image plus trailing bytes) passes the size check."""
    user = await make_user(ctx)
    data = PNG + b"\x00" * (images.MAX_IMAGE_BYTES - len(PNG))
    response = await upload(client, user, data)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/api/account/avatar", "no avatar field"),
        ("/api/account/banner", "no banner field"),
        ("/api/account/voice-background", "no background field"),
    ],
)
async def test_missing_part(client: httpx.AsyncClient, ctx: Ctx, path: str, message: str) -> None:
    """A multipart request without the expected part is 400 no <field> field."""
    user = await make_user(ctx)
    response = await client.post(
        path, headers=user.headers, files={"other": ("x.png", PNG, "image/png")}
    )
    assert error(response) == (400, message)


@pytest.mark.parametrize(
    ("content_type", "data", "message"),
    [
        ("text/plain", PNG, "invalid image type (allowed: png, jpg, webp, gif)"),
        ("image/svg+xml", b"<svg/>", "invalid image type (allowed: png, jpg, webp, gif)"),
        ("image/bmp", b"BM" + b"\x00" * 60, "invalid image type (allowed: png, jpg, webp, gif)"),
        ("image/png", JPEG, "file content does not match declared image type"),
        ("image/jpeg", b"MZ" + b"\x00" * 100, "file content does not match declared image type"),
        (
            "image/gif",
            b"<script>alert(1)</script>",
            "file content does not match declared image type",
        ),
        ("image/png", b"", "invalid file: empty file"),
        ("image/png", PNG[:20], "invalid file: the image could not be decoded"),
        (
            "image/jpeg",
            b"\xff\xd8\xff" + b"garbage" * 10,
            "invalid file: the image could not be decoded",
        ),
        ("image/gif", b"GIF89a" + b"\x00" * 3, "invalid file: the image could not be decoded"),
    ],
)
async def test_image_checks(
    client: httpx.AsyncClient,
    ctx: Ctx,
    sink: RecordingSink,
    content_type: str,
    data: bytes,
    message: str,
) -> None:
    """Declared type, magic bytes and decodability are checked; refusals store nothing."""
    user = await make_user(ctx)
    response = await upload(client, user, data, content_type)
    assert error(response) == (400, message)
    assert stored(ctx) == []
    assert sink.published == []
    me = (await client.get("/api/account/me", headers=user.headers)).json()
    assert me["avatar_url"] is None


async def test_declared_type_parameters_are_ignored(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """`image/PNG; name=x` counts as image/png."""
    user = await make_user(ctx)
    response = await client.post(
        "/api/account/avatar",
        headers={**user.headers, "Content-Type": "multipart/form-data; boundary=b0undary"},
        content=multipart([("avatar", "image/PNG; name=x", PNG)]),
    )
    assert response.status_code == 200, response.text


async def test_huge_dimensions_refused(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A small file that decodes to a gigantic bitmap is refused before decoding."""
    user = await make_user(ctx)
    data = image_bytes("PNG", (10_000, 6_000))  # 60 megapixels, compresses to a few KB
    assert len(data) < images.MAX_IMAGE_BYTES
    response = await upload(client, user, data)
    assert error(response) == (400, "invalid file: image dimensions too large")


async def test_decompression_bomb_refused(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A PNG header claiming 100000 x 100000 pixels is a 400, not a crash."""
    user = await make_user(ctx)
    header = PNG[:16] + (100_000).to_bytes(4, "big") + (100_000).to_bytes(4, "big") + PNG[24:]
    response = await upload(client, user, header)
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("invalid file: ")


async def test_missing_part_content_type(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A part without its own Content-Type is 400 missing content type."""
    user = await make_user(ctx)
    response = await client.post(
        "/api/account/avatar",
        headers={**user.headers, "Content-Type": "multipart/form-data; boundary=b0undary"},
        content=multipart([("avatar", None, PNG)]),
    )
    assert error(response) == (400, "missing content type")


async def test_last_part_wins(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """With several avatar parts the last one is used; other parts are ignored."""
    user = await make_user(ctx)
    response = await client.post(
        "/api/account/avatar",
        headers={**user.headers, "Content-Type": "multipart/form-data; boundary=b0undary"},
        content=multipart(
            [
                ("avatar", "image/png", PNG),
                ("note", "text/plain", b"\xff\xfe binary junk"),
                ("avatar", "image/gif", GIF),
            ]
        ),
    )
    assert response.status_code == 200, response.text
    assert response.json()["avatar_url"].startswith(f"/api/avatars/{user.id}.gif")


@pytest.mark.parametrize(
    ("headers", "content"),
    [
        ({"Content-Type": "application/json"}, b"{}"),
        ({"Content-Type": "multipart/form-data"}, b"--x\r\n"),
        ({"Content-Type": "multipart/form-data; boundary=abc"}, b"this is not multipart"),
        (
            {"Content-Type": "multipart/form-data; boundary=abc"},
            b'--abc\r\nContent-Disposition: form-data; name="avatar"\r\n\r\nunterminated',
        ),
        ({"Content-Type": "multipart/form-data; boundary=abc"}, b""),
        ({}, b""),
    ],
)
async def test_not_multipart_or_broken(
    client: httpx.AsyncClient, ctx: Ctx, headers: dict[str, str], content: bytes
) -> None:
    """Requests that are not (valid, complete) multipart are a 400 in the error shape."""
    user = await make_user(ctx)
    response = await client.post(
        "/api/account/avatar", headers={**user.headers, **headers}, content=content
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert response.json()["error"]["message"].startswith(("multipart error: ", "no avatar field"))


async def test_upload_needs_a_token(client: httpx.AsyncClient) -> None:
    """Anonymous uploads are 401 (the body is not even read)."""
    response = await client.post(
        "/api/account/avatar", files={"avatar": ("a.png", PNG, "image/png")}
    )
    assert response.status_code == 401


async def test_upload_for_deleted_account(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A token whose account is gone gets 404 user not found and nothing is stored."""
    user = await make_user(ctx)
    await client.get("/api/account/sessions", headers=user.headers)  # token seen: cached
    async with ctx.db.connection() as conn:
        await conn.execute("DELETE FROM users WHERE id = $1", user.id)
    response = await upload(client, user, PNG)
    assert error(response) == (404, "user not found")
    assert stored(ctx) == []


async def test_account_deletion_removes_images(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Deleting the account deletes its avatar, banner and voice background files."""
    user = await make_user(ctx)
    keeper = await make_user(ctx)
    await upload(client, user, PNG)
    await upload(client, user, PNG, path="/api/account/banner", field="banner")
    await upload(client, keeper, PNG)
    response = await client.request(
        "DELETE", "/api/account", headers=user.headers, json={"password": PASSWORD}
    )
    assert response.status_code == 200
    assert stored(ctx) == [f"{keeper.id}.png"]


# -- serving -------------------------------------------------------------------------------


async def test_serve_is_public_and_ignores_query(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """No token needed; ?v= is ignored; Content-Length is the file size."""
    user = await make_user(ctx)
    url = (await upload(client, user, GIF, "image/gif")).json()["avatar_url"]
    response = await client.get(url.split("?")[0] + "?v=whatever")
    assert response.status_code == 200
    assert response.content == GIF
    assert response.headers["content-length"] == str(len(GIF))


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("a.png", "image/png"),
        ("a.jpg", "image/jpeg"),
        ("a.JPEG", "image/jpeg"),
        ("a.webp", "image/webp"),
        ("a.gif", "image/gif"),
        ("a.txt", "application/octet-stream"),
        ("noext", "application/octet-stream"),
    ],
)
async def test_serve_content_type_by_extension(
    client: httpx.AsyncClient, ctx: Ctx, name: str, content_type: str
) -> None:
    """The Content-Type comes from the extension alone."""
    directory: Path = ctx.settings.file_storage_path / "avatars"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_bytes(b"data")
    response = await client.get(f"/api/avatars/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.content == b"data"


@pytest.mark.parametrize(
    "name",
    [
        "..png",
        "a..b.png",
        "%2e%2e",
        "%2E%2E",
        "a%5Cb.png",
        "a b.png",
        "ä.png",
        "a%00.png",
        "a~1.tmp",
        "x" * 201,
    ],
)
async def test_serve_refuses_unsafe_names(client: httpx.AsyncClient, ctx: Ctx, name: str) -> None:
    """Names with "..", backslashes, or characters outside [A-Za-z0-9_.-] are 400."""
    response = await client.get(f"/api/avatars/{name}")
    assert response.status_code == 400
    message = (
        "invalid filename"
        if "%00" not in name
        else "the URL must not contain the NUL character (%00)"
    )
    assert response.json()["error"] == {"code": "validation_error", "message": message}


async def test_serve_cannot_escape_the_directory(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """An encoded slash never reaches a file outside avatars/ (no route or 400/404)."""
    secret = ctx.settings.file_storage_path / "secret.png"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_bytes(b"secret")
    for path in ["/api/avatars/..%2Fsecret.png", "/api/avatars/%2E%2E%2Fsecret.png"]:
        response = await client.get(path)
        assert response.status_code in (400, 404)
        assert response.content != b"secret"
        assert response.json()["error"]["code"] in ("validation_error", "not_found")


@pytest.mark.parametrize("name", ["missing.png", "a.png.png", "%2E"])
async def test_serve_missing(client: httpx.AsyncClient, ctx: Ctx, name: str) -> None:
    """Unknown files (and "." , the directory itself) are 404 avatar not found."""
    response = await client.get(f"/api/avatars/{name}")
    assert response.status_code == 404
    assert response.json()["error"] == {"code": "not_found", "message": "avatar not found"}
