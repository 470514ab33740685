"""Uploaded images: profile images (avatars, banners, voice-call backgrounds), community
icons and banners, group icons and banners and group-channel voice backgrounds: checking,
cleaning, storing (through ``ctx.storage``) and serving them. Custom emoji use the checks too
(services/emojis.py).

An upload must declare png, jpeg, webp or gif, be at most 10 MiB, and its first bytes must be
that same type. PNG, JPEG and WebP are decoded and re-encoded with Pillow, which drops EXIF
(GPS position, camera serial numbers), XMP and comments; JPEG orientation is applied to the
pixels first, so photos stay upright. GIFs are checked for decodability and stored as they are.
Images whose declared dimensions would need too much memory to decode are refused before
decoding. Blocking work (Pillow) runs in a worker thread.

Storage keys (the same file names the original used under ``FILE_STORAGE_PATH``, so existing
installations keep their images): ``avatars/{user_id}[_banner|_voicebg].{ext}``,
``community_assets/{community_id}_icon|_banner.{ext}``,
``group_assets/{group_id}_icon|_banner.{ext}`` and ``group_assets/{channel_id}_voicebg.{ext}``.
A new upload replaces the old one; one with another extension removes the old blob (the
original left it behind). Writes are atomic (storage/base.py), so a reader never sees half an
image, and the public endpoints serve only plain names under their folder.
"""

from __future__ import annotations

import asyncio
import io
import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from PIL import Image, ImageOps

from chatalot.context import Ctx
from chatalot.errors import Invalid, NotFound
from chatalot.storage.base import BlobNotFound, BlobRead

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 50_000_000  # width x height; larger images would need gigabytes to decode

EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}
_MEDIA_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
}
_SAFE_FILENAME = re.compile(r"^[A-Za-z0-9_.\-]{1,200}$")
INVALID_TYPE = "invalid image type (allowed: png, jpg, webp, gif)"


@dataclass(frozen=True, slots=True)
class ImageUpload:
    """One uploaded image part: its declared Content-Type (None when the part had none) and
    its bytes (the edge reads at most MAX_IMAGE_BYTES + 1 of them)."""

    content_type: str | None
    data: bytes


@dataclass(frozen=True, slots=True)
class ImageFolder:
    """Where one family of images is stored (the storage key prefix) and served."""

    name: str  # storage key prefix: "{name}/{file}"
    route: str  # the public route serving "{route}{file}"
    not_found: str  # the 404 message of that route


AVATARS = ImageFolder("avatars", "/api/avatars/", "avatar not found")
COMMUNITY_ASSETS = ImageFolder("community_assets", "/api/community-assets/", "asset not found")
GROUP_ASSETS = ImageFolder("group_assets", "/api/group-assets/", "asset not found")


@dataclass(frozen=True, slots=True)
class ImageKind:
    field: str  # multipart part name
    suffix: str  # file name after the owner's id: "{owner_id}{suffix}.{ext}"
    too_large: str  # the original's message
    folder: ImageFolder = AVATARS
    invalid_type: str = INVALID_TYPE  # the original's message for a refused declared type


AVATAR = ImageKind("avatar", "", "avatar too large (max 10 MB)")
BANNER = ImageKind("banner", "_banner", "banner too large (max 10 MB)")
VOICE_BACKGROUND = ImageKind("background", "_voicebg", "file too large (max 10 MB)")
KINDS = (AVATAR, BANNER, VOICE_BACKGROUND)

COMMUNITY_ICON = ImageKind("icon", "_icon", "file too large (max 10 MB)", COMMUNITY_ASSETS)
COMMUNITY_BANNER = ImageKind("banner", "_banner", "file too large (max 10 MB)", COMMUNITY_ASSETS)

# The original's group messages differ slightly (no space in "10MB", "jpeg").
_GROUP_TYPE = "invalid image type (allowed: png, jpeg, webp, gif)"
GROUP_ICON = ImageKind("icon", "_icon", "file too large (max 10MB)", GROUP_ASSETS, _GROUP_TYPE)
GROUP_BANNER = ImageKind(
    "banner", "_banner", "file too large (max 10MB)", GROUP_ASSETS, _GROUP_TYPE
)
CHANNEL_VOICE_BACKGROUND = ImageKind(
    "background", "_voicebg", "file too large (max 10MB)", GROUP_ASSETS, _GROUP_TYPE
)


