"""Reactions to messages (WS ``add_reaction`` / ``remove_reaction``, spec ws-auth-ops 1.7):
an emoji of 1-32 characters, by a member of the message's channel, at most 20 different emojis
per message (checked under a per-message lock, so concurrent adds on several server processes
cannot pass it). The per-user pace of adds (200 ms) is the realtime layer's."""

from __future__ import annotations

import uuid

from chatalot.context import Ctx
from chatalot.db.database import Conn
from chatalot.protocol import events
from chatalot.repositories import channels as channels_repo
from chatalot.repositories import messages as messages_repo
from chatalot.repositories import reactions as reactions_repo
from chatalot.repositories.messages import MessageRow
from chatalot.services.actor import Actor
from chatalot.services.audience import ChannelSubscribers
from chatalot.services.messages import Refused

MAX_EMOJI_CHARS = 32
MAX_DISTINCT_EMOJIS = 20


def _check_emoji(emoji: str) -> None:
    """1-32 characters, no NUL (PostgreSQL text cannot hold it)."""
    if not 1 <= len(emoji) <= MAX_EMOJI_CHARS or "\x00" in emoji:
        raise Refused("validation_error", "invalid emoji")


async def _member_message(conn: Conn, actor: Actor, message_id: uuid.UUID) -> MessageRow:
    row = await messages_repo.select_message(conn, message_id)
    if row is None or row.deleted_at is not None:
        raise Refused("not_found", "message not found")
    if await channels_repo.select_channel_role(conn, row.channel_id, actor.user_id) is None:
        raise Refused("forbidden", "not a member of this channel")
    return row


async def add_reaction(ctx: Ctx, actor: Actor, message_id: uuid.UUID, emoji: str) -> None:
    _check_emoji(emoji)
    async with ctx.db.transaction("add_reaction") as tx:
        row = await _member_message(tx.conn, actor, message_id)
        await reactions_repo.lock_message_reactions(tx.conn, row.id)
        if await reactions_repo.count_distinct_emojis(tx.conn, row.id) >= MAX_DISTINCT_EMOJIS:
            raise Refused("validation_error", "maximum number of reactions reached")
        await reactions_repo.insert_reaction(
            tx.conn, message_id=row.id, user_id=actor.user_id, emoji=emoji
        )
        tx.emit(
            events.ReactionAdded(message_id=str(row.id), user_id=str(actor.user_id), emoji=emoji),
            to=ChannelSubscribers(row.channel_id),
        )


async def remove_reaction(ctx: Ctx, actor: Actor, message_id: uuid.UUID, emoji: str) -> None:
    """Silent when there was nothing to remove."""
    _check_emoji(emoji)
    async with ctx.db.transaction("remove_reaction") as tx:
        row = await _member_message(tx.conn, actor, message_id)
        removed = await reactions_repo.delete_reaction(
            tx.conn, message_id=row.id, user_id=actor.user_id, emoji=emoji
        )
        if removed:
            tx.emit(
                events.ReactionRemoved(
                    message_id=str(row.id), user_id=str(actor.user_id), emoji=emoji
                ),
                to=ChannelSubscribers(row.channel_id),
            )
