"""Web Push (spec ws-auth-ops 2.15, rest-api 2.21): the VAPID public key, subscribing and
unsubscribing a browser, and which notifications a sent message causes. Sending:
services/push_delivery.py.

Subscribing checks, in the original's order and with its messages (as our JSON error shape,
400 ``validation_error``, where the original answered plain text): the endpoint is at most
2048 bytes (``Endpoint URL too long``), both keys are present (``Missing encryption keys``),
the endpoint starts with ``https://`` (``Endpoint must use HTTPS``). Beyond the original:

- the endpoint must be a well-formed URL (printable ASCII, a host, no user info, a valid
  port) whose host is a public name or address: an IP literal in a private, loopback,
  link-local or reserved range (in any notation), local names (``localhost``, ``*.local``,
  ``*.internal``, ...: outbound/safe_http.py) and single-label names are refused (``Endpoint
  host must be a public address``); delivery checks the resolved addresses (push_delivery.py);
- ``p256dh_key`` must be a P-256 public key (65-byte uncompressed point) and ``auth_key`` 16
  bytes, both URL-safe base64 (padding optional);
- at most ``MAX_SUBSCRIPTIONS_PER_USER`` per user: a new endpoint beyond that replaces the
  least recently used one (browsers change endpoints; refusing would silence the newest
  device while stale ones linger).

Subscribing again with the same endpoint replaces the keys and resets ``failure_count``.

Notifications (after the message's commit, in the background, never delaying
``message_sent``), to users with no live WebSocket session on any server process (presence
state, shared through Redis when configured):

- a DM: to the other member, ``{"notification_type":"dm", "sender_name", "channel_id",
  "channel_name":"Direct Message"}`` (``sender_name``: the sender's display name, "Someone"
  if it cannot be read);
- beyond the original: a channel message the server can read (plaintext, not end-to-end
  encrypted: services/search_text.py) that mentions ``@username`` of a member of the channel:
  to that member (not the sender, not when either blocked the other), with
  ``"notification_type":"mention"`` and the channel's name. At most ``MAX_MENTIONS`` names
  per message are looked at.

A push never carries message content.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

import msgspec
from cryptography.hazmat.primitives.asymmetric import ec

from chatalot.context import Ctx
from chatalot.db.database import Conn, Tx
from chatalot.errors import Invalid, NotFound
from chatalot.ids import ChannelId, UserId, uuid7
from chatalot.outbound.safe_http import (
    BlockedDestination,
    OutboundError,
    classify_host,
    is_public_address,
)
from chatalot.protocol.api.push import PushNotification
from chatalot.repositories import push as push_repo
from chatalot.repositories import users as users_repo
from chatalot.repositories.channels import ChannelRow
from chatalot.repositories.push import PushSubscriptionRow
from chatalot.services.actor import Actor
from chatalot.services.push_delivery import TRUSTED_TEST_ORIGINS, b64url_decode, deliver

MAX_ENDPOINT_BYTES = 2048
MAX_SUBSCRIPTIONS_PER_USER = 20
MAX_MENTIONS = 20
DM_CHANNEL_NAME = "Direct Message"
UNKNOWN_SENDER = "Someone"

ENDPOINT_TOO_LONG = "Endpoint URL too long"
MISSING_KEYS = "Missing encryption keys"
HTTPS_REQUIRED = "Endpoint must use HTTPS"
INVALID_ENDPOINT = "Endpoint is not a valid URL"
PRIVATE_ENDPOINT = "Endpoint host must be a public address"
INVALID_P256DH = "p256dh_key must be a P-256 public key (65 bytes, URL-safe base64)"
INVALID_AUTH = "auth_key must be 16 bytes (URL-safe base64)"
PUSH_NOT_CONFIGURED = "push notifications are not configured"

# @name in folded (lower-case) readable text; usernames are 3-32 of [a-z0-9_.-] (services)
_MENTION = re.compile(r"(?<![\w@.])@([a-z0-9][a-z0-9_.\-]{1,31})")
_ENCODER = msgspec.json.Encoder()


def vapid_public_key(ctx: Ctx) -> str:
    key = ctx.push.advertised_key
    if key is None:
        raise NotFound(PUSH_NOT_CONFIGURED)
    return key


# -- subscribing ------------------------------------------------------------------------------


def _check_host(host: str) -> None:
    try:
        checked = classify_host(host)
    except BlockedDestination:
        raise Invalid(PRIVATE_ENDPOINT) from None
    except OutboundError:
        raise Invalid(INVALID_ENDPOINT) from None
    if checked.literal is not None and not is_public_address(checked.literal):
        raise Invalid(PRIVATE_ENDPOINT)
    if checked.literal is None and "." not in checked.name:
        raise Invalid(PRIVATE_ENDPOINT)  # a single-label name only resolves on a local network


def check_endpoint(endpoint: str) -> None:
    """The original's checks on the endpoint (length, https), then ours (see the module
    docstring)."""
    if len(endpoint.encode()) > MAX_ENDPOINT_BYTES:
        raise Invalid(ENDPOINT_TOO_LONG)
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        parts, port = None, None
    trusted = parts is not None and f"{parts.scheme}://{parts.netloc}" in TRUSTED_TEST_ORIGINS
    if not trusted and not endpoint.startswith("https://"):
        raise Invalid(HTTPS_REQUIRED)
    if (
        parts is None
        or not endpoint.isascii()
        or any(c <= " " or c == "\x7f" for c in endpoint)
        or not parts.hostname
        or "@" in parts.netloc
        or parts.fragment
        or port == 0
    ):
        raise Invalid(INVALID_ENDPOINT)
    if not trusted:
        _check_host(parts.hostname)


def _check_keys(p256dh_key: str, auth_key: str) -> None:
    try:
        point = b64url_decode(p256dh_key)
    except ValueError:
        raise Invalid(INVALID_P256DH) from None
    if len(point) != 65 or point[0] != 4:
        raise Invalid(INVALID_P256DH)
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        raise Invalid(INVALID_P256DH) from None
    try:
        secret = b64url_decode(auth_key)
    except ValueError:
        raise Invalid(INVALID_AUTH) from None
    if len(secret) != 16:
        raise Invalid(INVALID_AUTH)


async def subscribe(
    ctx: Ctx, actor: Actor, *, endpoint: str, p256dh_key: str, auth_key: str
) -> uuid.UUID:
    """Stores (or refreshes) the caller's subscription; its id."""
    if len(endpoint.encode()) > MAX_ENDPOINT_BYTES:
        raise Invalid(ENDPOINT_TOO_LONG)
    if not p256dh_key or not auth_key:
        raise Invalid(MISSING_KEYS)
    check_endpoint(endpoint)
    _check_keys(p256dh_key, auth_key)
    now = ctx.clock.now()
    async with ctx.db.transaction("push_subscribe") as tx:
        await push_repo.lock_user_subscriptions(tx.conn, actor.user_id)
        row_id = await push_repo.upsert_subscription(
            tx.conn,
            subscription_id=uuid7(),
            user_id=actor.user_id,
            endpoint=endpoint,
            p256dh_key=p256dh_key,
            auth_key=auth_key,
            now=now,
        )
        await push_repo.delete_excess_subscriptions(
            tx.conn, actor.user_id, keep_id=row_id, keep=MAX_SUBSCRIPTIONS_PER_USER
        )
    return row_id


