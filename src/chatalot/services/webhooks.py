"""Webhooks (spec rest-api 2.17, ws-auth-ops 2.14): managed by the channel's owner, executed by
anyone holding the token.

Managing: only a caller whose stored role in the channel is ``owner`` (the raw role: instance
admins are not special, as in the original); anyone else 403, also for a channel that does not
exist. PATCH and DELETE answer 404 ``webhook not found`` first. The name is trimmed, 1-64 UTF-8
bytes, without control characters; ``avatar_url`` follows the profile image URL rules
(services/validation.py), ``""`` is stored as ``""`` and ``null`` leaves it unchanged. The
token (64 ASCII letters and digits from ``secrets``) is shown only in the answer to the
creation.

Executing (``POST /api/webhooks/execute/{token}``, public), in this order:

1. a budget per client address: every execute costs 1 of ``EXECUTE_IP_RULE`` (60, refilled
   5/s), an unknown or inactive token ``MISS_COST`` more, so guessing tokens from one address
   is throttled to under one guess a second while integrations posting to many webhooks are
   not; over it: 429 ``rate_limited``;
2. one message a second per token (the original's rule and answer: 400
   ``webhook rate limited (max 1 msg/sec)``), counted for unknown tokens too;
3. the token must exist and be active (404 ``webhook not found or inactive``);
4. ``content`` 1-4000 bytes, not blank, no control characters but newline and tab; ``username``
   at most 64 bytes (``""``: the webhook's name); ``avatar_url`` as above (``""``: the
   webhook's avatar);
5. the channel must not be archived (403 ``channel is archived``; the original did not check),
   and a gallery channel takes only file posts at its root (400, as for users).

Both rate limits use ``ctx.limiter``: shared by every server process when Redis is configured.
The buckets are keyed by a hash of the token, never the token itself; tokens are not logged
(api/middleware.py writes the execute path without it).

The message is stored with no sender, ``message_type`` ``webhook``, ``plaintext`` the original's
JSON ``{"content", "webhook_name", "webhook_avatar"}`` and the channel's message lifetime
(TTL). Unlike the original, its ``ciphertext`` is the content's UTF-8 text (the original stored
one zero byte and served ``[0]``, so its clients showed webhook messages as empty): clients show
a channel message they cannot decrypt as UTF-8 text, so webhook messages are readable live and
in the history. The nonce is one zero byte, as in the original. The content is indexed for
search like any plaintext message. ``new_message`` goes to every subscriber of the channel
(the webhook's creator included: the original left the creator out) with ``sender_id`` the
webhook's creator (its own id once the creator's account is gone: the field is never null).
Webhook messages count as unread for every member (repositories/unread.py).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
import uuid
from dataclasses import dataclass
from datetime import timedelta

import msgspec

from chatalot.context import Ctx
from chatalot.db.database import Conn
from chatalot.errors import Forbidden, Invalid, NotFound, RateLimited
from chatalot.ids import ChannelId, uuid7
from chatalot.protocol import events
from chatalot.protocol.time import rfc3339
from chatalot.ratelimit import BucketRule
from chatalot.repositories import channels as channels_repo
from chatalot.repositories import webhooks as webhooks_repo
from chatalot.repositories.messages import MessageRow
from chatalot.repositories.search import NOT_INDEXABLE
from chatalot.repositories.webhooks import WebhookRow
from chatalot.services.actor import Actor
from chatalot.services.admin import require_admin, require_admin_claims
from chatalot.services.audience import ChannelSubscribers
from chatalot.services.search_index import search_language
from chatalot.services.search_text import searchable_text
from chatalot.services.validation import (
    check_plain_text,
    has_control_characters,
    validate_image_url,
)

TOKEN_LENGTH = 64
TOKEN_ALPHABET = string.ascii_letters + string.digits
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9]{1,128}")  # webhooks.token is VARCHAR(128)
MAX_NAME_BYTES = 64
MAX_CONTENT_BYTES = 4000
MAX_USERNAME_BYTES = 64

TOKEN_RULE = BucketRule("webhook_token", capacity=1, refill_per_second=1)
EXECUTE_IP_RULE = BucketRule("webhook_ip", capacity=60, refill_per_second=5)
MISS_COST = 5  # extra draws from EXECUTE_IP_RULE for an unknown or inactive token

NAME_MESSAGE = "webhook name must be 1-64 characters"
RATE_LIMITED_MESSAGE = "webhook rate limited (max 1 msg/sec)"
UNKNOWN_WEBHOOK = "webhook not found or inactive"
IP_LIMITED_MESSAGE = "too many webhook requests from this address, please slow down"


def generate_token() -> str:
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))


def validate_name(name: str) -> str:
    """Trimmed, 1-64 bytes, no control or invisible formatting characters."""
    value = name.strip()
    if not value or len(value.encode()) > MAX_NAME_BYTES:
        raise Invalid(NAME_MESSAGE)
    check_plain_text(value, "webhook name")
    return value


def _avatar(ctx: Ctx, value: str) -> str:
    """``""`` as it is; else the profile image URL rules."""
    if value == "":
        return value
    allow_external = ctx.instance.values.allow_external_image_urls
    return validate_image_url(value, "avatar", allow_external=allow_external)


async def _require_channel_owner(conn: Conn, actor: Actor, channel_id: ChannelId) -> None:
    if await channels_repo.select_channel_role(conn, channel_id, actor.user_id) != "owner":
        raise Forbidden()


async def create_webhook(
    ctx: Ctx, actor: Actor, channel_id: ChannelId, *, name: str, avatar_url: str | None
) -> WebhookRow:
    async with ctx.db.transaction("create_webhook") as tx:
        await _require_channel_owner(tx.conn, actor, channel_id)
        clean_name = validate_name(name)
        avatar = _avatar(ctx, avatar_url) if avatar_url is not None else None
        return await webhooks_repo.insert_webhook(
            tx.conn,
            webhook_id=uuid7(),
            channel_id=channel_id,
            name=clean_name,
            token=generate_token(),
            created_by=actor.user_id,
            avatar_url=avatar,
            created_at=ctx.clock.now(),
        )


async def list_webhooks(ctx: Ctx, actor: Actor, channel_id: ChannelId) -> list[WebhookRow]:
    """Oldest first."""
    async with ctx.db.connection() as conn:
        await _require_channel_owner(conn, actor, channel_id)
        return await webhooks_repo.list_channel_webhooks(conn, channel_id)


async def _owned_webhook(conn: Conn, actor: Actor, webhook_id: uuid.UUID) -> WebhookRow:
    webhook = await webhooks_repo.select_webhook(conn, webhook_id, for_update=True)
    if webhook is None:
        raise NotFound("webhook not found")
    await _require_channel_owner(conn, actor, webhook.channel_id)
    return webhook


async def update_webhook(
    ctx: Ctx,
    actor: Actor,
    webhook_id: uuid.UUID,
    *,
    name: str | None,
    avatar_url: str | None,
    active: bool | None,
) -> WebhookRow:
    """``None``: unchanged. The name is stored trimmed (the original stored it as sent)."""
    async with ctx.db.transaction("update_webhook") as tx:
        await _owned_webhook(tx.conn, actor, webhook_id)
        updated = await webhooks_repo.update_webhook(
            tx.conn,
            webhook_id,
            name=validate_name(name) if name is not None else None,
            avatar_url=_avatar(ctx, avatar_url) if avatar_url is not None else None,
            active=active,
        )
        if updated is None:  # pragma: no cover - the row is locked since _owned_webhook
            raise NotFound("webhook not found")
        return updated


async def delete_webhook(ctx: Ctx, actor: Actor, webhook_id: uuid.UUID) -> None:
    async with ctx.db.transaction("delete_webhook") as tx:
        await _owned_webhook(tx.conn, actor, webhook_id)
        await webhooks_repo.delete_webhook(tx.conn, webhook_id)


# -- executing ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExecuteRequest:
    content: str
    username: str | None = None
    avatar_url: str | None = None


def _token_key(token: str) -> str:
    """The rate-limit key of a token: a hash, so no token is kept in memory or in Redis."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]


