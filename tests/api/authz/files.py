"""/api/files: upload (any user), and reading/deleting a file "user" uploaded outside any
channel (the uploader or instance admins; anyone else 403)."""

from __future__ import annotations

import uuid
from typing import Any

from chatalot.context import Ctx
from tests.api.authz import Case, any_user

FILE_ID = uuid.UUID("01900000-0000-7000-8000-00000000f11e")
KEY = f"{str(FILE_ID)[:2]}/{FILE_ID}"


async def user_file(ctx: Ctx, callers: dict[str, Any]) -> None:
    """FILE_ID: uploaded by "user", no channel, with a thumbnail."""
    await ctx.storage.put_bytes(KEY, b"matrix file")
    await ctx.storage.put_bytes(f"{KEY}_thumb", b"\xff\xd8\xff thumbnail")
    async with ctx.db.transaction("matrix_file") as tx:
        await tx.conn.execute(
            "INSERT INTO files (id, uploader_id, encrypted_name, size_bytes, content_type,"
            " storage_path, checksum, thumbnail_path)"
            " VALUES ($1, $2, 'm.txt', 11, 'text/plain', $3, 'x', $4)",
            FILE_ID,
            callers["user"].id,
            KEY,
            f"{KEY}_thumb",
        )


def uploader_or_admin(status: int) -> dict[str, int]:
    return {**any_user(status), "other": 403}


CASES = [
    Case(
        "POST",
        "/api/files/upload",
        "/api/files/upload",
        any_user(200),
        files={"file": ("m.txt", b"matrix upload", "text/plain")},
        data={"name": "m.txt"},
    ),
    Case(
        "GET",
        "/api/files/{file_id:str}",
        f"/api/files/{FILE_ID}",
        uploader_or_admin(200),
        setup=user_file,
    ),
    Case("GET", "/api/files/{file_id:str}", "/api/files/{random}", any_user(404)),
    Case(
        "GET",
        "/api/files/{file_id:str}/meta",
        f"/api/files/{FILE_ID}/meta",
        uploader_or_admin(200),
        setup=user_file,
    ),
    Case(
        "GET",
        "/api/files/{file_id:str}/thumb",
        f"/api/files/{FILE_ID}/thumb",
        uploader_or_admin(200),
        setup=user_file,
    ),
    Case(
        "DELETE",
        "/api/files/{file_id:str}",
        f"/api/files/{FILE_ID}",
        uploader_or_admin(200),
        setup=user_file,
    ),
    Case("DELETE", "/api/files/{file_id:str}", "/api/files/{random}", any_user(404)),
]
