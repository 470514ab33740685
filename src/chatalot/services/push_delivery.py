"""Sending Web Push notifications (spec ws-auth-ops 2.15): VAPID (RFC 8292) and aes128gcm
(RFC 8188 / RFC 8291) payload encryption with ``py_vapid`` and ``http_ece``, sent with an httpx
AsyncClient. What is sent, and to whom: services/push.py.

- Enabled when ``VAPID_PRIVATE_KEY`` parses (URL-safe base64 of the raw 32-byte P-256 key, as
  the original; a DER key is accepted too). The JWT's ``sub`` is ``PUBLIC_URL`` verbatim, or
  ``mailto:admin@localhost`` when it is unset or empty (an empty ``sub`` is refused by push
  services); ``aud`` is the endpoint's origin; it expires after 12 hours.
- Sending never holds up the sender: ``spawn`` runs a notification job as a background task
  after the message's commit. At most ``MAX_PENDING_JOBS`` jobs wait at once (more are dropped
  with a warning) and at most ``MAX_CONCURRENT_SENDS`` requests are in flight; each request
  has a ``TIMEOUT_SECONDS`` timeout and follows no redirect.
- Bookkeeping, as the original: delivered (2xx) -> ``last_used = now``, ``failure_count = 0``;
  404 / 410 (the subscription is gone) or keys that cannot be used -> the row is deleted
  (INFO ``Removing expired push subscription <id>``); anything else (other statuses, timeouts,
  refused addresses) -> ``failure_count + 1`` (WARN ``Push delivery failed for <id>: <e>``).
  The hourly clean-up (services/maintenance.py) removes rows with 3 failures or more.
- Outbound safety (beyond the original, which posted to any https URL): requests go through
  outbound/safe_http.py's ``PinnedTransport``: the endpoint's host is resolved, every address
  must be public, and the request goes to exactly that checked address (TLS still verifies
  the certificate for the host name). A refused address counts as a failure.

``TRUSTED_TEST_ORIGINS`` is a seam for tests only (a local push endpoint over plain HTTP on
the loopback interface); nothing in the product sets it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import ipaddress
import logging
import os
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

import http_ece
import httpx
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import Vapid02
from py_vapid.jwt import sign as vapid_sign

from chatalot.config import Settings
from chatalot.outbound.safe_http import (
    BlockedDestination,
    Destinations,
    IPNetwork,
    OutboundError,
    PinnedTransport,
)
from chatalot.repositories import push as push_repo
from chatalot.repositories.push import PushSubscriptionRow

if TYPE_CHECKING:
    from chatalot.context import Ctx

log = logging.getLogger("chatalot_server.push")

DEFAULT_SUBJECT = "mailto:admin@localhost"
TIMEOUT_SECONDS = 10.0
TTL_SECONDS = 86_400  # a missed-message notice older than a day is not worth showing
JWT_LIFETIME_SECONDS = 12 * 3600
MAX_CONCURRENT_SENDS = 16
MAX_PENDING_JOBS = 1000
GONE_STATUSES = frozenset({404, 410})
MAX_CACHED_TOKENS = 256

# Tests only: origins ("http://127.0.0.1:PORT") that may use plain HTTP and whose (loopback)
# address is let through. Never set by the product.
TRUSTED_TEST_ORIGINS: set[str] = set()


class Outcome(Enum):
    DELIVERED = "delivered"
    GONE = "gone"  # the push service no longer knows the subscription: delete it
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Result:
    outcome: Outcome
    detail: str = ""


def b64url_decode(value: str) -> bytes:
    """URL-safe base64 with or without padding; ValueError when it is not."""
    text = value.strip()
    if not text or any(c not in _B64URL for c in text.rstrip("=")):
        raise ValueError("not URL-safe base64")
    try:
        return base64.urlsafe_b64decode(text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4))
    except (binascii.Error, ValueError) as err:
        raise ValueError(f"not URL-safe base64 ({err})") from None


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def origin_of(url: httpx.URL) -> str:
    default = {"https": 443, "http": 80}.get(url.scheme)
    host = f"[{url.host}]" if ":" in url.host else url.host
    port = f":{url.port}" if url.port is not None and url.port != default else ""
    return f"{url.scheme}://{host}{port}"


def load_vapid(private_key: str) -> Vapid02:
    """The VAPID key from ``VAPID_PRIVATE_KEY``; ValueError with the reason."""
    try:
        raw = b64url_decode(private_key)
    except ValueError as err:
        raise ValueError(f"invalid VAPID private key: {err}") from None
    try:
        if len(raw) == 32:
            return Vapid02.from_raw(private_key.strip().rstrip("=").encode())
        return Vapid02.from_der(private_key.strip().encode())
    except Exception as err:
        raise ValueError(f"invalid VAPID private key: {err}") from None


def public_key_b64(vapid: Vapid02) -> str:
    point = vapid.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return b64url_encode(point)


def generate_vapid_keys() -> tuple[str, str]:
    """A new key pair as (VAPID_PRIVATE_KEY, VAPID_PUBLIC_KEY) values."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = b64url_encode(key.private_numbers().private_value.to_bytes(32, "big"))
    public = b64url_encode(
        key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    )
    return private, public


