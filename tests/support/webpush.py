"""Web Push test tools: VAPID key pairs, browser-side subscription keys, and a local push
service (plain HTTP on the loopback interface) that records what it receives, DECRYPTS it with
the subscription's private key (aes128gcm, ``http_ece``) and checks the VAPID JWT's signature
and claims, as a real push service would."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import http_ece
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid.jwt import decode as vapid_decode

from chatalot.services import push_delivery


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_point(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


@dataclass(frozen=True)
class VapidPair:
    private: str  # VAPID_PRIVATE_KEY: raw 32-byte scalar, URL-safe base64 without padding
    public: str  # VAPID_PUBLIC_KEY: uncompressed point, URL-safe base64 without padding

    @property
    def env(self) -> dict[str, str]:
        return {"VAPID_PRIVATE_KEY": self.private, "VAPID_PUBLIC_KEY": self.public}


def vapid_pair() -> VapidPair:
    key = ec.generate_private_key(ec.SECP256R1())
    scalar = key.private_numbers().private_value.to_bytes(32, "big")
    return VapidPair(private=b64url(scalar), public=b64url(public_point(key)))


@dataclass(frozen=True)
class BrowserKeys:
    """What a browser keeps for one subscription (the private half never leaves it)."""

    private: ec.EllipticCurvePrivateKey
    auth: bytes

    @property
    def p256dh(self) -> str:
        return b64url(public_point(self.private))

    @property
    def auth_key(self) -> str:
        return b64url(self.auth)


def browser_keys() -> BrowserKeys:
    return BrowserKeys(private=ec.generate_private_key(ec.SECP256R1()), auth=os.urandom(16))


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class PushService:
    """A push service on 127.0.0.1: ``endpoint(name)`` is a subscription URL; requests are kept
    in ``received``; ``status[name]`` is what it answers (201 by default)."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    status: dict[str, int] = field(default_factory=dict)
    delay: float = 0.0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def endpoint(self, name: str) -> str:
        return f"{self.origin}/push/{name}"

    def for_endpoint(self, name: str) -> list[Received]:
        return [r for r in self.received if r.path == f"/push/{name}"]

    async def wait_for(self, count: int, timeout: float = 5.0) -> None:
        async def enough() -> None:
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(enough(), timeout)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            _method, path, _version = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.received.append(Received(path, headers, body))
            self.arrived.set()
            if self.delay:
                await asyncio.sleep(self.delay)
            status = self.status.get(path.rsplit("/", 1)[-1], 201)
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def push_service() -> AsyncIterator[PushService]:
    """A running local push service, trusted by the server for the duration (the test seam
    ``push_delivery.TRUSTED_TEST_ORIGINS``)."""
    service = PushService()
    server = await asyncio.start_server(service._handle, "127.0.0.1", 0)
    service.port = int(server.sockets[0].getsockname()[1])
    push_delivery.TRUSTED_TEST_ORIGINS.add(service.origin)
    try:
        yield service
    finally:
        push_delivery.TRUSTED_TEST_ORIGINS.discard(service.origin)
        server.close()
        await server.wait_closed()


def decrypt(received: Received, keys: BrowserKeys) -> dict[str, Any]:
    """The notification as the browser would read it (fails unless encrypted for ``keys``)."""
    assert received.headers["content-encoding"] == "aes128gcm"
    plain = http_ece.decrypt(
        received.body, private_key=keys.private, auth_secret=keys.auth, version="aes128gcm"
    )
    value = json.loads(plain)
    assert isinstance(value, dict)
    return value


def check_vapid(
    received: Received, vapid: VapidPair, *, audience: str, subject: str
) -> dict[str, Any]:
    """The VAPID header is ``vapid t=<jwt>,k=<server public key>``; the JWT is signed by the
    VAPID private key (checked with the public key), for ``audience``, from ``subject``, and
    expires within 24 hours. Its claims."""
    scheme, _, params = received.headers["authorization"].partition(" ")
    assert scheme == "vapid"
    parts = dict(p.split("=", 1) for p in params.split(","))
    assert parts["k"] == vapid.public
    claims = vapid_decode(parts["t"], vapid.public)  # raises InvalidSignature
    assert claims["aud"] == audience
    assert claims["sub"] == subject
    assert time.time() < claims["exp"] <= time.time() + 24 * 3600
    return dict(claims)
