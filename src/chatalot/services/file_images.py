"""Images among uploaded files: metadata stripping and thumbnails (spec ws-auth-ops 5.2).

- JPEG, PNG and WebP are decoded and re-encoded, which drops EXIF (GPS position, camera serial
  numbers), XMP, comments and text chunks, and anything appended after the image (a ZIP
  behind a JPEG: a "polyglot"). JPEG: quality 95, orientation applied to the pixels first (so
  photos stay upright), ICC profile kept. PNG and WebP keep their animation. The original
  stored a re-encoded WebP as PNG bytes under ``image/webp``; we store real WebP (quality 95):
  the bytes then are what the type says, and a photo does not grow several times over.
- Raster images (png, jpeg, gif, webp, bmp) get a JPEG thumbnail that fits 300x300 (Lanczos,
  quality 80, transparency flattened onto white). A thumbnail that fails is logged and
  skipped: the upload still succeeds.
- Decompression bombs: the width and height are read from the header before any pixel is
  decoded; more than ``MAX_PIXELS`` (or, for animations, ``MAX_FRAME_PIXELS`` over all
  frames) is a 400 for the images that must be re-encoded, and no thumbnail for GIF/BMP
  (stored as they are). Pillow is only offered the one format the magic bytes named.

All of this is blocking work (decoding a 50-megapixel photo takes a second and ~150 MB), so it
runs in ``IMAGE_WORKERS`` worker processes (``run_image_work``, ``image_executor``): at most two
images are processed at once, whatever the number of concurrent uploads, the event loop keeps
serving other requests meanwhile (no GIL shared with Pillow), and the workers run at a lower
CPU priority (nice 10). The files go between processes by path, never as bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import logging
import multiprocessing
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool as BrokenExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from PIL import Image, ImageOps

from chatalot.errors import Invalid
from chatalot.services.svg_sanitize import MAX_SVG_BYTES, invalid, sanitize_svg

log = logging.getLogger("chatalot_server")

MAX_PIXELS = 50_000_000
MAX_FRAME_PIXELS = 200_000_000
THUMBNAIL_BOX = (300, 300)
THUMBNAIL_QUALITY = 80
JPEG_QUALITY = 95
WEBP_QUALITY = 95
IMAGE_WORKERS = 2

DECODE_FAILED = "failed to process image metadata — please try a different file"
TOO_LARGE = f"image dimensions too large (max {MAX_PIXELS // 1_000_000} megapixels)"

REENCODED = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
THUMBNAILED = {**REENCODED, "image/gif": "GIF", "image/bmp": "BMP"}
# what a re-encoded image may keep of its decoder's info (animation, transparency, colours)
_KEPT_INFO = ("transparency", "icc_profile", "duration", "loop", "background")

IMAGE_NICENESS = 10


def _lower_priority() -> None:
    """Runs in each image worker: a lower CPU priority than the server's event loop, so the
    loop keeps precedence when the machine is busy (best effort)."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, 0, IMAGE_NICENESS)


def _new_pool() -> Executor:
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    return ProcessPoolExecutor(
        max_workers=IMAGE_WORKERS, mp_context=context, initializer=_lower_priority
    )


_pool: Executor | None = None
T = TypeVar("T")


def image_executor() -> Executor:
    """The image workers: ``IMAGE_WORKERS`` processes, started on first use. Processes, not
    threads: Pillow holds the GIL between its C calls, and two threads decoding photos made
    the event loop wait 10 ms at every turn (p99 of unrelated requests over 100 ms); in
    processes the loop is never held up. A worker that dies (killed for memory, a crash in a
    decoder) breaks the pool, which is then replaced."""
    global _pool
    if _pool is None:
        _pool = _new_pool()
    return _pool


async def run_image_work(work: Callable[[], T], cleanup: Callable[[T], None]) -> T:
    """Runs ``work`` (picklable: a module-level function and its arguments) on the image
    workers. If the caller is cancelled meanwhile (the client went away), ``cleanup``
    receives the result once the work is done (to remove its file)."""
    executor = image_executor()
    try:
        future = asyncio.get_running_loop().run_in_executor(executor, work)
    except BrokenExecutor:
        _replace_broken(executor)
        future = asyncio.get_running_loop().run_in_executor(image_executor(), work)
    try:
        return await asyncio.shield(future)
    except BrokenExecutor:
        _replace_broken(executor)
        log.error("An image worker died while processing an upload; workers restarted")
        raise Invalid(DECODE_FAILED) from None
    except asyncio.CancelledError:

        def discard(done: asyncio.Future[T]) -> None:
            if not done.cancelled() and done.exception() is None:
                cleanup(done.result())

        future.add_done_callback(discard)
        raise


@dataclass(frozen=True, slots=True)
class ProcessedImage:
    path: Path  # what to store: a new file, or the input when it is stored as it is
    thumbnail: bytes | None
    exif_stripped: bool