def detect_image_type(data: bytes) -> str | None:
    """The image type the magic bytes announce (png, jpeg, gif, webp), else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_upload(kind: ImageKind, upload: ImageUpload | None) -> str:
    """Validates an upload in the original's order of checks; returns its content type."""
    if upload is None:
        raise Invalid(f"no {kind.field} field")
    if len(upload.data) > MAX_IMAGE_BYTES:
        raise Invalid(kind.too_large)
    if upload.content_type is None:
        raise Invalid("missing content type")
    content_type = declared_type(upload.content_type)
    if content_type not in EXTENSIONS:
        raise Invalid(kind.invalid_type)
    check_magic(upload.data, content_type)
    return content_type


def declared_type(content_type: str) -> str:
    """A part's Content-Type without parameters, lower case (``image/PNG; x=y`` -> image/png)."""
    return content_type.split(";", 1)[0].strip().lower()


def check_magic(data: bytes, content_type: str) -> None:
    """The bytes must be non-empty and start like ``content_type`` (an executable or a script
    named .png is refused here)."""
    if not data:
        raise Invalid("invalid file: empty file")
    if detect_image_type(data) != content_type:
        raise Invalid("file content does not match declared image type")


def sanitize_image(data: bytes, content_type: str, max_pixels: int = MAX_PIXELS) -> bytes:
    """Decodes the image and re-encodes PNG/JPEG/WebP without metadata; returns the bytes to
    store. Raises Invalid("invalid file: ...") for images that do not decode or are too big."""
    return _decode(data, content_type, max_pixels, reencode=True)


def verify_image(data: bytes, content_type: str, max_pixels: int = MAX_PIXELS) -> None:
    """Decodes the image (every frame, up to ``max_pixels`` per frame) without keeping it;
    raises Invalid("invalid file: ...") when it does not decode or is too big."""
    _decode(data, content_type, max_pixels, reencode=False)


MAX_VERIFIED_FRAMES = 1000


def _decode(data: bytes, content_type: str, max_pixels: int, *, reencode: bool) -> bytes:
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise Invalid("invalid file: image dimensions too large")
            image.load()
            if reencode and content_type != "image/gif":
                return _reencode(image, content_type)
            if not reencode:
                frames = int(getattr(image, "n_frames", 1))
                if frames > MAX_VERIFIED_FRAMES:
                    raise Invalid("invalid file: too many animation frames")
                for index in range(1, frames):
                    image.seek(index)
                    image.load()
            return data
    except Invalid:
        raise
    except Image.DecompressionBombError:  # Pillow's own limit, at open() for huge headers
        raise Invalid("invalid file: image dimensions too large") from None
    except Exception:  # Pillow raises many kinds (OSError, SyntaxError, struct.error, ...)
        raise Invalid("invalid file: the image could not be decoded") from None


async def prepare_image(kind: ImageKind, upload: ImageUpload | None) -> tuple[str, bytes]:
    """Checks the upload (``check_upload``), then decodes and cleans it off the event loop;
    returns its content type and the bytes to store."""
    content_type = check_upload(kind, upload)
    assert upload is not None  # check_upload refuses a missing part
    data = await asyncio.to_thread(sanitize_image, upload.data, content_type)
    return content_type, data


def _reencode(image: Image.Image, content_type: str) -> bytes:
    out = io.BytesIO()
    animated = bool(getattr(image, "is_animated", False))
    if content_type == "image/jpeg":
        upright = ImageOps.exif_transpose(image)
        upright.save(
            out,
            "JPEG",
            quality=95,
            comment="",
            icc_profile=image.info.get("icc_profile") or None,
        )
    elif content_type == "image/png":
        image.save(out, "PNG", save_all=animated)
    else:
        image.save(out, "WEBP", quality=90, save_all=animated)
    return out.getvalue()


# -- storage -------------------------------------------------------------------------------


