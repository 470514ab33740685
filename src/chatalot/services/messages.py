"""Messages: sending, editing and deleting (WebSocket frames) and reading (REST).

``send_message`` follows the original's pipeline (spec ws-auth-ops 1.14) in order, so the
client sees the same first error: sizes, membership (and channel ban), channel, privilege,
non-DM: archived -> read-only -> slow mode -> timeout (non-privileged only), DM: blocks -> shared
community, reply_to / thread_id in the same channel, message type, gallery root posts. The
insert and the slow-mode slot (an upsert that only succeeds when the previous send is old
enough: two concurrent sends cannot both pass) are one transaction.

The insert (and an edit's update) also writes the message's search columns: its folded text
when the server can read it, else "not indexable" (services/search_text.py, migration 046).

After commit: the ``on_stored`` callback (the session's ``message_sent`` reply, pushed after
the commit and before any event), then ``new_message``: non-DM to the channel's subscribers, DM
to every session of the other member(s), preceded by ``new_dm_channel`` when it is the DM's
first message; Web Push for recipients with no live session starts in the background
(services/push.py).

WebSocket refusals raise ``Refused(code, message)`` with the spec's texts (1.9); REST reads
raise the usual ``Forbidden`` / ``NotFound``.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from chatalot.context import Ctx
from chatalot.db.database import Conn, Tx
from chatalot.errors import Forbidden, NotFound
from chatalot.ids import ChannelId, UserId, uuid7
from chatalot.protocol import events
from chatalot.protocol.time import rfc3339
from chatalot.repositories import blocks as blocks_repo
from chatalot.repositories import channels as channels_repo
from chatalot.repositories import communities as communities_repo
from chatalot.repositories import messages as messages_repo
from chatalot.repositories import users as users_repo
from chatalot.repositories.channels import ChannelRow
from chatalot.repositories.messages import EditRow, MessageRow, ReactionGroup, ThreadStats
from chatalot.repositories.search import NOT_INDEXABLE
from chatalot.services import permissions
from chatalot.services import push as push_service
from chatalot.services.actor import Actor
from chatalot.services.audience import ChannelSubscribers, Users
from chatalot.services.moderation import active_timeout
from chatalot.services.search_index import search_language
from chatalot.services.search_text import searchable_text

MAX_CIPHERTEXT = 65_536
MAX_NONCE = 256
EDIT_WINDOW = timedelta(seconds=900)
SENDABLE_TYPES = ("text", "file")
DEFAULT_PAGE = 50
MAX_PAGE = 100

NOT_A_MEMBER = "not a member of this channel"


class Refused(Exception):
    """A WebSocket message frame refused: ``code`` and ``message`` as in spec 1.9."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _check_sizes(ciphertext: bytes, nonce: bytes) -> None:
    if not ciphertext:
        raise Refused("validation_error", "message cannot be empty")
    if len(ciphertext) > MAX_CIPHERTEXT:
        raise Refused("validation_error", "message too large")
    if not nonce:
        raise Refused("validation_error", "nonce cannot be empty")
    if len(nonce) > MAX_NONCE:
        raise Refused("validation_error", "nonce too large")


def _seconds_left(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds()))


@dataclass(frozen=True, slots=True)
class SendRequest:
    channel_id: ChannelId
    ciphertext: bytes
    nonce: bytes
    message_type: str
    reply_to: uuid.UUID | None = None
    sender_key_id: uuid.UUID | None = None
    thread_id: uuid.UUID | None = None


def new_message_event(row: MessageRow) -> events.NewMessage:
    return events.NewMessage(
        id=str(row.id),
        channel_id=str(row.channel_id),
        sender_id=str(row.sender_id),
        ciphertext=list(row.ciphertext),
        nonce=list(row.nonce),
        message_type=row.message_type,
        reply_to=str(row.reply_to_id) if row.reply_to_id else None,
        sender_key_id=str(row.sender_key_id) if row.sender_key_id else None,
        created_at=rfc3339(row.created_at),
        thread_id=str(row.thread_id) if row.thread_id else None,
    )


async def _check_channel(
    conn: Conn,
    actor: Actor,
    channel: ChannelRow,
    stored_role: str,
    now: datetime,
    timed_out_until: datetime | None,
) -> None:
    """Non-DM: archived (everyone) -> read-only -> slow mode -> timeout (non-privileged)."""
    role = permissions.channel_effective_role(actor, stored_role)
    privileged = permissions.is_channel_moderator(role)
    if channel.archived:
        raise Refused("archived", "this channel is archived")
    if privileged:
        return
    if channel.read_only:
        raise Refused("read_only", "this channel is read-only")
    if channel.slow_mode_seconds > 0:
        blocking = await messages_repo.claim_slowmode_slot(
            conn, channel.id, actor.user_id, now, channel.slow_mode_seconds
        )
        if blocking is not None:
            wait = _seconds_left(blocking + timedelta(seconds=channel.slow_mode_seconds), now)
            raise Refused("slow_mode", f"slow mode: wait {wait} seconds")
    if timed_out_until is not None:
        left = _seconds_left(timed_out_until, now)
        raise Refused("timed_out", f"you are timed out for {left} more seconds")


