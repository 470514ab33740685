"""The instance admin's content tools: `/api/admin/purge/*` (hard deletes),
`/api/admin/files*` (list, delete, quarantine), `/api/admin/storage-stats`,
`/api/admin/messages/{id}/(un)quarantine` and `/api/admin/blocked-hashes*`."""

from __future__ import annotations

from typing import Annotated

from litestar import Response, delete, get, post
from litestar.params import FromPath, JSONBody

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import described_query, errors, integer_query
from chatalot.api.params import parse_int, parse_uuid
from chatalot.api.responses import empty
from chatalot.api.routes.search import parse_bool, parse_time
from chatalot.ids import ChannelId, UserId
from chatalot.protocol.api.admin_content import (
    AdminFileOut,
    AdminFilesOut,
    BlockedHashOut,
    BlockHashIn,
    PurgeResultOut,
    StorageStatsOut,
    UploaderUsageOut,
)
from chatalot.protocol.time import rfc3339, rfc3339_or_none
from chatalot.repositories.admin_files import FileFilters
from chatalot.repositories.blocked_hashes import BlockedHashRow
from chatalot.repositories.files import FileRow
from chatalot.services import admin_content as admin_content_service
from chatalot.services.admin_content import PurgeResult

BLOCK_HASHES = described_query(
    "true: also add the checksums of the removed files to the hash blocklist.",
    enum=["true", "false"],
)
PAGE = integer_query(1, 10000)
PER_PAGE = integer_query(1, 100)
SORT = described_query("size: largest first; otherwise newest first.", maxLength=32)
SEARCH = described_query("Only files whose name contains this (any case).", maxLength=512)
CONTENT_TYPE = described_query("Only files whose content type starts with this.", maxLength=128)
DATE = described_query("RFC 3339 date-time (inclusive).", format="date-time")
USER_ID = described_query(format="uuid")


def _purge(result: PurgeResult) -> PurgeResultOut:
    return PurgeResultOut(
        messages_deleted=result.messages_deleted,
        files_deleted=result.files_deleted,
        hashes_blocked=result.hashes_blocked,
    )


def _id(value: object) -> str | None:
    return str(value) if value is not None else None


def _file(row: FileRow) -> AdminFileOut:
    return AdminFileOut(
        id=str(row.id),
        uploader_id=_id(row.uploader_id),
        encrypted_name=row.encrypted_name,
        size_bytes=row.size_bytes,
        content_type=row.content_type,
        checksum=row.checksum,
        channel_id=_id(row.channel_id),
        quarantined_at=rfc3339_or_none(row.quarantined_at),
        quarantined_by=_id(row.quarantined_by),
        created_at=rfc3339(row.created_at),
        has_thumbnail=row.thumbnail_path is not None,
    )


def _blocked(row: BlockedHashRow) -> BlockedHashOut:
    return BlockedHashOut(
        id=str(row.id),
        hash=row.hash,
        reason=row.reason,
        blocked_by=_id(row.blocked_by),
        created_at=rfc3339(row.created_at),
    )


# --- purges -----------------------------------------------------------------------------------


@post("/api/admin/purge/message/{message_id:str}", status_code=200, responses=errors(403, 404))
async def post_purge_message(
    ctx: CtxDep,
    actor: ActorDep,
    message_id: FromPath[str],
    block_hashes: Annotated[str | None, BLOCK_HASHES] = None,
) -> PurgeResultOut:
    result = await admin_content_service.purge_message(
        ctx,
        actor,
        parse_uuid(message_id, "message id"),
        block_hashes=parse_bool(block_hashes, "block_hashes"),
    )
    return _purge(result)


@post("/api/admin/purge/user/{user_id:str}/messages", status_code=200, responses=errors(403, 404))
async def post_purge_user_messages(
    ctx: CtxDep,
    actor: ActorDep,
    user_id: FromPath[str],
    block_hashes: Annotated[str | None, BLOCK_HASHES] = None,
) -> PurgeResultOut:
    result = await admin_content_service.purge_user_messages(
        ctx,
        actor,
        UserId(parse_uuid(user_id, "user id")),
        block_hashes=parse_bool(block_hashes, "block_hashes"),
    )
    return _purge(result)


@post("/api/admin/purge/channel/{channel_id:str}", status_code=200, responses=errors(403, 404))
async def post_purge_channel(
    ctx: CtxDep,
    actor: ActorDep,
    channel_id: FromPath[str],
    block_hashes: Annotated[str | None, BLOCK_HASHES] = None,
) -> PurgeResultOut:
    result = await admin_content_service.purge_channel(
        ctx,
        actor,
        ChannelId(parse_uuid(channel_id, "channel id")),
        block_hashes=parse_bool(block_hashes, "block_hashes"),
    )
    return _purge(result)


# --- files ------------------------------------------------------------------------------------