def _replace_broken(executor: Executor) -> None:
    global _pool
    if _pool is executor:
        _pool = None
    executor.shutdown(wait=False, cancel_futures=True)


def discard_processed(result: ProcessedImage) -> None:
    result.path.unlink(missing_ok=True)


def process_image(source: Path, content_type: str, out_dir: Path) -> ProcessedImage:
    """Blocking. Re-encodes JPEG/PNG/WebP into a new file in ``out_dir`` (the source is then
    removed) and makes the thumbnail; GIF and BMP are kept as they are, with a thumbnail.
    Raises Invalid for an image that must be re-encoded and cannot be."""
    if content_type in REENCODED:
        return _reencode_file(source, content_type, out_dir)
    return ProcessedImage(source, _thumbnail_of_file(source, content_type), exif_stripped=False)


def _reencode_file(source: Path, content_type: str, out_dir: Path) -> ProcessedImage:
    fmt = REENCODED[content_type]
    try:
        with Image.open(source, formats=[fmt]) as image:
            _check_dimensions(image)
            image.load()
            target = _temp_path(out_dir)
            try:
                upright = _reencode(image, fmt, target)
            except BaseException:
                target.unlink(missing_ok=True)
                raise
            thumbnail = _thumbnail(upright, source)
    except Invalid:
        raise
    except Image.DecompressionBombError:  # Pillow's own limit, checked when opening
        raise Invalid(TOO_LARGE) from None
    except Exception:  # Pillow raises many kinds (OSError, SyntaxError, struct.error, bombs...)
        raise Invalid(DECODE_FAILED) from None
    source.unlink(missing_ok=True)
    return ProcessedImage(target, thumbnail, exif_stripped=True)


def _check_dimensions(image: Image.Image) -> None:
    width, height = image.size
    frames = int(getattr(image, "n_frames", 1) or 1)
    if width * height > MAX_PIXELS or width * height * frames > MAX_FRAME_PIXELS:
        raise Invalid(TOO_LARGE)


def _temp_path(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=directory, prefix="image-")
    os.close(fd)
    return Path(name)


def _reencode(image: Image.Image, fmt: str, target: Path) -> Image.Image:
    """Writes ``image`` without metadata to ``target``; returns the image the thumbnail is
    made from (JPEG: turned upright)."""
    image.info = {k: v for k, v in image.info.items() if k in _KEPT_INFO}
    animated = bool(getattr(image, "is_animated", False))
    if fmt == "JPEG":
        upright = ImageOps.exif_transpose(image)
        upright.info = dict(image.info)
        upright.save(
            target,
            "JPEG",
            quality=JPEG_QUALITY,
            exif=b"",
            comment=b"",
            icc_profile=image.info.get("icc_profile") or None,
        )
        return upright
    if fmt == "PNG":
        image.save(target, "PNG", save_all=animated, exif=b"")
    else:
        image.save(target, "WEBP", quality=WEBP_QUALITY, save_all=animated, exif=b"", xmp=b"")
    return image


def _thumbnail_of_file(source: Path, content_type: str) -> bytes | None:
    fmt = THUMBNAILED.get(content_type)
    if fmt is None:
        return None
    try:
        with Image.open(source, formats=[fmt]) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                log.warning("No thumbnail for %s: %dx%d pixels is too large", source, width, height)
                return None
            return _thumbnail(image, source)
    except Exception as err:  # any decoding problem: no thumbnail, the upload goes on
        log.warning("Thumbnail generation failed for %s: %s", source.name, err)
        return None


def _thumbnail(image: Image.Image, source: Path) -> bytes | None:
    """Non-fatal: None (and a warning) when it cannot be made."""
    try:
        with contextlib.suppress(EOFError):
            image.seek(0)
        frame = image.copy() if image.mode != "P" else image.convert("RGBA")
        frame.thumbnail(THUMBNAIL_BOX, Image.Resampling.LANCZOS)
        out = io.BytesIO()
        _flattened(frame).save(out, "JPEG", quality=THUMBNAIL_QUALITY)
        return out.getvalue()
    except Exception as err:
        log.warning("Thumbnail generation failed for %s: %s", source.name, err)
        return None


def _flattened(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


# -- SVG -----------------------------------------------------------------------------------


def sanitize_svg_file(source: Path, out_dir: Path) -> Path:
    """Blocking. The cleaned SVG in a new file of ``out_dir`` (the source is removed)."""
    if source.stat().st_size > MAX_SVG_BYTES:
        raise invalid(f"larger than {MAX_SVG_BYTES // (1024 * 1024)} MB")
    cleaned = sanitize_svg(source.read_bytes())
    target = _temp_path(out_dir)
    target.write_bytes(cleaned)
    source.unlink(missing_ok=True)
    return target


def bound(fn: Callable[..., T], *args: object) -> Callable[[], T]:
    return functools.partial(fn, *args)
