"""Direct messages (spec rest-api 2.12): the caller's DM list, and get-or-create of the DM
with one user.

Get-or-create is race-free (fixed, unlike the original): it takes an advisory lock on the
ordered pair before looking, so two concurrent requests (in either order, on any server
process) give one channel. Asking again for an existing DM also restores both memberships
(a DM cannot be joined any other way).
"""

from __future__ import annotations

import uuid

from chatalot.context import Ctx
from chatalot.errors import Forbidden, Invalid, NotFound
from chatalot.ids import ChannelId, UserId, uuid7
from chatalot.repositories import blocks as blocks_repo
from chatalot.repositories import channels as channels_repo
from chatalot.repositories import communities as communities_repo
from chatalot.repositories import dms as dms_repo
from chatalot.repositories import users as users_repo
from chatalot.repositories.dms import DmRow
from chatalot.services.actor import Actor


async def list_dms(ctx: Ctx, actor: Actor) -> list[DmRow]:
    async with ctx.db.connection() as conn:
        return await dms_repo.list_dms(conn, actor.user_id)


async def get_or_create_dm(ctx: Ctx, actor: Actor, target_user_id: uuid.UUID) -> DmRow:
    """Checks, in the original's order: not oneself (400), the target exists (404), no block
    either way (400), a shared community unless the caller is the instance owner (403)."""
    target = UserId(target_user_id)
    if target == actor.user_id:
        raise Invalid("cannot DM yourself")
    async with ctx.db.transaction("get_or_create_dm") as tx:
        other = await users_repo.select_user(tx.conn, target)
        if other is None:
            raise NotFound("user not found")
        if await blocks_repo.exists_block_between(tx.conn, user_a=actor.user_id, user_b=target):
            raise Invalid("cannot create DM with this user")
        if not actor.is_owner and not await communities_repo.exists_shared_community(
            tx.conn, actor.user_id, target
        ):
            raise Forbidden()
        await dms_repo.lock_dm_pair(tx.conn, actor.user_id, target)
        channel = await dms_repo.select_dm_channel(tx.conn, actor.user_id, target)
        if channel is None:
            low, _ = dms_repo.ordered_pair(actor.user_id, target)
            channel = await channels_repo.insert_channel(
                tx.conn,
                channel_id=ChannelId(uuid7()),
                name=None,
                channel_type="dm",
                topic=None,
                created_by=low,
                group_id=None,
            )
            await dms_repo.insert_dm_pair(tx.conn, actor.user_id, target, channel.id)
        for user_id in (actor.user_id, target):
            await channels_repo.insert_channel_member(tx.conn, channel.id, user_id)
    return DmRow(channel, other)
