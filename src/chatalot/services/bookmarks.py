"""Bookmarks (spec rest-api 2.16): a user's private marks on messages, with an optional note.

Adding: the note is at most 500 bytes (400 ``note must be at most 500 characters``), the
message exists (404 ``message not found``), the caller is a member of its channel (403;
instance flags are not considered: bookmarks are the caller's own reading). Deleted messages
can be bookmarked (as in the original). A second bookmark of the same message is 409 ``message
already bookmarked`` (the original answered 500), also when two requests race: the unique
(user, message) pair decides.

Listing: the caller's bookmarks, newest first, ``limit`` 1-500, ``offset`` >= 0. Bookmarks of
messages in channels the caller has left since are still listed (and can be deleted): a
bookmark shows only the message id, and the message itself stays behind the channel's history
access. A bookmark disappears with its message when that is purged.

Deleting: only one's own; anyone else's, or an unknown id, is 404 ``bookmark not found``.
"""

from __future__ import annotations

import uuid

from chatalot.context import Ctx
from chatalot.errors import Conflict, Forbidden, NotFound
from chatalot.ids import uuid7
from chatalot.repositories import bookmarks as bookmarks_repo
from chatalot.repositories import channels as channels_repo
from chatalot.repositories import messages as messages_repo
from chatalot.repositories.bookmarks import BookmarkRow
from chatalot.services.actor import Actor
from chatalot.services.validation import check_plain_text, check_size

NOTE_MESSAGE = "note must be at most 500 characters"
MAX_NOTE = 500


def validate_note(note: str | None) -> str | None:
    """Stored as sent (not trimmed, as in the original); line breaks and tabs allowed, other
    control and invisible formatting characters refused."""
    if note is None:
        return None
    check_size(note, "note", MAX_NOTE, NOTE_MESSAGE)
    check_plain_text(note, "note", allow="\r\n\t")
    return note


async def add_bookmark(
    ctx: Ctx, actor: Actor, message_id: uuid.UUID, note: str | None
) -> BookmarkRow:
    note = validate_note(note)
    now = ctx.clock.now()
    async with ctx.db.transaction("add_bookmark") as tx:
        message = await messages_repo.select_message(tx.conn, message_id)
        if message is None:
            raise NotFound("message not found")
        role = await channels_repo.select_channel_role(tx.conn, message.channel_id, actor.user_id)
        if role is None:
            raise Forbidden()
        row = await bookmarks_repo.insert_bookmark(
            tx.conn,
            bookmark_id=uuid7(),
            user_id=actor.user_id,
            message_id=message_id,
            note=note,
            created_at=now,
        )
        if row is None:
            raise Conflict("message already bookmarked")
        return row


async def list_bookmarks(ctx: Ctx, actor: Actor, *, limit: int, offset: int) -> list[BookmarkRow]:
    async with ctx.db.connection() as conn:
        return await bookmarks_repo.list_user_bookmarks(
            conn, actor.user_id, limit=limit, offset=offset
        )


async def delete_bookmark(ctx: Ctx, actor: Actor, bookmark_id: uuid.UUID) -> None:
    async with ctx.db.transaction("delete_bookmark") as tx:
        if not await bookmarks_repo.delete_bookmark(tx.conn, bookmark_id, actor.user_id):
            raise NotFound("bookmark not found")