async def unsubscribe(ctx: Ctx, actor: Actor, endpoint: str) -> None:
    """Removes the caller's subscription with that endpoint (none: nothing to do)."""
    async with ctx.db.transaction("push_unsubscribe") as tx:
        await push_repo.delete_subscription_by_endpoint(tx.conn, actor.user_id, endpoint)


# -- notifications ----------------------------------------------------------------------------


def mentioned_usernames(text: str) -> list[str]:
    """The distinct ``@username`` names in folded text, in order (at most MAX_MENTIONS)."""
    names: list[str] = []
    for match in _MENTION.finditer(text):
        name = match.group(1).rstrip(".")
        if len(name) >= 3 and name not in names:
            names.append(name)
            if len(names) >= MAX_MENTIONS:
                break
    return names


def notify_after_send(
    tx: Tx,
    ctx: Ctx,
    actor: Actor,
    channel: ChannelRow,
    dm_recipients: list[UserId],
    readable_text: str | None,
) -> None:
    """Called by send_message inside its transaction: after commit, the notifications the
    message causes start in the background (nothing when push is off)."""
    if not ctx.push.enabled:
        return
    sender = actor.user_id
    if channel.channel_type == "dm":
        recipients = [u for u in dm_recipients if u != sender]
        if recipients:
            tx.on_commit(lambda: _spawn_dm(ctx, sender, channel.id, recipients))
        return
    if readable_text is None or "@" not in readable_text:
        return
    names = mentioned_usernames(readable_text)
    if names:
        name = channel.name or ""
        tx.on_commit(lambda: _spawn_mentions(ctx, sender, channel.id, name, names))


