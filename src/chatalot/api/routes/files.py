"""Files: ``POST /api/files/upload`` (multipart, streamed to disk), ``GET /api/files/{id}``
(the bytes, with HTTP range requests), ``GET /api/files/{id}/meta``, ``GET
/api/files/{id}/thumb`` and ``DELETE /api/files/{id}``. Rules in services/files.py and
services/file_upload.py.

Downloads answer ``Accept-Ranges: bytes`` and honour one range (``bytes=a-b``, ``bytes=a-``,
``bytes=-n``) with 206 and ``Content-Range``; a range that starts past the end is 416 with
``Content-Range: bytes */{size}``; several ranges, or a header that does not parse, get the
whole file (200), as RFC 9110 allows.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, delete, get, post
from litestar.params import FromPath
from litestar.response import Stream

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.errors import error_response
from chatalot.api.multipart_spool import TextPart, spool_upload
from chatalot.api.openapi import binary_part, binary_response, errors, multipart
from chatalot.api.params import parse_uuid
from chatalot.api.responses import empty
from chatalot.errors import ErrorCode
from chatalot.protocol.api.files import FileMetadataOut, UploadOut
from chatalot.protocol.time import rfc3339
from chatalot.services import file_upload
from chatalot.services import files as files_service
from chatalot.services.file_upload import MIB, UploadForm
from chatalot.services.files import StoredBlob
from chatalot.storage.base import BlobRead

# the multipart framing and the small text parts, beyond the file itself
FRAMING_BYTES = 64 * 1024
MAX_CHANNEL_ID_BYTES = 64

UPLOAD_PARTS = multipart(
    required=("file",),
    file=binary_part(),
    name={
        "type": "string",
        "maxLength": file_upload.MAX_NAME_BYTES,
        "description": "The file's name as shown to people (at most 512 UTF-8 bytes; "
        "default `unnamed`). Stored and returned as given; never used as a path.",
    },
    channel_id={
        "type": "string",
        "format": "uuid",
        "description": "The channel the file is shared in (then only its members may read "
        "it). A value that is not a UUID counts as absent.",
    },
)


@post(
    "/api/files/upload",
    status_code=200,
    request_max_body_size=None,  # MAX_FILE_SIZE_MB is configuration: checked while reading
    responses=errors(403),
    opt=UPLOAD_PARTS,
)
async def upload_file(ctx: CtxDep, actor: ActorDep, request: Request[Any, Any, Any]) -> UploadOut:
    """The file is spooled to disk while it arrives (never held in memory) and refused as
    soon as it passes ``MAX_FILE_SIZE_MB`` (400 ``file too large (max N MB)``; a request
    whose Content-Length already says so: 413 with that message)."""
    max_mb = ctx.settings.max_file_size_mb
    too_large = file_upload.too_large_message(max_mb)
    spooled = await spool_upload(
        request,
        spool_dir=file_upload.spool_dir(ctx),
        file_field="file",
        max_file_bytes=max_mb * MIB,
        max_body_bytes=max_mb * MIB + FRAMING_BYTES,
        file_too_large=too_large,
        texts={
            "name": TextPart(file_upload.MAX_NAME_BYTES, file_upload.NAME_TOO_LONG),
            "channel_id": TextPart(MAX_CHANNEL_ID_BYTES, None),
        },
    )
    form = UploadForm(
        file=spooled.file,
        name=spooled.texts.get("name"),
        channel_id=spooled.texts.get("channel_id"),
    )
    row = await file_upload.upload_file(ctx, actor, form)
    return UploadOut(id=str(row.id), size_bytes=row.size_bytes, created_at=rfc3339(row.created_at))


# -- downloads -----------------------------------------------------------------------------

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_UNSAFE_NAME_CHARS = re.compile(r"[\x00-\x1f\x7f\\]")


def parse_range(header: str | None, size: int) -> tuple[int, int] | bool | None:
    """``(start, end)`` (end exclusive) of a satisfiable single range; None for no range (or
    one to ignore: several ranges, bad syntax); False when it cannot be satisfied."""
    if header is None:
        return None
    match = _RANGE.match(header.strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match[1], match[2]
    if not first and not last:
        return None
    if not first:  # the last n bytes
        count = int(last)
        if count == 0 or size == 0:
            return False
        return max(size - count, 0), size
    start = int(first)
    if last and int(last) < start:
        return None  # invalid: ignored
    if start >= size:
        return False
    end = size if not last else min(int(last) + 1, size)
    return start, end


def content_disposition(kind: str, name: str) -> str:
    """``attachment; filename="..."`` as the original (``"`` -> ``'``, CR/LF -> ``_``), with
    the other control characters and ``\\`` also replaced (they would break the header), and
    a name that is not ASCII given as ``filename*`` (RFC 6266) beside an ASCII fallback."""
    safe = _UNSAFE_NAME_CHARS.sub("_", name.replace('"', "'"))
    if safe.isascii():
        return f'{kind}; filename="{safe}"'
    fallback = "".join(c if c.isascii() else "_" for c in safe)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(safe, safe='')}"


async def _chunks(read: BlobRead) -> AsyncIterator[bytes]:
    try:
        async for chunk in read.chunks:
            yield chunk
    finally:
        await read.close()


async def _serve(
    ctx: Any,
    blob: StoredBlob,
    range_header: str | None,
    headers: dict[str, str],
    media_type: str,
) -> Response[Any]:
    wanted = parse_range(range_header, blob.size)
    if wanted is False:
        return error_response(
            416,
            ErrorCode.RANGE_NOT_SATISFIABLE.value,
            "range not satisfiable",
            headers={"Content-Range": f"bytes */{blob.size}", "Accept-Ranges": "bytes"},
        )
    start, end = wanted if isinstance(wanted, tuple) else (0, blob.size)
    read = await files_service.open_blob(ctx, blob, start, end)
    headers = {**headers, "Accept-Ranges": "bytes", "Content-Length": str(end - start)}
    status = 200
    if isinstance(wanted, tuple):
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{blob.size}"
    return Stream(_chunks(read), status_code=status, headers=headers, media_type=media_type)


@get(
    "/api/files/{file_id:str}",
    responses={
        **binary_response(
            "*/*", "The file, with the type detected at upload (206: the requested range)."
        ),
        **errors(403, 404, 416),
    },
)
async def download_file(
    ctx: CtxDep, actor: ActorDep, file_id: FromPath[str], request: Request[Any, Any, Any]
) -> Response[Any]:
    blob = await files_service.file_for_download(ctx, actor, parse_uuid(file_id, "file id"))
    headers = {
        "Cache-Control": "private, no-store",
        "Content-Disposition": content_disposition("attachment", blob.row.encrypted_name),
    }
    media_type = blob.row.content_type or "application/octet-stream"
    return await _serve(ctx, blob, request.headers.get("range"), headers, media_type)


@get(
    "/api/files/{file_id:str}/thumb",
    responses={
        **binary_response("image/jpeg", "The JPEG thumbnail (fits 300x300)."),
        **errors(403, 404, 416),
    },
)
async def download_thumbnail(
    ctx: CtxDep, actor: ActorDep, file_id: FromPath[str], request: Request[Any, Any, Any]
) -> Response[Any]:
    blob = await files_service.thumbnail_for_download(ctx, actor, parse_uuid(file_id, "file id"))
    headers = {"Cache-Control": "private, max-age=3600", "Content-Disposition": "inline"}
    media_type = "image/svg+xml" if blob.row.content_type == "image/svg+xml" else "image/jpeg"
    return await _serve(ctx, blob, request.headers.get("range"), headers, media_type)


@get("/api/files/{file_id:str}/meta", responses=errors(403, 404))
async def get_file_meta(ctx: CtxDep, actor: ActorDep, file_id: FromPath[str]) -> FileMetadataOut:
    row = await files_service.file_metadata(ctx, actor, parse_uuid(file_id, "file id"))
    return FileMetadataOut(
        id=str(row.id),
        uploader_id=str(row.uploader_id) if row.uploader_id else None,
        encrypted_name=row.encrypted_name,
        size_bytes=row.size_bytes,
        content_type=row.content_type,
        checksum=row.checksum,
        created_at=rfc3339(row.created_at),
    )


@delete("/api/files/{file_id:str}", status_code=200, responses=errors(403, 404))
async def delete_file(ctx: CtxDep, actor: ActorDep, file_id: FromPath[str]) -> Response[bytes]:
    await files_service.delete_file(ctx, actor, parse_uuid(file_id, "file id"))
    return empty()


HANDLERS = [upload_file, download_file, download_thumbnail, get_file_meta, delete_file]