@get("/api/admin/files", responses=errors(403))
async def list_admin_files(
    ctx: CtxDep,
    actor: ActorDep,
    page: Annotated[str | None, PAGE] = None,
    per_page: Annotated[str | None, PER_PAGE] = None,
    user_id: Annotated[str | None, USER_ID] = None,
    sort: Annotated[str | None, SORT] = None,
    search: Annotated[str | None, SEARCH] = None,
    content_type: Annotated[str | None, CONTENT_TYPE] = None,
    date_from: Annotated[str | None, DATE] = None,
    date_to: Annotated[str | None, DATE] = None,
) -> AdminFilesOut:
    filters = FileFilters(
        uploader_id=UserId(parse_uuid(user_id, "user_id")) if user_id else None,
        name_contains=search or None,
        content_type_prefix=content_type or None,
        created_from=parse_time(date_from, "date_from"),
        created_to=parse_time(date_to, "date_to"),
        largest_first=sort == "size",
    )
    result = await admin_content_service.list_files(
        ctx,
        actor,
        filters,
        page=parse_int(page, "page", default=1, low=1, high=10000),
        per_page=parse_int(per_page, "per_page", default=50, low=1, high=100),
    )
    return AdminFilesOut(
        files=[_file(r) for r in result.files],
        total=result.total,
        page=result.page,
        per_page=result.per_page,
    )


@delete("/api/admin/files/{file_id:str}", status_code=200, responses=errors(403, 404))
async def delete_admin_file(
    ctx: CtxDep,
    actor: ActorDep,
    file_id: FromPath[str],
    block_hashes: Annotated[str | None, BLOCK_HASHES] = None,
) -> Response[bytes]:
    await admin_content_service.delete_file(
        ctx,
        actor,
        parse_uuid(file_id, "file id"),
        block_hashes=parse_bool(block_hashes, "block_hashes"),
    )
    return empty()


@post("/api/admin/files/{file_id:str}/quarantine", status_code=200, responses=errors(403, 404))
async def post_quarantine_file(
    ctx: CtxDep, actor: ActorDep, file_id: FromPath[str]
) -> Response[bytes]:
    await admin_content_service.quarantine_file(ctx, actor, parse_uuid(file_id, "file id"))
    return empty()


@post("/api/admin/files/{file_id:str}/unquarantine", status_code=200, responses=errors(403, 404))
async def post_unquarantine_file(
    ctx: CtxDep, actor: ActorDep, file_id: FromPath[str]
) -> Response[bytes]:
    await admin_content_service.unquarantine_file(ctx, actor, parse_uuid(file_id, "file id"))
    return empty()


@get("/api/admin/storage-stats", responses=errors(403))
async def get_storage_stats(ctx: CtxDep, actor: ActorDep) -> StorageStatsOut:
    stats = await admin_content_service.storage_stats(ctx, actor)
    return StorageStatsOut(
        total_files=stats.total_files,
        total_bytes=stats.total_bytes,
        per_user=[
            UploaderUsageOut(
                user_id=_id(u.user_id), file_count=u.file_count, total_bytes=u.total_bytes
            )
            for u in stats.per_user
        ],
        backend=stats.backend,
    )


# --- messages ---------------------------------------------------------------------------------


@post(
    "/api/admin/messages/{message_id:str}/quarantine", status_code=200, responses=errors(403, 404)
)
async def post_quarantine_message(
    ctx: CtxDep, actor: ActorDep, message_id: FromPath[str]
) -> Response[bytes]:
    await admin_content_service.quarantine_message(ctx, actor, parse_uuid(message_id, "message id"))
    return empty()


@post(
    "/api/admin/messages/{message_id:str}/unquarantine",
    status_code=200,
    responses=errors(403, 404),
)
async def post_unquarantine_message(
    ctx: CtxDep, actor: ActorDep, message_id: FromPath[str]
) -> Response[bytes]:
    await admin_content_service.unquarantine_message(
        ctx, actor, parse_uuid(message_id, "message id")
    )
    return empty()


# --- the hash blocklist -----------------------------------------------------------------------


@get("/api/admin/blocked-hashes", responses=errors(403))
async def list_blocked_hashes(
    ctx: CtxDep,
    actor: ActorDep,
    page: Annotated[str | None, PAGE] = None,
    per_page: Annotated[str | None, PER_PAGE] = None,
) -> list[BlockedHashOut]:
    rows = await admin_content_service.list_blocked_hashes(
        ctx,
        actor,
        page=parse_int(page, "page", default=1, low=1, high=10000),
        per_page=parse_int(per_page, "per_page", default=50, low=1, high=100),
    )
    return [_blocked(r) for r in rows]


@post("/api/admin/blocked-hashes", status_code=200, responses=errors(403))
async def post_blocked_hash(
    ctx: CtxDep, actor: ActorDep, data: JSONBody[BlockHashIn]
) -> BlockedHashOut:
    return _blocked(await admin_content_service.block_hash(ctx, actor, data.hash, data.reason))


@delete("/api/admin/blocked-hashes/{hash_id:str}", status_code=200, responses=errors(403, 404))
async def delete_blocked_hash(
    ctx: CtxDep, actor: ActorDep, hash_id: FromPath[str]
) -> Response[bytes]:
    await admin_content_service.unblock_hash(ctx, actor, parse_uuid(hash_id, "hash id"))
    return empty()


HANDLERS = [
    post_purge_message,
    post_purge_user_messages,
    post_purge_channel,
    list_admin_files,
    delete_admin_file,
    post_quarantine_file,
    post_unquarantine_file,
    get_storage_stats,
    post_quarantine_message,
    post_unquarantine_message,
    list_blocked_hashes,
    post_blocked_hash,
    delete_blocked_hash,
]
