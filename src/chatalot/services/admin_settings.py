"""Instance settings through the admin API: read the whole map, change some keys.

The map is every stored row plus ``registration_mode`` (the effective mode, even when no row
holds it: then it is REGISTRATION_MODE from the environment) and ``allow_external_image_urls``
(its default, "true", when no row holds it). A change is validated in full
before anything is written, applied to this process's cache after commit, announced to the
other processes with the ``chatalot_settings`` notification, and audited (the original did not
audit it).
"""

from __future__ import annotations

from typing import Any

from chatalot.context import Ctx
from chatalot.repositories import instance_settings as settings_repo
from chatalot.services.actor import Actor
from chatalot.services.admin import require_admin
from chatalot.services.audit import record_audit
from chatalot.services.instance_settings import validate_update

_DEFAULTS = {"allow_external_image_urls": "true"}  # ours; the original's keys have rows


def _with_effective_mode(ctx: Ctx, raw: dict[str, str]) -> dict[str, str]:
    return {**_DEFAULTS, **raw, "registration_mode": ctx.registration_mode}


async def get_settings(ctx: Ctx, actor: Actor) -> dict[str, str]:
    async with ctx.db.transaction("admin_get_settings") as tx:
        await require_admin(tx.conn, actor)
        raw = await settings_repo.list_instance_settings(tx.conn)
    return _with_effective_mode(ctx, raw)


async def update_settings(ctx: Ctx, actor: Actor, values: dict[str, Any]) -> dict[str, str]:
    """Validates every key (values must be strings), then writes them all; returns the new
    map. An empty object changes nothing and writes nothing."""
    async with ctx.db.transaction("admin_update_settings") as tx:
        await require_admin(tx.conn, actor)
        changes = validate_update(values)
        if changes:
            await settings_repo.upsert_instance_settings(tx.conn, changes)
            await settings_repo.notify_instance_settings_changed(tx.conn)
            await record_audit(
                tx.conn,
                "admin_update_settings",
                user_id=actor.user_id,
                meta=actor.meta,
                metadata={"changes": changes},
            )
        raw = await settings_repo.list_instance_settings(tx.conn)
        if changes:
            tx.on_commit(lambda: ctx.instance.apply(raw))
    return _with_effective_mode(ctx, raw)