async def _check_dm(conn: Conn, actor: Actor, channel_id: ChannelId) -> list[UserId]:
    """DM: no block either way, still a shared community; the other member(s)."""
    members = await channels_repo.list_member_ids(conn, channel_id)
    others = [m for m in members if m != actor.user_id]
    for other in others:
        if await blocks_repo.exists_block_between(conn, user_a=actor.user_id, user_b=other):
            raise Refused("blocked", "cannot send messages to this user")
        if not await communities_repo.exists_shared_community(conn, actor.user_id, other):
            raise Refused("forbidden", "you no longer share a community with this user")
    return others


async def _check_content(conn: Conn, request: SendRequest, channel: ChannelRow) -> uuid.UUID | None:
    """reply_to and thread root in this channel, the type, gallery roots; the thread to store
    (a reply inside a thread is stored in that thread's root)."""
    if request.reply_to is not None:
        target = await messages_repo.select_message(conn, request.reply_to)
        if target is None:
            raise Refused("validation_error", "replied-to message not found")
        if target.channel_id != channel.id:
            raise Refused("validation_error", "cannot reply to message from another channel")
    thread_id = request.thread_id
    if thread_id is not None:
        root = await messages_repo.select_message(conn, thread_id)
        if root is None:
            raise Refused("validation_error", "thread root message not found")
        if root.channel_id != channel.id:
            raise Refused("validation_error", "thread root must be in the same channel")
        if root.thread_id is not None:
            thread_id = root.thread_id
    if request.message_type not in SENDABLE_TYPES:
        raise Refused("validation_error", "invalid message type")
    if channel.channel_type == "gallery" and thread_id is None and request.message_type != "file":
        raise Refused(
            "validation_error", "gallery channels only accept file posts at the root level"
        )
    return thread_id


async def _search_config(conn: Conn, ctx: Ctx, search_text: str | None) -> str:
    """The search_config to store with a message (migration 046): the configuration in use,
    or ``''`` when the message is not indexable (see services/search_text.py)."""
    if search_text is None:
        return NOT_INDEXABLE
    return await search_language(conn, ctx.settings)


async def _emit_dm(
    tx: Tx, actor: Actor, channel: ChannelRow, others: list[UserId], row: MessageRow
) -> None:
    """``new_dm_channel`` first when this is the DM's first message, then ``new_message``."""
    if not others:
        return
    if not await messages_repo.exists_other_visible_message(tx.conn, channel.id, row.id):
        sender = await users_repo.select_user(tx.conn, actor.user_id)
        if sender is not None:
            tx.emit(
                events.NewDmChannel(
                    channel_id=str(channel.id),
                    channel_name=channel.name,
                    created_at=rfc3339(channel.created_at),
                    other_user_id=str(sender.id),
                    other_user_username=sender.username,
                    other_user_display_name=sender.display_name,
                    other_user_avatar_url=sender.avatar_url,
                ),
                to=Users.of(others),
            )
    tx.emit(new_message_event(row), to=Users.of(others))


async def send_message(
    ctx: Ctx,
    actor: Actor,
    request: SendRequest,
    *,
    on_stored: Callable[[MessageRow], None] | None = None,
    ws_session: uuid.UUID | None = None,
) -> MessageRow:
    """Stores the message (spec 1.14 order); ``on_stored`` runs right after the commit.
    ``ws_session``: the WebSocket session that sent it, which gets ``message_sent`` (through
    ``on_stored``) and not its own ``new_message``; the sender's other sessions get it."""
    _check_sizes(request.ciphertext, request.nonce)
    now = ctx.clock.now()
    channel_id = request.channel_id
    async with ctx.db.transaction("send_message") as tx:
        conn = tx.conn
        # Membership (and channel ban) first, then the channel: a missing channel has no
        # members, so it is "not a member" as in the original.
        context = await messages_repo.select_send_context(conn, channel_id, actor.user_id, now)
        if context is None or context.member_role is None or context.banned:
            raise Refused("forbidden", NOT_A_MEMBER)
        channel = context.channel
        is_dm = channel.channel_type == "dm"
        others: list[UserId] = []
        if is_dm:
            others = await _check_dm(conn, actor, channel_id)
        else:
            await _check_channel(
                conn, actor, channel, context.member_role, now, context.timed_out_until
            )
        thread_id = await _check_content(conn, request, channel)
        ttl = channel.message_ttl_seconds
        search_text = searchable_text(request.ciphertext)
        row = await messages_repo.insert_message(
            conn,
            message_id=uuid7(),
            channel_id=channel_id,
            sender_id=actor.user_id,
            ciphertext=request.ciphertext,
            nonce=request.nonce,
            message_type=request.message_type,
            sender_key_id=request.sender_key_id,
            reply_to_id=request.reply_to,
            thread_id=thread_id,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl) if ttl else None,
            search_text=search_text,
            search_config=await _search_config(conn, ctx, search_text),
        )
        if is_dm:
            await _emit_dm(tx, actor, channel, others, row)
        else:
            tx.emit(
                new_message_event(row),
                to=ChannelSubscribers(channel_id, except_session=ws_session),
            )
        if on_stored is not None:
            callback = on_stored
            tx.on_commit(lambda: callback(row))
        # Web Push after commit, in the background: DM recipients and @mentioned members
        # with no live session (services/push.py)
        push_service.notify_after_send(tx, ctx, actor, channel, others, search_text)
    return row


