"""`/api/admin/settings`: instance settings as a flat map of strings (instance admins)."""

from __future__ import annotations

from typing import Any

from litestar import get, put
from litestar.params import JSONBody

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.services import admin_settings as admin_settings_service


@get("/api/admin/settings")
async def get_admin_settings(ctx: CtxDep, actor: ActorDep) -> dict[str, str]:
    return await admin_settings_service.get_settings(ctx, actor)


@put("/api/admin/settings", status_code=200)
async def put_admin_settings(
    ctx: CtxDep, actor: ActorDep, data: JSONBody[dict[str, Any]]
) -> dict[str, str]:
    """Values must be strings; a number or boolean is a 400 naming the key."""
    return await admin_settings_service.update_settings(ctx, actor, data)


HANDLERS = [get_admin_settings, put_admin_settings]