async def _check_rates(ctx: Ctx, token: str, client_ip: str) -> None:
    decision = await ctx.limiter.take(EXECUTE_IP_RULE, client_ip)
    if not decision.allowed:
        raise RateLimited(IP_LIMITED_MESSAGE, retry_after=decision.retry_after)
    if not (await ctx.limiter.take(TOKEN_RULE, _token_key(token))).allowed:
        raise Invalid(RATE_LIMITED_MESSAGE)


async def _miss(ctx: Ctx, client_ip: str) -> NotFound:
    """An unknown or inactive token: it costs the address ``MISS_COST`` more."""
    for _ in range(MISS_COST):
        if not (await ctx.limiter.take(EXECUTE_IP_RULE, client_ip)).allowed:
            break
    return NotFound(UNKNOWN_WEBHOOK)


def _check_content(
    ctx: Ctx, request: ExecuteRequest, webhook: WebhookRow
) -> tuple[str, str | None]:
    """The validated request: (the name to show, the avatar to show)."""
    content = request.content
    if not content.strip() or len(content.encode()) > MAX_CONTENT_BYTES:
        raise Invalid("content must be 1-4000 characters")
    if has_control_characters(content, "\n\r\t"):
        raise Invalid("content must not contain control or invisible formatting characters")
    name = webhook.name
    if request.username is not None:
        if len(request.username.encode()) > MAX_USERNAME_BYTES:
            raise Invalid("username must be at most 64 characters")
        check_plain_text(request.username, "username")
        if request.username.strip():
            name = request.username.strip()
    avatar = webhook.avatar_url
    if request.avatar_url:
        avatar = _avatar(ctx, request.avatar_url)
    return name, avatar


