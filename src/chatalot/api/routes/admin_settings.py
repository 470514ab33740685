"""`/api/admin/settings`: instance settings as a flat map of strings (instance admins)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get, put
from litestar.enums import RequestEncodingType
from litestar.params import Body

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import errors
from chatalot.services import admin_settings as admin_settings_service

_BOOLEAN = {"type": "string", "enum": ["true", "false"]}
SETTINGS_BODY = Body(
    media_type=RequestEncodingType.JSON,
    description="The settings to change (every value a string); others keep their value.",
    schema_extra={
        "properties": {
            "registration_mode": {"type": "string", "enum": ["open", "invite_only", "closed"]},
            "max_messages_cache": {
                "type": "string",
                "pattern": "^(5[0-9]|[6-9][0-9]|[1-9][0-9]{2,3}|10000)$",
                "description": "50-10000",
            },
            "max_pins_per_channel": {
                "type": "string",
                "pattern": "^([1-9]|[1-9][0-9]|1[0-9]{2}|200)$",
                "description": "1-200",
            },
            "e2e_enabled": _BOOLEAN,
            "allow_external_image_urls": _BOOLEAN,
        },
        "additionalProperties": False,
    },
)


@get("/api/admin/settings", responses=errors(403))
async def get_admin_settings(ctx: CtxDep, actor: ActorDep) -> dict[str, str]:
    return await admin_settings_service.get_settings(ctx, actor)


@put("/api/admin/settings", status_code=200, responses=errors(403))
async def put_admin_settings(
    ctx: CtxDep, actor: ActorDep, data: Annotated[dict[str, Any], SETTINGS_BODY]
) -> dict[str, str]:
    """Values must be strings; a number or boolean is a 400 naming the key."""
    return await admin_settings_service.update_settings(ctx, actor, data)


HANDLERS = [get_admin_settings, put_admin_settings]
