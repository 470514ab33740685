"""Community icon and banner uploads (POST /api/communities/{id}/icon|banner) and the public
GET /api/community-assets/{filename}: stored through ctx.storage, every bad input refused with
nothing stored, the members told (community_updated)."""

from __future__ import annotations

import io
import struct
import uuid
import zlib
from dataclasses import dataclass

import httpx
import pytest
from PIL import Image

from chatalot.clock import FakeClock
from chatalot.context import Ctx
from chatalot.ids import CommunityId
from chatalot.protocol.events import CommunityUpdated
from chatalot.services import images
from chatalot.services.audience import Users
from tests.conftest import RecordingSink
from tests.support.auth import TestUser, make_user
from tests.support.responses import error
from tests.support.spaces import add_community_member, make_community


def image_bytes(fmt: str, size: tuple[int, int] = (8, 6)) -> bytes:
    mode = "P" if fmt == "GIF" else "RGB"
    image = Image.new(mode, size, 3 if mode == "P" else (20, 130, 30))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


PNG = image_bytes("PNG")
JPEG = image_bytes("JPEG")
WEBP = image_bytes("WEBP")
GIF = image_bytes("GIF")


def bomb_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A valid PNG header (correct checksums) announcing ``width`` x ``height`` pixels, with
    a tiny compressed body: decoding it would need gigabytes."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload))
            + kind
            + payload
            + struct.pack(">I", zlib.crc32(kind + payload))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + chunk(b"IEND", b"")
    )


BOMB = bomb_png()
BORDERLINE_BOMB = bomb_png(8_000, 8_000)  # 64 Mpx: under Pillow's own limit, over ours


@dataclass
class Space:
    owner: TestUser
    admin: TestUser
    moderator: TestUser
    member: TestUser
    community: CommunityId


async def make_space(ctx: Ctx) -> Space:
    owner, admin = await make_user(ctx), await make_user(ctx)
    moderator, member = await make_user(ctx), await make_user(ctx)
    community = await make_community(ctx, owner.id)
    await add_community_member(ctx, community, admin.id, "admin")
    await add_community_member(ctx, community, moderator.id, "moderator")
    await add_community_member(ctx, community, member.id, "member")
    return Space(owner, admin, moderator, member, community)


async def upload(
    client: httpx.AsyncClient,
    user: TestUser,
    community: uuid.UUID | str,
    data: bytes,
    content_type: str = "image/png",
    *,
    which: str = "icon",
    field: str | None = None,
) -> httpx.Response:
    return await client.post(
        f"/api/communities/{community}/{which}",
        headers=user.headers,
        files={field or which: ("image.png", data, content_type)},
    )


async def stored(ctx: Ctx, prefix: str = "community_assets/") -> list[str]:
    return sorted([b.key async for b in ctx.storage.iter_blobs(prefix)])


async def community_row(client: httpx.AsyncClient, user: TestUser, community: uuid.UUID) -> dict:  # type: ignore[type-arg]
    response = await client.get(f"/api/communities/{community}", headers=user.headers)
    assert response.status_code == 200
    result: dict = response.json()  # type: ignore[type-arg]
    return result


@pytest.mark.parametrize(
    ("data", "content_type", "ext"),
    [
        (PNG, "image/png", "png"),
        (JPEG, "image/jpeg", "jpg"),
        (WEBP, "image/webp", "webp"),
        (GIF, "image/gif", "gif"),
    ],
)
async def test_icon_each_type(
    client: httpx.AsyncClient,
    ctx: Ctx,
    sink: RecordingSink,
    data: bytes,
    content_type: str,
    ext: str,
) -> None:
    """Each allowed type is stored as community_assets/{cid}_icon.{ext}, the community points
    at it with ?v=<unix seconds>, it is served publicly, and every member hears of it."""
    space = await make_space(ctx)
    assert isinstance(ctx.clock, FakeClock)
    response = await upload(client, space.admin, space.community, data, content_type)
    assert response.status_code == 200, response.text
    body = response.json()
    seconds = int(ctx.clock.now().timestamp())
    url = f"/api/community-assets/{space.community}_icon.{ext}?v={seconds}"
    assert body["icon_url"] == url
    assert body["id"] == str(space.community)
    assert body["member_count"] == 4
    assert await stored(ctx) == [f"community_assets/{space.community}_icon.{ext}"]
    served = await client.get(url)
    assert served.status_code == 200
    assert served.headers["content-type"] == content_type
    assert served.headers["cache-control"] == "public, max-age=3600"
    assert images.detect_image_type(served.content) == content_type
    [emitted] = sink.published
    assert isinstance(emitted.event, CommunityUpdated)
    assert emitted.event.icon_url == url
    assert emitted.event.community_id == str(space.community)
    assert emitted.audience == Users.of(
        [space.owner.id, space.admin.id, space.moderator.id, space.member.id]
    )


