"""Sender-key distributions (spec rest-api 2.4, ws-auth-ops 7.4): each channel member uploads
the opaque JSON its group encryption needs; the server stores it verbatim, one row per (channel,
sender), and relays it to the channel's subscribers.

Only channel members may upload or read them (403 otherwise, also for a channel that does not
exist); instance staff get no bypass here, because a distribution holds the chain key that
decrypts the member's messages. Beyond the original: a distribution may be at most
``MAX_DISTRIBUTION_BYTES`` of JSON (400), so one member cannot store megabytes per channel.
The membership row is locked while uploading, so a concurrent kick (which deletes the kicked
member's row) cannot be overtaken by an upload that checked membership just before it.
"""

from __future__ import annotations

from typing import Any

import msgspec

from chatalot.context import Ctx
from chatalot.errors import Forbidden, Invalid
from chatalot.ids import ChannelId, uuid7
from chatalot.protocol import events
from chatalot.repositories import channels as channels_repo
from chatalot.repositories import sender_keys as sender_keys_repo
from chatalot.repositories.sender_keys import SenderKeyRow
from chatalot.services.actor import Actor
from chatalot.services.audience import ChannelSubscribers

MAX_DISTRIBUTION_BYTES = 65_536
TOO_LARGE = "sender key distribution too large (max 64 KB)"
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


async def upload_sender_key(
    ctx: Ctx, actor: Actor, channel_id: ChannelId, *, chain_id: int, distribution: Any
) -> SenderKeyRow:
    """Replaces the caller's distribution of the channel (a new id and created_at) and sends
    ``sender_key_updated`` to the channel's subscribers."""
    if not INT64_MIN <= chain_id <= INT64_MAX:
        raise Invalid("chain_id must be a 64-bit integer")
    now = ctx.clock.now()
    async with ctx.db.transaction("upload_sender_key") as tx:
        role = await channels_repo.select_channel_role_for_update(
            tx.conn, channel_id, actor.user_id
        )
        if role is None:
            raise Forbidden()
        if len(msgspec.json.encode(distribution)) > MAX_DISTRIBUTION_BYTES:
            raise Invalid(TOO_LARGE)
        row = await sender_keys_repo.upsert_sender_key(
            tx.conn,
            row_id=uuid7(),
            channel_id=channel_id,
            user_id=actor.user_id,
            chain_id=chain_id,
            distribution=distribution,
            created_at=now,
        )
        tx.emit(
            events.SenderKeyUpdated(
                channel_id=str(channel_id),
                user_id=str(actor.user_id),
                chain_id=row.chain_id,
                distribution=row.distribution,
            ),
            to=ChannelSubscribers(channel_id),
        )
    return row


async def list_sender_keys(ctx: Ctx, actor: Actor, channel_id: ChannelId) -> list[SenderKeyRow]:
    """Every member's distribution of the channel, oldest first."""
    async with ctx.db.connection() as conn:
        if await channels_repo.select_channel_role(conn, channel_id, actor.user_id) is None:
            raise Forbidden()
        return await sender_keys_repo.list_sender_keys(conn, channel_id)
