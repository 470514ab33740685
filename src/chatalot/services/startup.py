"""What a server process does once the database is ready: the ADMIN_USERNAME bootstrap, and
loading the in-memory state every request relies on (suspended users, recently ended sessions,
instance settings)."""

from __future__ import annotations

import logging

from chatalot.context import Ctx
from chatalot.repositories import users as users_repo

log = logging.getLogger("chatalot_server")


async def prepare_instance(ctx: Ctx) -> None:
    await seed_admin(ctx)
    await load_state(ctx)
    values = ctx.instance.values
    log.info(
        "Instance settings: max_messages_cache=%d, max_pins_per_channel=%d, e2e_enabled=%s, "
        "registration_mode=%s",
        values.max_messages_cache,
        values.max_pins_per_channel,
        str(values.e2e_enabled).lower(),
        ctx.registration_mode,
    )


async def load_state(ctx: Ctx) -> None:
    """(Re)load the caches; also called after the notification connection reconnects."""
    async with ctx.db.connection() as conn:
        count = await ctx.suspensions.reload(conn)
        await ctx.revoked_sessions.reload(conn, ctx.clock.now())
        await ctx.instance.reload(conn)
    if count:
        log.info("Loaded %d suspended user(s) into memory", count)


async def seed_admin(ctx: Ctx) -> None:
    """ADMIN_USERNAME: while no admin exists, the user of that name becomes one. It never
    creates a user and never grants instance ownership."""
    username = ctx.settings.admin_username
    if not username:
        return
    async with ctx.db.transaction("seed_admin") as tx:
        if await users_repo.exists_admin(tx.conn):
            log.debug("Admin users already exist, skipping ADMIN_USERNAME seed")
            return
        if await users_repo.update_admin_by_username(tx.conn, username):
            log.info("Granted admin to user '%s' (first-run bootstrap)", username)
        else:
            log.debug("User '%s' does not exist yet, skipping admin seed", username)


async def reload_instance_settings(ctx: Ctx) -> None:
    async with ctx.db.connection() as conn:
        await ctx.instance.reload(conn)