def _spawn_dm(ctx: Ctx, sender: UserId, channel_id: ChannelId, recipients: list[UserId]) -> None:
    ctx.push.spawn(notify_dm(ctx, sender, channel_id, recipients))


def _spawn_mentions(
    ctx: Ctx, sender: UserId, channel_id: ChannelId, channel_name: str, names: list[str]
) -> None:
    ctx.push.spawn(notify_mentions(ctx, sender, channel_id, channel_name, names))


async def has_live_session(ctx: Ctx, user_id: UserId) -> bool:
    """A WebSocket session on this process or on any other live one (the presence state;
    when it cannot be reached, this process's sessions only)."""
    if ctx.hub.session_count(user_id):
        return True
    try:
        return await ctx.broker.state.sessions_elsewhere(user_id) > 0
    except Exception as err:
        ctx.broker.state.unreachable(err)
        return False


async def _offline_subscriptions(
    ctx: Ctx, subscriptions: list[PushSubscriptionRow]
) -> list[PushSubscriptionRow]:
    live: dict[UserId, bool] = {}
    for subscription in subscriptions:
        if subscription.user_id not in live:
            live[subscription.user_id] = await has_live_session(ctx, subscription.user_id)
    return [s for s in subscriptions if not live[s.user_id]]


async def _sender_name(conn: Conn, sender: UserId) -> str:
    row = await users_repo.select_user(conn, sender)
    return row.display_name if row is not None else UNKNOWN_SENDER


async def _send(
    ctx: Ctx,
    kind: str,
    channel_id: ChannelId,
    channel_name: str,
    subscriptions: list[PushSubscriptionRow],
    sender_name: str,
) -> None:
    subscriptions = await _offline_subscriptions(ctx, subscriptions)
    if subscriptions:
        payload = PushNotification(
            notification_type=kind,
            sender_name=sender_name,
            channel_id=str(channel_id),
            channel_name=channel_name,
        )
        await deliver(ctx, subscriptions, _ENCODER.encode(payload))


async def notify_dm(
    ctx: Ctx, sender: UserId, channel_id: ChannelId, recipients: list[UserId]
) -> None:
    # a session on this process settles it without a query (the common case)
    recipients = [u for u in recipients if not ctx.hub.session_count(u)]
    if not recipients:
        return
    async with ctx.db.connection() as conn:
        subscriptions = await push_repo.list_subscriptions(conn, recipients)
        if not subscriptions:
            return
        name = await _sender_name(conn, sender)
    await _send(ctx, "dm", channel_id, DM_CHANNEL_NAME, subscriptions, name)


async def notify_mentions(
    ctx: Ctx, sender: UserId, channel_id: ChannelId, channel_name: str, names: list[str]
) -> None:
    async with ctx.db.connection() as conn:
        members = await push_repo.list_members_by_username(conn, channel_id, names, sender=sender)
        recipients = [m for m in members if not ctx.hub.session_count(m)]
        if not recipients:
            return
        subscriptions = await push_repo.list_subscriptions(conn, recipients)
        if not subscriptions:
            return
        name = await _sender_name(conn, sender)
    await _send(ctx, "mention", channel_id, channel_name, subscriptions, name)