class PushDelivery:
    """One per process (``ctx.push``): the VAPID key, the HTTP pools and the running jobs."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.vapid: Vapid02 | None = None
        self.problem: str | None = None
        private_key = settings.vapid_private_key
        if private_key:
            try:
                self.vapid = load_vapid(private_key)
            except ValueError as err:
                self.problem = str(err)
        self.public_key = settings.vapid_public_key or None
        self._public_b64 = public_key_b64(self.vapid) if self.vapid is not None else ""
        self._tokens: dict[str, tuple[str, int]] = {}  # audience -> (header, expiry)
        self.subject = settings.public_url or DEFAULT_SUBJECT
        self.timeout = timeout
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._sends = asyncio.Semaphore(MAX_CONCURRENT_SENDS)
        self._jobs: set[asyncio.Task[None]] = set()
        self.dropped_jobs = 0

    @property
    def enabled(self) -> bool:
        return self.vapid is not None

    @property
    def advertised_key(self) -> str | None:
        """What ``GET /api/push/vapid-key`` serves: the public key when push works."""
        return self.public_key if self.enabled else None

    def log_startup(self) -> None:
        if self.vapid is not None:
            log.info("Web Push notifications enabled")
            if self.public_key and self.public_key.rstrip("=") != public_key_b64(self.vapid):
                log.warning(
                    "VAPID_PUBLIC_KEY is not the public key of VAPID_PRIVATE_KEY: browsers "
                    "will refuse the notifications (expected %s)",
                    public_key_b64(self.vapid),
                )
            if not self.public_key:
                log.warning("VAPID_PUBLIC_KEY is not set: clients cannot subscribe to Web Push")
        elif self.problem is not None:
            log.warning("Web Push disabled: %s", self.problem)

    # -- background jobs ------------------------------------------------------------------

    def spawn(self, job: Coroutine[Any, Any, None]) -> bool:
        """Runs ``job`` in the background (errors are logged); False (job dropped) when too
        many are waiting already."""
        if len(self._jobs) >= MAX_PENDING_JOBS:
            job.close()
            self.dropped_jobs += 1
            log.warning("Push notification dropped: %d notifications are pending", len(self._jobs))
            return False
        task = asyncio.get_running_loop().create_task(self._guarded(job))
        self._jobs.add(task)
        task.add_done_callback(self._jobs.discard)
        return True

    @staticmethod
    async def _guarded(job: Coroutine[Any, Any, None]) -> None:
        try:
            await job
        except Exception:
            log.exception("Push notification job failed")

    async def drain(self) -> None:
        """Waits until every job started so far has finished (tests, shutdown)."""
        while self._jobs:
            await asyncio.gather(*list(self._jobs), return_exceptions=True)

    async def close(self) -> None:
        """Shutdown: pending jobs get ``timeout`` to finish, then are cancelled."""
        if self._jobs:
            _, pending = await asyncio.wait(list(self._jobs), timeout=self.timeout)
            for task in pending:
                task.cancel()
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    # -- one request ----------------------------------------------------------------------

    def _authorization(self, audience: str, now: float) -> str:
        """The VAPID header for ``audience``, signed again when less than half of its
        lifetime is left (one signature per push service, not per notification)."""
        assert self.vapid is not None
        cached = self._tokens.get(audience)
        if cached is not None and cached[1] - now > JWT_LIFETIME_SECONDS / 2:
            return cached[0]
        expires = int(now) + JWT_LIFETIME_SECONDS
        token = vapid_sign(
            {"aud": audience, "exp": expires, "sub": self.subject}, self.vapid.private_key
        )
        header = f"vapid t={token},k={self._public_b64}"
        if len(self._tokens) >= MAX_CACHED_TOKENS:
            self._tokens.clear()
        self._tokens[audience] = (header, expires)
        return header

    def encode(
        self, subscription: PushSubscriptionRow, payload: bytes, *, now: float | None = None
    ) -> tuple[dict[str, str], bytes]:
        """Headers and encrypted body for one subscription; ValueError when its keys cannot
        be used."""
        try:
            receiver = b64url_decode(subscription.p256dh_key)
            auth_secret = b64url_decode(subscription.auth_key)
            body: bytes = http_ece.encrypt(
                payload,
                salt=os.urandom(16),
                private_key=ec.generate_private_key(ec.SECP256R1()),
                dh=receiver,  # the library checks that it is a point on the curve
                auth_secret=auth_secret,
                version="aes128gcm",
            )
        except (ValueError, http_ece.ECEException) as err:
            raise ValueError(f"unusable subscription keys: {err}") from None
        audience = origin_of(httpx.URL(subscription.endpoint))
        headers = {
            "Authorization": self._authorization(audience, now or time.time()),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(TTL_SECONDS),
        }
        return headers, body

    async def send(self, subscription: PushSubscriptionRow, payload: bytes) -> Result:
        """Posts ``payload`` to one subscription (never raises)."""
        if self.vapid is None:
            return Result(Outcome.FAILED, "Web Push is not configured")
        try:
            headers, body = self.encode(subscription, payload)
        except ValueError as err:
            return Result(Outcome.GONE, str(err))
        except Exception as err:  # the library refused the keys in another way
            return Result(Outcome.GONE, f"unusable subscription keys: {err}")
        async with self._sends:
            try:
                async with asyncio.timeout(self.timeout):  # resolving, connecting, the answer
                    response = await self._post(subscription.endpoint, headers, body)
            except OutboundError as err:
                return Result(Outcome.FAILED, str(err))
            except (httpx.TimeoutException, TimeoutError):
                return Result(Outcome.FAILED, f"no answer within {self.timeout:g} s")
            except (httpx.HTTPError, OSError, ValueError) as err:
                return Result(Outcome.FAILED, f"{type(err).__name__}: {err}")
        status = response.status_code
        if 200 <= status < 300:
            return Result(Outcome.DELIVERED)
        detail = f"push service answered {status}"
        if status in GONE_STATUSES:
            return Result(Outcome.GONE, detail)
        return Result(Outcome.FAILED, detail)

    async def _post(self, endpoint: str, headers: dict[str, str], body: bytes) -> httpx.Response:
        url = httpx.URL(endpoint)
        if url.scheme != "https" and origin_of(url) not in TRUSTED_TEST_ORIGINS:
            raise BlockedDestination("endpoint must use HTTPS")
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self._transport or PinnedTransport(Destinations(allow=_test_networks())),
                timeout=self.timeout,
                follow_redirects=False,
                trust_env=False,
            )
        return await self._client.post(url, headers=headers, content=body)


def _test_networks() -> list[IPNetwork]:
    """The addresses of ``TRUSTED_TEST_ORIGINS`` (empty in the product)."""
    networks: list[IPNetwork] = []
    for origin in TRUSTED_TEST_ORIGINS:
        host = httpx.URL(origin).host
        with contextlib.suppress(ValueError):
            networks.append(ipaddress.ip_network(host))
    return networks


async def deliver(ctx: Ctx, subscriptions: list[PushSubscriptionRow], payload: bytes) -> None:
    """Sends ``payload`` to each subscription at once and records each outcome."""
    push = ctx.push
    results = await asyncio.gather(*(push.send(s, payload) for s in subscriptions))
    now = ctx.clock.now()
    async with ctx.db.transaction("push_bookkeeping") as tx:
        for subscription, result in zip(subscriptions, results, strict=True):
            if result.outcome is Outcome.DELIVERED:
                await push_repo.update_delivered(tx.conn, subscription.id, now)
            elif result.outcome is Outcome.GONE:
                log.info(
                    "Removing expired push subscription %s (%s)", subscription.id, result.detail
                )
                await push_repo.delete_subscription(tx.conn, subscription.id)
            else:
                log.warning("Push delivery failed for %s: %s", subscription.id, result.detail)
                await push_repo.update_failed(tx.conn, subscription.id)
