"""`/api/push/*` request and response bodies (Web Push subscriptions, spec rest-api 2.21).
Keys are the browser's ``PushSubscription.getKey`` values as URL-safe base64 without padding,
as the web client sends them."""

from __future__ import annotations

from typing import Annotated

import msgspec

from chatalot.protocol.api.constraints import documented

ENDPOINT = documented(
    "The push service URL the browser gave (`PushSubscription.endpoint`): an https URL of at "
    "most 2048 bytes whose host is a public name or address.",
    format="uri",
    pattern="^https://[^\\s/?#@]+(/[^\\s]*)?$",
)
P256DH_KEY = documented(
    "The subscription's P-256 public key (65 bytes, uncompressed point) as URL-safe base64 "
    "(padding optional).",
    pattern="^[A-Za-z0-9_-]{87}=?$",
)
AUTH_KEY = documented(
    "The subscription's 16-byte authentication secret as URL-safe base64 (padding optional).",
    pattern="^[A-Za-z0-9_-]{22}(==)?$",
)


class VapidKeyOut(msgspec.Struct):
    public_key: str


class SubscribeIn(msgspec.Struct):
    endpoint: Annotated[str, ENDPOINT]
    p256dh_key: Annotated[str, P256DH_KEY]
    auth_key: Annotated[str, AUTH_KEY]


class UnsubscribeIn(msgspec.Struct):
    endpoint: str


class PushNotification(msgspec.Struct):
    """What a push carries (encrypted for the browser): metadata only, never message content.
    ``notification_type``: ``dm`` (``channel_name`` is ``"Direct Message"``) or ``mention``
    (the channel's name). The web client's service worker shows ``sender_name`` as the title."""

    notification_type: str
    sender_name: str
    channel_id: str
    channel_name: str