async def execute_webhook(
    ctx: Ctx, token: str, request: ExecuteRequest, *, client_ip: str | None
) -> MessageRow:
    ip = client_ip or "unknown"
    await _check_rates(ctx, token, ip)
    webhook = None
    if _TOKEN_SHAPE.fullmatch(token):
        async with ctx.db.connection() as conn:
            webhook = await webhooks_repo.select_webhook_by_token(conn, token)
    # compare in constant time too, although the lookup went through a unique index
    if webhook is None or not webhook.active or not secrets.compare_digest(webhook.token, token):
        raise await _miss(ctx, ip)
    name, avatar = _check_content(ctx, request, webhook)
    now = ctx.clock.now()
    body = request.content.encode()
    plaintext = msgspec.json.encode(
        {"content": request.content, "webhook_name": name, "webhook_avatar": avatar}
    ).decode()
    async with ctx.db.transaction("execute_webhook") as tx:
        channel = await channels_repo.select_channel(tx.conn, webhook.channel_id)
        if channel is None:
            raise NotFound(UNKNOWN_WEBHOOK)
        if channel.archived:
            raise Forbidden("channel is archived")
        if channel.channel_type == "gallery":
            raise Invalid("gallery channels only accept file posts at the root level")
        search_text = searchable_text(body)
        ttl = channel.message_ttl_seconds
        row = await webhooks_repo.insert_webhook_message(
            tx.conn,
            message_id=uuid7(),
            channel_id=channel.id,
            ciphertext=body,
            nonce=b"\x00",
            plaintext=plaintext,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl) if ttl else None,
            search_text=search_text,
            search_config=(
                await search_language(tx.conn, ctx.settings)
                if search_text is not None
                else NOT_INDEXABLE
            ),
        )
        sender = webhook.created_by if webhook.created_by is not None else webhook.id
        tx.emit(
            events.NewMessage(
                id=str(row.id),
                channel_id=str(row.channel_id),
                sender_id=str(sender),
                ciphertext=list(row.ciphertext),
                nonce=list(row.nonce),
                message_type="webhook",
                reply_to=None,
                sender_key_id=None,
                created_at=rfc3339(row.created_at),
            ),
            to=ChannelSubscribers(channel.id),
        )
    return row


# -- admin overview -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WebhookPage:
    webhooks: list[WebhookRow]
    total: int


async def admin_list_webhooks(ctx: Ctx, actor: Actor, *, page: int, per_page: int) -> WebhookPage:
    """Every webhook of the instance, newest first (the route never shows tokens)."""
    require_admin_claims(actor)
    async with ctx.db.transaction("admin_list_webhooks") as tx:
        await require_admin(tx.conn, actor)
        rows = await webhooks_repo.list_webhooks(
            tx.conn, limit=per_page, offset=(page - 1) * per_page
        )
        total = await webhooks_repo.count_webhooks(tx.conn)
    return WebhookPage(rows, total)
