"""Webhooks over REST: ``/api/channels/{id}/webhooks``, ``/api/webhooks/{id}``,
``/api/webhooks/execute/{token}`` and the admin overview ``/api/admin/webhooks``."""

from __future__ import annotations

from typing import Annotated

import msgspec

from chatalot.protocol.api.constraints import AVATAR_URL_PATTERN, documented, text

WEBHOOK_NAME = text(64, required=True)
WEBHOOK_AVATAR = documented(
    "The URL of the avatar shown with the webhook's messages: an image uploaded to this server "
    '(`/api/avatars/...`), `""`, or (when the instance allows external images) an http(s) URL; '
    "at most 2048 bytes.",
    pattern=AVATAR_URL_PATTERN,
)


class CreateWebhookIn(msgspec.Struct):
    name: Annotated[str, WEBHOOK_NAME]
    avatar_url: Annotated[str, WEBHOOK_AVATAR] | None = None


class UpdateWebhookIn(msgspec.Struct):
    """Every field optional; ``null`` or absent = unchanged."""

    name: Annotated[str, WEBHOOK_NAME] | None = None
    avatar_url: Annotated[str, WEBHOOK_AVATAR] | None = None
    active: bool | None = None


class ExecuteWebhookIn(msgspec.Struct):
    content: Annotated[str, text(4000, required=True, multiline=True)]
    username: Annotated[str, text(64)] | None = None
    avatar_url: Annotated[str, WEBHOOK_AVATAR] | None = None


class WebhookOut(msgspec.Struct, omit_defaults=True):
    """The original's WebhookResponse: ``token`` only in the answer to the creation (omitted
    otherwise); ``avatar_url`` always present."""

    id: str
    channel_id: str
    name: str
    avatar_url: str | None
    active: bool
    created_at: str
    token: str | None = None


class AdminWebhookOut(msgspec.Struct):
    """One webhook in the admin overview (never its token). ``created_by`` is null once its
    creator's account has been deleted."""

    id: str
    channel_id: str
    name: str
    active: bool
    created_by: str | None
    created_at: str


class AdminWebhookListOut(msgspec.Struct):
    webhooks: list[AdminWebhookOut]
    total: int