def image_filename(owner_id: uuid.UUID, kind: ImageKind, content_type: str) -> str:
    return f"{owner_id}{kind.suffix}.{EXTENSIONS[content_type]}"


def image_key(kind: ImageKind, filename: str) -> str:
    return f"{kind.folder.name}/{filename}"


# -- URLs ----------------------------------------------------------------------------------

# The public routes that serve uploaded images (community and group assets come with those
# features; their file names have the same shape: "{uuid}{_suffix}.{ext}").
ASSET_ROUTES = ("/api/avatars/", "/api/community-assets/", "/api/group-assets/")
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}"
_OWN_IMAGE_URL = re.compile(
    "(?:" + "|".join(re.escape(route) for route in ASSET_ROUTES) + ")"
    rf"(?:{_UUID})(?:_[a-z]{{1,16}})?\.(?:png|jpg|jpeg|webp|gif)(?:\?v=[0-9]{{1,20}})?"
)


def stored_image_url(kind: ImageKind, filename: str, when: datetime) -> str:
    """The URL an upload stores: the public route, the file name, and a ``?v=`` cache buster
    (the upload time in Unix seconds) so clients fetch a replaced image again."""
    return f"{kind.folder.route}{filename}?v={int(when.timestamp())}"


def is_own_image_url(url: str) -> bool:
    """True when ``url`` has exactly the shape of an image this server stores and serves
    (``/api/avatars/{uuid}[_kind].{ext}`` or a community/group asset, optionally with
    ``?v={digits}``): no other path, no ``..``, no percent-encoding, no other query."""
    return _OWN_IMAGE_URL.fullmatch(url) is not None


async def store_image(
    ctx: Ctx, kind: ImageKind, owner_id: uuid.UUID, content_type: str, data: bytes
) -> str:
    """Stores the image as ``{owner_id}{suffix}.{ext}`` (replacing it atomically); returns the
    file name. The caller holds a lock on the owner's row and calls ``remove_stale_images``
    once the URL points at the new file."""
    filename = image_filename(owner_id, kind, content_type)
    await ctx.storage.put_bytes(image_key(kind, filename), data)
    return filename


async def remove_stale_images(
    ctx: Ctx, kind: ImageKind, owner_id: uuid.UUID, keep: str | None = None
) -> None:
    """Removes this kind's blobs of ``owner_id`` with any extension but ``keep``'s."""
    for ext in sorted(set(EXTENSIONS.values())):
        filename = f"{owner_id}{kind.suffix}.{ext}"
        if filename != keep:
            await ctx.storage.delete(image_key(kind, filename))


async def remove_images(
    ctx: Ctx, owner_id: uuid.UUID, kinds: tuple[ImageKind, ...] = KINDS
) -> None:
    """Removes the owner's stored images of those kinds (missing blobs are fine)."""
    for kind in kinds:
        await remove_stale_images(ctx, kind, owner_id)


# -- serving -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpenImage:
    """An opened stored image; the caller iterates ``read.chunks`` to the end or closes it."""

    read: BlobRead
    media_type: str

    @property
    def size(self) -> int:
        return self.read.size


def media_type_for(filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return _MEDIA_TYPES.get(ext, "application/octet-stream")


async def open_image(ctx: Ctx, folder: ImageFolder, filename: str) -> OpenImage:
    """Opens ``{folder}/{filename}`` for its public endpoint. 400 ``invalid filename`` for names
    that could leave the folder (or are not plain file names), 404 when there is no such blob
    (names starting with a dot, the store's hidden files, are never served)."""
    if ".." in filename or not _SAFE_FILENAME.match(filename):
        raise Invalid("invalid filename")
    if filename.startswith("."):
        raise NotFound(folder.not_found)
    try:
        read = await ctx.storage.open(f"{folder.name}/{filename}")
    except (BlobNotFound, ValueError):
        raise NotFound(folder.not_found) from None
    return OpenImage(read=read, media_type=media_type_for(filename))


async def open_avatar(ctx: Ctx, filename: str) -> OpenImage:
    return await open_image(ctx, AVATARS, filename)