async def edit_message(
    ctx: Ctx, actor: Actor, message_id: uuid.UUID, ciphertext: bytes, nonce: bytes
) -> MessageRow:
    """Own messages only, within 15 minutes, not while timed out in the channel. The previous
    content goes to ``message_edits``; ``message_edited`` to the channel's subscribers."""
    _check_sizes(ciphertext, nonce)
    now = ctx.clock.now()
    async with ctx.db.transaction("edit_message") as tx:
        conn = tx.conn
        row = await messages_repo.select_message(conn, message_id, for_update=True)
        if row is None:
            raise Refused("not_found", "message not found")
        if row.sender_id != actor.user_id:
            raise Refused("forbidden", "you can only edit your own messages")
        timeout = await active_timeout(conn, row.channel_id, actor.user_id, now)
        if timeout is not None:
            left = _seconds_left(timeout.expires_at, now)
            raise Refused("timed_out", f"you are timed out for {left} more seconds")
        if now - row.created_at > EDIT_WINDOW:
            raise Refused("validation_error", "messages can only be edited within 15 minutes")
        if row.deleted_at is not None:
            raise Refused("not_found", "message not found or not yours")
        await messages_repo.insert_edit(conn, row.id, row.ciphertext, row.nonce, now)
        search_text = searchable_text(ciphertext)
        if not await messages_repo.update_content(
            conn,
            row.id,
            actor.user_id,
            ciphertext,
            nonce,
            now,
            search_text=search_text,
            search_config=await _search_config(conn, ctx, search_text),
        ):
            raise Refused("not_found", "message not found or not yours")
        tx.emit(
            events.MessageEdited(
                message_id=str(row.id),
                channel_id=str(row.channel_id),
                sender_id=str(actor.user_id),
                ciphertext=list(ciphertext),
                nonce=list(nonce),
                edited_at=rfc3339(now),
            ),
            to=ChannelSubscribers(row.channel_id),
        )
    return row


async def delete_message(ctx: Ctx, actor: Actor, message_id: uuid.UUID) -> None:
    """Own message: soft delete. Someone else's: channel moderator+ (instance owner/admin
    included). ``message_deleted`` to the channel's subscribers."""
    now = ctx.clock.now()
    async with ctx.db.transaction("delete_message") as tx:
        conn = tx.conn
        row = await messages_repo.select_message(conn, message_id, for_update=True)
        if row is None:
            raise Refused("not_found", "message not found")
        if row.sender_id != actor.user_id:
            stored_role = await channels_repo.select_channel_role(
                conn, row.channel_id, actor.user_id
            )
            role = permissions.channel_effective_role(actor, stored_role)
            if not permissions.can_delete_others_messages(role):
                raise Refused("forbidden", "you don't have permission to delete this message")
        if not await messages_repo.soft_delete(conn, row.id, now):
            raise Refused("not_found", "message not found or already deleted")
        tx.emit(
            events.MessageDeleted(message_id=str(row.id)), to=ChannelSubscribers(row.channel_id)
        )


# -- reading (REST) --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MessageView:
    row: MessageRow
    reactions: list[ReactionGroup]
    thread: ThreadStats | None


async def _require_member(conn: Conn, actor: Actor, channel_id: ChannelId) -> None:
    if await channels_repo.select_channel_role(conn, channel_id, actor.user_id) is None:
        raise Forbidden()


async def list_messages(
    ctx: Ctx, actor: Actor, channel_id: ChannelId, *, before: uuid.UUID | None, limit: int
) -> list[MessageView]:
    """Newest first; ``before``: strictly older than that message (by created_at, then id)."""
    now = ctx.clock.now()
    async with ctx.db.connection() as conn:
        await _require_member(conn, actor, channel_id)
        rows = await messages_repo.list_channel_messages(
            conn, channel_id, before=before, limit=limit, now=now
        )
        ids = [r.id for r in rows]
        reactions = await messages_repo.list_reactions(conn, ids) if ids else {}
        threads = await messages_repo.thread_stats(conn, ids) if ids else {}
    return [MessageView(r, reactions.get(r.id, []), threads.get(r.id)) for r in rows]


async def edit_history(
    ctx: Ctx, actor: Actor, channel_id: ChannelId, message_id: uuid.UUID
) -> list[EditRow]:
    async with ctx.db.connection() as conn:
        await _require_member(conn, actor, channel_id)
        row = await messages_repo.select_message(conn, message_id)
        if row is None or row.channel_id != channel_id:
            raise NotFound("message not found")
        return await messages_repo.list_edits(conn, message_id)
