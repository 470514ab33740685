"""Process start-up state: ADMIN_USERNAME bootstrap, caches of suspensions and settings."""

from __future__ import annotations

import logging

import pytest

from chatalot.context import Ctx
from chatalot.services.startup import load_state, prepare_instance, seed_admin
from tests.conftest import make_settings
from tests.support.auth import make_user


async def test_admin_username_seed(ctx: Ctx, caplog: pytest.LogCaptureFixture) -> None:
    """While no admin exists, the named user becomes admin (never owner); later it is a no-op."""
    ctx.settings = make_settings(ADMIN_USERNAME="Carol")
    await make_user(ctx, "carol")
    with caplog.at_level(logging.INFO, logger="chatalot_server"):
        await seed_admin(ctx)
    async with ctx.db.connection() as conn:
        row = await conn.fetchrow("SELECT is_admin, is_owner FROM users WHERE username = 'carol'")
    assert (row["is_admin"], row["is_owner"]) == (True, False)
    assert "Granted admin to user 'Carol' (first-run bootstrap)" in caplog.text
    await make_user(ctx, "dave")
    ctx.settings = make_settings(ADMIN_USERNAME="dave")
    await seed_admin(ctx)
    async with ctx.db.connection() as conn:
        assert await conn.fetchval("SELECT is_admin FROM users WHERE username = 'dave'") is False


async def test_admin_username_for_missing_user_is_harmless(ctx: Ctx) -> None:
    """A name that matches nobody grants nothing and creates nobody."""
    ctx.settings = make_settings(ADMIN_USERNAME="ghost")
    await seed_admin(ctx)
    async with ctx.db.connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM users") == 0


async def test_state_is_loaded(ctx: Ctx, caplog: pytest.LogCaptureFixture) -> None:
    """Suspended users and instance settings are loaded into memory and logged."""
    user = await make_user(ctx, "offender", suspended=True)
    ctx.suspensions.mark(user.id, False)
    async with ctx.db.transaction("settings") as tx:
        await tx.conn.execute(
            "UPDATE instance_settings SET value = '77' WHERE key = 'max_pins_per_channel'"
        )
    with caplog.at_level(logging.INFO, logger="chatalot_server"):
        await prepare_instance(ctx)
    assert ctx.suspensions.is_suspended(user.id)
    assert ctx.instance.values.max_pins_per_channel == 77
    assert "Loaded 1 suspended user(s) into memory" in caplog.text
    assert (
        "Instance settings: max_messages_cache=500, max_pins_per_channel=77, e2e_enabled=true"
        in caplog.text
    )
    await load_state(ctx)  # idempotent
    assert ctx.suspensions.is_suspended(user.id)
