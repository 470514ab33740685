"""Reading the multipart/form-data body of the image upload routes (avatars, community and
group assets, custom emoji) as a stream.

Only the wanted parts are kept, each cut at its limit + 1 byte: the service sees that it is
too large and refuses it with its own message, and reading stops at once when a part marked
``stop`` overflows, so an over-size upload is never held in memory (nor spooled to disk) in
full. A request that is not multipart, or is broken multipart, is a 400 ``multipart error``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from litestar import Request, post
from litestar.response import Stream
from multipart import (  # type: ignore[import-untyped]  # no type information shipped
    MultipartError,
    MultipartSegment,
    PushMultipartParser,
)

from chatalot.api.openapi import IMAGE_PART, described_path, errors, multipart
from chatalot.errors import Invalid
from chatalot.services import images
from chatalot.services.images import ImageUpload, OpenImage

MAX_PARTS = 16
# An image is limited to MAX_IMAGE_BYTES by the part reader (with a message naming the image);
# the request as a whole may carry that plus the multipart framing and small fields.
UPLOAD_BODY_BYTES = images.MAX_IMAGE_BYTES + 1024 * 1024
# The file name of a public image route (documented shape; the service checks it).
ASSET_FILENAME = described_path(
    pattern="^[A-Za-z0-9_-]{1,64}(\\.[A-Za-z0-9_-]{1,16}){0,2}$", maxLength=200
)


def image_upload_route(path: str, field: str, *, statuses: tuple[int, ...] = (403, 404)) -> post:
    """POST ``path``: a multipart upload of one image in the part ``field`` (avatars, banners,
    community and group images, voice backgrounds), answering ``statuses`` besides 200."""
    return post(
        path,
        status_code=200,
        request_max_body_size=UPLOAD_BODY_BYTES,
        responses=errors(*statuses),
        opt=multipart(required=(field,), **{field: IMAGE_PART}),
    )


@dataclass(frozen=True, slots=True)
class PartLimit:
    limit: int  # bytes kept: at most limit + 1 (one more tells "too large")
    stop: bool = True  # stop reading the request as soon as this part is too large


class _PartsReader:
    """Collects the body of the last part of each wanted name."""

    def __init__(self, limits: Mapping[str, PartLimit]) -> None:
        self.limits = limits
        self.found: dict[str, ImageUpload] = {}
        self.stopped = False
        self._name: str | None = None
        self._content_type: str | None = None
        self._buffer: bytearray | None = None

    def feed(self, event: Any) -> None:
        if isinstance(event, MultipartSegment):
            wanted = event.name in self.limits
            self._name = event.name if wanted else None
            self._buffer = bytearray() if wanted else None
            self._content_type = event.content_type if wanted else None
        elif event is None:
            if self._buffer is not None and self._name is not None:
                self.found[self._name] = ImageUpload(self._content_type, bytes(self._buffer))
            self._buffer = None
        elif self._buffer is not None and self._name is not None:
            rule = self.limits[self._name]
            self._buffer.extend(event[: max(0, rule.limit + 1 - len(self._buffer))])
            if len(self._buffer) > rule.limit and rule.stop:
                self.found[self._name] = ImageUpload(self._content_type, bytes(self._buffer))
                self.stopped = True


async def read_parts(
    request: Request[Any, Any, Any], limits: Mapping[str, PartLimit]
) -> dict[str, ImageUpload]:
    """The last part of each name in ``limits`` that the body has (missing ones are absent).
    An over-size ``stop`` part ends the reading: it is returned cut at its limit + 1 bytes and
    later parts are not read."""
    media_type, options = request.content_type
    if media_type != "multipart/form-data":
        raise Invalid("multipart error: expected a multipart/form-data request")
    boundary = options.get("boundary")
    if not boundary:
        raise Invalid("multipart error: missing boundary")
    reader = _PartsReader(limits)
    try:
        parser = PushMultipartParser(boundary, max_segment_count=MAX_PARTS)
        async for chunk in request.stream():
            if not chunk:
                continue
            for event in parser.parse(chunk):
                reader.feed(event)
                if reader.stopped:
                    parser.close(check_complete=False)
                    return reader.found
            if parser.closed:
                break
        if not parser.closed:
            parser.close()  # raises when the stream ended in the middle
    except MultipartError as exc:
        raise Invalid(f"multipart error: {exc}") from None
    return reader.found


async def read_image_part(request: Request[Any, Any, Any], field: str) -> ImageUpload | None:
    """The last file part named ``field``, or None. An over-size part is returned cut at
    MAX_IMAGE_BYTES + 1 bytes (the service refuses it) without reading the rest."""
    parts = await read_parts(request, {field: PartLimit(images.MAX_IMAGE_BYTES)})
    return parts.get(field)


def image_stream(image: OpenImage, cache_control: str = "public, max-age=3600") -> Stream:
    """The response serving a stored image (avatars, community and group assets, emoji)."""
    return Stream(
        image.read.chunks,
        media_type=image.media_type,
        headers={"Cache-Control": cache_control, "Content-Length": str(image.size)},
    )
