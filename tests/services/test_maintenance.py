"""The hourly clean-up removes only what is past its retention."""

from __future__ import annotations

from datetime import timedelta

from chatalot.clock import FakeClock
from chatalot.context import Ctx
from chatalot.ids import uuid4, uuid7
from chatalot.repositories import lockouts as lockouts_repo
from chatalot.repositories import sessions as sessions_repo
from chatalot.services.audit import record_audit
from chatalot.services.maintenance import hourly_cleanup
from tests.support.auth import make_user
from tests.support.spaces import make_channel, time_out


async def test_cleanup_respects_retention(ctx: Ctx) -> None:
    """Tokens expired > 7 days, lockouts idle > 1 day and audit > 90 days go; the rest stays."""
    assert isinstance(ctx.clock, FakeClock)
    user = await make_user(ctx, "keeper")
    now = ctx.clock.now()
    async with ctx.db.transaction("seed") as tx:
        for days_ago, name in ((8, "old"), (6, "recent")):
            await sessions_repo.insert_session(
                tx.conn,
                session_id=uuid4(),
                user_id=user.id,
                family_id=uuid4(),
                token_hash=uuid7().bytes + name.encode(),
                device_name=name,
                ip_address=None,
                created_at=now - timedelta(days=40),
                expires_at=now - timedelta(days=days_ago),
            )
        await lockouts_repo.record_failure(
            tx.conn,
            scope="login",
            subject="ancient",
            now=now - timedelta(days=2),
            window=timedelta(minutes=15),
            threshold=10,
            lock_for=timedelta(minutes=15),
        )
        await lockouts_repo.record_failure(
            tx.conn,
            scope="login",
            subject="fresh",
            now=now,
            window=timedelta(minutes=15),
            threshold=10,
            lock_for=timedelta(minutes=15),
        )
        await record_audit(tx.conn, "login", user_id=user.id)
        await tx.conn.execute(
            "INSERT INTO audit_log (id, user_id, action, created_at) VALUES ($1, $2, 'login', $3)",
            uuid7(),
            user.id,
            now - timedelta(days=91),
        )
    report = await hourly_cleanup(ctx)
    assert (report.refresh_tokens, report.lockouts, report.audit_entries) == (1, 1, 1)
    async with ctx.db.connection() as conn:
        assert await conn.fetchval("SELECT device_name FROM refresh_tokens") == "recent"
        assert await conn.fetchval("SELECT subject FROM auth_lockouts") == "fresh"
        assert await conn.fetchval("SELECT count(*) FROM audit_log") == 1


async def test_cleanup_removes_ended_timeouts(ctx: Ctx) -> None:
    """A timeout that has ended goes; an active one stays."""
    owner, late, current = [await make_user(ctx) for _ in range(3)]
    channel = await make_channel(ctx, None, owner.id)
    now = ctx.clock.now()
    await time_out(ctx, channel, late.id, until=now - timedelta(seconds=1))
    await time_out(ctx, channel, current.id, until=now + timedelta(minutes=5))
    report = await hourly_cleanup(ctx)
    assert report.timeouts == 1
    async with ctx.db.connection() as conn:
        left = await conn.fetchval("SELECT array_agg(user_id) FROM user_timeouts")
    assert left == [current.id]


async def test_cleanup_removes_used_prekeys_older_than_30_days(ctx: Ctx) -> None:
    """A used one-time prekey uploaded > 30 days ago goes; a recent used one and an old unused
    one (still to be handed out) stay."""
    user = await make_user(ctx)
    now = ctx.clock.now()
    async with ctx.db.transaction("seed") as tx:
        for key_id, used, days_ago in ((1, True, 31), (2, True, 29), (3, False, 90)):
            await tx.conn.execute(
                "INSERT INTO one_time_prekeys (id, user_id, key_id, public_key, used, created_at)"
                " VALUES ($1, $2, $3, '\\x01', $4, $5)",
                uuid7(),
                user.id,
                key_id,
                used,
                now - timedelta(days=days_ago),
            )
    report = await hourly_cleanup(ctx)
    assert report.used_prekeys == 1
    async with ctx.db.connection() as conn:
        left = await conn.fetchval("SELECT array_agg(key_id ORDER BY key_id) FROM one_time_prekeys")
    assert left == [2, 3]
