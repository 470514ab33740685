"""Blocking users: a block is one-directional (the blocker's choice) and silent (no event).
DM creation and DM sends check blocks in both directions (repositories.blocks)."""

from __future__ import annotations

import uuid

from chatalot.context import Ctx
from chatalot.errors import Invalid, NotFound
from chatalot.ids import UserId
from chatalot.repositories import blocks as blocks_repo
from chatalot.repositories import users as users_repo
from chatalot.repositories.blocks import BlockRow
from chatalot.services.actor import Actor


async def block_user(ctx: Ctx, actor: Actor, user_id: uuid.UUID) -> None:
    """Blocks ``user_id``; blocking someone already blocked is fine (idempotent)."""
    target = UserId(user_id)
    if target == actor.user_id:
        raise Invalid("cannot block yourself")
    async with ctx.db.transaction("block_user") as tx:
        if await users_repo.select_user(tx.conn, target) is None:
            raise NotFound("user not found")
        await blocks_repo.insert_block(tx.conn, blocker_id=actor.user_id, blocked_id=target)


async def unblock_user(ctx: Ctx, actor: Actor, user_id: uuid.UUID) -> None:
    async with ctx.db.transaction("unblock_user") as tx:
        removed = await blocks_repo.delete_block(
            tx.conn, blocker_id=actor.user_id, blocked_id=UserId(user_id)
        )
    if not removed:
        raise NotFound("block not found")


async def list_blocked(ctx: Ctx, actor: Actor) -> list[BlockRow]:
    """The caller's blocks, newest first."""
    async with ctx.db.connection() as conn:
        return await blocks_repo.list_blocks(conn, actor.user_id)