async def test_banner_and_icon_coexist_and_reupload_replaces(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """The banner is {cid}_banner.{ext}; a new icon with another extension removes the old
    icon blob but never the banner."""
    space = await make_space(ctx)
    assert (await upload(client, space.owner, space.community, PNG)).status_code == 200
    banner = await upload(client, space.owner, space.community, GIF, "image/gif", which="banner")
    assert banner.status_code == 200, banner.text
    assert banner.json()["banner_url"].startswith(
        f"/api/community-assets/{space.community}_banner.gif?v="
    )
    again = await upload(client, space.owner, space.community, JPEG, "image/jpeg")
    assert again.status_code == 200
    assert again.json()["icon_url"].startswith(
        f"/api/community-assets/{space.community}_icon.jpg?v="
    )
    assert again.json()["banner_url"] == banner.json()["banner_url"]
    assert await stored(ctx) == [
        f"community_assets/{space.community}_banner.gif",
        f"community_assets/{space.community}_icon.jpg",
    ]
    row = await community_row(client, space.member, space.community)
    assert row["icon_url"] == again.json()["icon_url"]


async def test_uploaded_image_is_reencoded_without_metadata(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """EXIF of an uploaded JPEG does not reach the stored icon."""
    space = await make_space(ctx)
    exif = Image.Exif()
    exif[0x010F] = "SecretCamera-GPS-Owner"
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(out, "JPEG", exif=exif.tobytes())
    response = await upload(client, space.owner, space.community, out.getvalue(), "image/jpeg")
    assert response.status_code == 200
    served = await client.get(response.json()["icon_url"])
    assert b"SecretCamera" not in served.content


BAD_INPUTS = [
    ("text/plain", PNG, "invalid image type (allowed: png, jpg, webp, gif)"),
    ("image/svg+xml", b"<svg/>", "invalid image type (allowed: png, jpg, webp, gif)"),
    ("image/png", JPEG, "file content does not match declared image type"),
    ("image/png", b"MZ\x90\x00" + b"\x00" * 200, "file content does not match declared image type"),
    ("image/png", b"\x7fELF" + b"\x00" * 60, "file content does not match declared image type"),
    ("image/gif", b"#!/bin/sh\nrm -rf /\n", "file content does not match declared image type"),
    ("image/png", b"", "invalid file: empty file"),
    ("image/png", PNG[:20], "invalid file: the image could not be decoded"),
    ("image/png", image_bytes("PNG", (10_000, 6_000)), "invalid file: image dimensions too large"),
    ("image/png", BOMB, "invalid file: image dimensions too large"),
    ("image/png", BORDERLINE_BOMB, "invalid file: image dimensions too large"),
]


@pytest.mark.parametrize("which", ["icon", "banner"])
@pytest.mark.parametrize(("content_type", "data", "message"), BAD_INPUTS)
async def test_bad_images_refused(
    client: httpx.AsyncClient,
    ctx: Ctx,
    sink: RecordingSink,
    which: str,
    content_type: str,
    data: bytes,
    message: str,
) -> None:
    """Wrong declared type, lying declared type, executables named .png, empty, undecodable
    and decompression bombs: 400 with the message, nothing stored, nothing changed or sent."""
    space = await make_space(ctx)
    response = await upload(client, space.owner, space.community, data, content_type, which=which)
    assert error(response) == (400, message)
    assert await stored(ctx) == []
    assert sink.published == []
    assert (await community_row(client, space.owner, space.community))[f"{which}_url"] is None


@pytest.mark.parametrize("which", ["icon", "banner"])
async def test_missing_part(client: httpx.AsyncClient, ctx: Ctx, which: str) -> None:
    space = await make_space(ctx)
    response = await upload(client, space.owner, space.community, PNG, which=which, field="x")
    assert error(response) == (400, f"no {which} field")


async def test_missing_part_content_type(client: httpx.AsyncClient, ctx: Ctx) -> None:
    space = await make_space(ctx)
    body = (
        b'--b0\r\nContent-Disposition: form-data; name="icon"; filename="a.png"\r\n\r\n'
        + PNG
        + b"\r\n--b0--\r\n"
    )
    response = await client.post(
        f"/api/communities/{space.community}/icon",
        headers={**space.owner.headers, "Content-Type": "multipart/form-data; boundary=b0"},
        content=body,
    )
    assert error(response) == (400, "missing content type")


async def test_too_large(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """10 MiB + 1 byte: 400 file too large (max 10 MB), nothing stored."""
    space = await make_space(ctx)
    data = PNG + b"\x00" * (images.MAX_IMAGE_BYTES + 1 - len(PNG))
    response = await upload(client, space.owner, space.community, data)
    assert error(response) == (400, "file too large (max 10 MB)")
    assert await stored(ctx) == []


@pytest.mark.parametrize(
    ("headers", "content"),
    [
        ({"Content-Type": "application/json"}, b"{}"),
        ({"Content-Type": "multipart/form-data"}, b"--x\r\n"),
        ({"Content-Type": "multipart/form-data; boundary=abc"}, b"not multipart"),
    ],
)
async def test_not_multipart(
    client: httpx.AsyncClient, ctx: Ctx, headers: dict[str, str], content: bytes
) -> None:
    space = await make_space(ctx)
    response = await client.post(
        f"/api/communities/{space.community}/icon",
        headers={**space.owner.headers, **headers},
        content=content,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


async def test_who_may_upload(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Moderators, members and outsiders get 403 and nothing is stored; an instance admin may;
    a malformed id is 400."""
    space = await make_space(ctx)
    outsider = await make_user(ctx)
    staff = await make_user(ctx, is_admin=True)
    for user in (space.moderator, space.member, outsider):
        response = await upload(client, user, space.community, PNG)
        assert response.status_code == 403, response.text
    assert await stored(ctx) == []
    assert (await upload(client, staff, space.community, PNG)).status_code == 200
    assert (await upload(client, staff, uuid.uuid4(), PNG)).status_code == 404
    bad = await upload(client, space.owner, "not-a-uuid", PNG)
    assert error(bad) == (400, "invalid community ID")


async def test_refusal_does_not_read_the_body(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A member's broken body is still a 403: the right is checked first."""
    space = await make_space(ctx)
    response = await client.post(
        f"/api/communities/{space.community}/icon",
        headers={**space.member.headers, "Content-Type": "application/json"},
        content=b"{}",
    )
    assert response.status_code == 403


# -- serving -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("a.png", "image/png"),
        ("a.JPG", "image/jpeg"),
        ("a.jpeg", "image/jpeg"),
        ("a.webp", "image/webp"),
        ("a.gif", "image/gif"),
        ("a.bin", "application/octet-stream"),
    ],
)
async def test_serve_content_type_by_extension(
    client: httpx.AsyncClient, ctx: Ctx, name: str, content_type: str
) -> None:
    await ctx.storage.put_bytes(f"community_assets/{name}", b"data")
    response = await client.get(f"/api/community-assets/{name}?v=123")
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert response.content == b"data"


@pytest.mark.parametrize("name", ["..png", "a..b.png", "%2e%2e", "a%5Cb.png", "a b.png", "a~1.tmp"])
async def test_serve_refuses_unsafe_names(client: httpx.AsyncClient, name: str) -> None:
    response = await client.get(f"/api/community-assets/{name}")
    assert error(response) == (400, "invalid filename")


async def test_serve_cannot_escape_the_folder(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Encoded slashes never reach a blob outside community_assets/ (avatars, temp files)."""
    await ctx.storage.put_bytes("avatars/secret.png", b"secret")
    for path in [
        "/api/community-assets/..%2Favatars%2Fsecret.png",
        "/api/community-assets/%2E%2E%2Favatars%2Fsecret.png",
        "/api/community-assets/..%5Cavatars%5Csecret.png",
    ]:
        response = await client.get(path)
        assert response.status_code in (400, 404)
        assert response.content != b"secret"


@pytest.mark.parametrize("name", ["missing.png", "%2E", ".incoming"])
async def test_serve_missing(client: httpx.AsyncClient, name: str) -> None:
    response = await client.get(f"/api/community-assets/{name}")
    assert error(response) == (404, "asset not found")
