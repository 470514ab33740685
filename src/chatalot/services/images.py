"""Profile images (avatars, banners, voice-call backgrounds): checking, cleaning, storing and
serving the files under ``{FILE_STORAGE_PATH}/avatars/``.

An upload must declare png, jpeg, webp or gif, be at most 10 MiB, and its first bytes must be
that same type. PNG, JPEG and WebP are decoded and re-encoded with Pillow, which drops EXIF
(GPS position, camera serial numbers), XMP and comments; JPEG orientation is applied to the
pixels first, so photos stay upright. GIFs are checked for decodability and stored as they are.

Files are written atomically (a temporary name in the same directory, then ``os.replace``), so
a reader never sees half an image; the temporary names contain ``~``, which the public
endpoint never serves. Blocking work (Pillow, disk) runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from stat import S_ISREG
from typing import BinaryIO

from PIL import Image, ImageOps

from chatalot.context import Ctx
from chatalot.errors import Invalid, NotFound
from chatalot.ids import UserId

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


@dataclass(frozen=True, slots=True)
class ImageUpload:
    """One uploaded image part: its declared Content-Type (None when the part had none) and
    its bytes (the edge reads at most MAX_IMAGE_BYTES + 1 of them)."""

    content_type: str | None
    data: bytes


@dataclass(frozen=True, slots=True)
class ImageKind:
    field: str  # multipart part name
    suffix: str  # file name after the user id: "{user_id}{suffix}.{ext}"
    too_large: str  # the original's message


AVATAR = ImageKind("avatar", "", "avatar too large (max 10 MB)")
BANNER = ImageKind("banner", "_banner", "banner too large (max 10 MB)")
VOICE_BACKGROUND = ImageKind("background", "_voicebg", "file too large (max 10 MB)")
KINDS = (AVATAR, BANNER, VOICE_BACKGROUND)


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
    content_type = upload.content_type.split(";", 1)[0].strip().lower()
    if content_type not in EXTENSIONS:
        raise Invalid("invalid image type (allowed: png, jpg, webp, gif)")
    if not upload.data:
        raise Invalid("invalid file: empty file")
    if detect_image_type(upload.data) != content_type:
        raise Invalid("file content does not match declared image type")
    return content_type


def sanitize_image(data: bytes, content_type: str) -> bytes:
    """Decodes the image and re-encodes PNG/JPEG/WebP without metadata; returns the bytes to
    store. Raises Invalid("invalid file: ...") for images that do not decode or are too big."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise Invalid("invalid file: image dimensions too large")
            image.load()
            if content_type == "image/gif":
                return data
            return _reencode(image, content_type)
    except Invalid:
        raise
    except Exception:  # Pillow raises many kinds (OSError, SyntaxError, struct.error, bombs...)
        raise Invalid("invalid file: the image could not be decoded") from None


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


def avatars_dir(ctx: Ctx) -> Path:
    return ctx.settings.file_storage_path / "avatars"


def image_filename(user_id: UserId, kind: ImageKind, content_type: str) -> str:
    return f"{user_id}{kind.suffix}.{EXTENSIONS[content_type]}"


# -- URLs ----------------------------------------------------------------------------------

# The public routes that serve uploaded images (community and group assets come with those
# features; their file names have the same shape: "{uuid}{_suffix}.{ext}").
ASSET_ROUTES = ("/api/avatars/", "/api/community-assets/", "/api/group-assets/")
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}"
_OWN_IMAGE_URL = re.compile(
    "(?:" + "|".join(re.escape(route) for route in ASSET_ROUTES) + ")"
    rf"(?:{_UUID})(?:_[a-z]{{1,16}})?\.(?:png|jpg|jpeg|webp|gif)(?:\?v=[0-9]{{1,20}})?"
)


def stored_image_url(filename: str, when: datetime) -> str:
    """The URL an upload stores: the public route, the file name, and a ``?v=`` cache buster
    (the upload time in Unix seconds) so clients fetch a replaced image again."""
    return f"/api/avatars/{filename}?v={int(when.timestamp())}"


def is_own_image_url(url: str) -> bool:
    """True when ``url`` has exactly the shape of an image this server stores and serves
    (``/api/avatars/{uuid}[_kind].{ext}`` or a community/group asset, optionally with
    ``?v={digits}``): no other path, no ``..``, no percent-encoding, no other query."""
    return _OWN_IMAGE_URL.fullmatch(url) is not None


def store_image(
    directory: Path, user_id: UserId, kind: ImageKind, filename: str, data: bytes
) -> None:
    """Writes ``filename`` atomically, then removes this kind's files with other extensions."""
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="~upload-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # public images, served to anyone anyway
        os.replace(tmp, directory / filename)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    for ext in set(EXTENSIONS.values()):
        stale = f"{user_id}{kind.suffix}.{ext}"
        if stale != filename:
            (directory / stale).unlink(missing_ok=True)


def remove_images(directory: Path, user_id: UserId, kinds: tuple[ImageKind, ...] = KINDS) -> None:
    """Removes the user's stored images of those kinds (missing files are fine)."""
    for kind in kinds:
        for ext in set(EXTENSIONS.values()):
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                (directory / f"{user_id}{kind.suffix}.{ext}").unlink()


# -- serving -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpenImage:
    """An opened stored image; the caller reads and closes ``handle``."""

    handle: BinaryIO
    size: int
    media_type: str


def media_type_for(filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return _MEDIA_TYPES.get(ext, "application/octet-stream")


async def open_avatar(ctx: Ctx, filename: str) -> OpenImage:
    """Opens ``avatars/{filename}`` for the public endpoint. 400 for names that could leave
    the directory (or are not plain file names), 404 when there is no such file."""
    if ".." in filename or not _SAFE_FILENAME.match(filename):
        raise Invalid("invalid filename")
    path = avatars_dir(ctx) / filename
    try:
        return await asyncio.to_thread(_open_regular_file, path, media_type_for(filename))
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        raise NotFound("avatar not found") from None


def _open_regular_file(path: Path, media_type: str) -> OpenImage:
    handle = path.open("rb")
    try:
        info = os.fstat(handle.fileno())
        if not S_ISREG(info.st_mode):
            raise FileNotFoundError(str(path))
    except BaseException:
        handle.close()
        raise
    return OpenImage(handle=handle, size=info.st_size, media_type=media_type)
