"""Custom emoji: uploading one to a community, deleting one, and serving its image to anyone
(spec rest-api 2.5, ws-auth-ops 5.5). The list a member sees: services/communities.py.

Uploads and deletions are for community managers (owner, admin, instance staff). Checks in the
original's order: at most 50 emoji per community, the file at most 256 KiB, a ``file`` part
with a Content-Type, a ``shortcode`` part, the declared type png, gif or webp, the shortcode
(trimmed) 2-32 characters of ``[A-Za-z0-9_]``.

Ours beyond the original:
- the bytes must start like the declared type and decode (every frame; at most 16 megapixels
  per frame, checked before decoding), in a worker thread; the original stored anything;
- a duplicate shortcode is a 409 (the original answered 500), also when two uploads race;
- the 50-emoji cap holds under concurrent uploads (the community row is locked while counting
  and inserting);
- an upload that fails after its image was stored removes the image again; deleting an emoji
  removes its image once the row is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from chatalot.context import Ctx
from chatalot.errors import Conflict, Invalid, NotFound
from chatalot.ids import CommunityId, uuid7
from chatalot.repositories import emojis as emojis_repo
from chatalot.repositories.communities import CustomEmojiRow
from chatalot.services import images, permissions
from chatalot.services.actor import Actor
from chatalot.services.images import ImageUpload
from chatalot.storage.base import BlobNotFound, StorageUnavailable

MAX_EMOJI_BYTES = 262_144
MAX_EMOJIS_PER_COMMUNITY = 50
MAX_EMOJI_PIXELS = 4096 * 4096
MAX_SHORTCODE_PART_BYTES = 1024
EXTENSIONS = {"image/png": "png", "image/gif": "gif", "image/webp": "webp"}
_SHORTCODE = re.compile(r"[A-Za-z0-9_]{2,32}")

CAP_MESSAGE = f"maximum {MAX_EMOJIS_PER_COMMUNITY} emojis per community"
TOO_LARGE = "emoji too large (max 256KB)"
INVALID_TYPE = "invalid image type (allowed: png, gif, webp)"
SHORTCODE_MESSAGE = "shortcode must be 2-32 alphanumeric/underscore characters"
DUPLICATE_MESSAGE = "an emoji with this shortcode already exists in this community"


@dataclass(frozen=True, slots=True)
class EmojiParts:
    """The multipart parts of an upload (None: the part was missing)."""

    file: ImageUpload | None
    shortcode: ImageUpload | None


def emoji_key(emoji_id: uuid.UUID, content_type: str) -> str | None:
    """``emojis/{id}.{ext}``, where the original stored them too; None for a type we never
    store."""
    ext = EXTENSIONS.get(content_type)
    return f"emojis/{emoji_id}.{ext}" if ext else None


def check_parts(parts: EmojiParts) -> tuple[str, str, bytes]:
    """Content type, shortcode and bytes of a valid upload (Invalid otherwise)."""
    upload = parts.file
    if upload is not None and len(upload.data) > MAX_EMOJI_BYTES:
        raise Invalid(TOO_LARGE)
    if upload is None:
        raise Invalid("no file field")
    if upload.content_type is None:
        raise Invalid("missing content type")
    if parts.shortcode is None:
        raise Invalid("shortcode is required")
    content_type = images.declared_type(upload.content_type)
    if content_type not in EXTENSIONS:
        raise Invalid(INVALID_TYPE)
    try:
        shortcode = parts.shortcode.data.decode().strip()
    except UnicodeDecodeError:
        raise Invalid(SHORTCODE_MESSAGE) from None
    if not _SHORTCODE.fullmatch(shortcode):
        raise Invalid(SHORTCODE_MESSAGE)
    images.check_magic(upload.data, content_type)
    return content_type, shortcode, upload.data


async def _precheck(ctx: Ctx, actor: Actor, community_id: CommunityId) -> None:
    async with ctx.db.connection() as conn:
        (await permissions.access_community(conn, actor, community_id)).require_manager()
        if await emojis_repo.count_emojis(conn, community_id) >= MAX_EMOJIS_PER_COMMUNITY:
            raise Invalid(CAP_MESSAGE)


async def create_emoji(
    ctx: Ctx,
    actor: Actor,
    community_id: CommunityId,
    read: Callable[[], Awaitable[EmojiParts]],
) -> CustomEmojiRow:
    """comm-manager. ``read`` reads the request's parts; it is called only once the caller is
    known to be allowed and the community has room."""
    await _precheck(ctx, actor, community_id)
    content_type, shortcode, data = check_parts(await read())
    await asyncio.to_thread(images.verify_image, data, content_type, MAX_EMOJI_PIXELS)
    emoji_id = uuid7()
    key = emoji_key(emoji_id, content_type)
    assert key is not None  # check_parts allows only stored types
    stored = False
    try:
        async with ctx.db.transaction("create_emoji") as tx:
            access = await permissions.access_community(tx.conn, actor, community_id)
            access.require_manager()
            if not await emojis_repo.lock_community_emojis(tx.conn, community_id):
                raise NotFound("community not found")
            if await emojis_repo.count_emojis(tx.conn, community_id) >= MAX_EMOJIS_PER_COMMUNITY:
                raise Invalid(CAP_MESSAGE)
            row = await emojis_repo.insert_emoji(
                tx.conn,
                emoji_id=emoji_id,
                community_id=community_id,
                shortcode=shortcode,
                file_path=key,
                content_type=content_type,
                uploaded_by=actor.user_id,
            )
            if row is None:
                raise Conflict(DUPLICATE_MESSAGE)
            stored = True
            await ctx.storage.put_bytes(key, data)
    except BaseException:
        if stored:
            with contextlib.suppress(StorageUnavailable):
                await asyncio.shield(ctx.storage.delete(key))
        raise
    return row


async def delete_emoji(
    ctx: Ctx, actor: Actor, community_id: CommunityId, emoji_id: uuid.UUID
) -> None:
    """comm-manager; 404 for an emoji of another community. The image goes after the row."""
    async with ctx.db.transaction("delete_emoji") as tx:
        (await permissions.access_community(tx.conn, actor, community_id)).require_manager()
        row = await emojis_repo.delete_emoji(tx.conn, community_id, emoji_id)
        if row is None:
            raise NotFound("emoji not found")
    key = emoji_key(row.id, row.content_type)
    if key is not None:
        await ctx.storage.delete(key)


async def open_emoji(ctx: Ctx, emoji_id: uuid.UUID) -> images.OpenImage:
    """Anyone (the public image route): the emoji's image with its stored content type."""
    async with ctx.db.connection() as conn:
        row = await emojis_repo.select_emoji_file(conn, emoji_id)
    if row is None:
        raise NotFound("emoji not found")
    key = emoji_key(row.id, row.content_type)
    if key is None:
        raise NotFound("emoji file not found")
    try:
        read = await ctx.storage.open(key)
    except BlobNotFound:
        raise NotFound("emoji file not found") from None
    return images.OpenImage(read=read, media_type=row.content_type)
