"""The client's address, believing forwarding headers only from TRUSTED_PROXIES.

When the TCP peer is a trusted proxy, ``CF-Connecting-IP`` or ``X-Real-IP`` is taken if it is a
valid address; otherwise ``X-Forwarded-For`` is walked from the right, skipping trusted
proxies, and the first untrusted address is the client. Headers from untrusted peers are
ignored entirely, so a client cannot choose its own rate-limit bucket or audit address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ClientIpResolver:
    def __init__(self, trusted: Iterable[Network]) -> None:
        self._trusted = tuple(trusted)

    def is_trusted(self, address: str) -> bool:
        ip = _parse(address)
        if ip is None:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self._trusted)

    def resolve(self, peer: str | None, headers: Mapping[str, str]) -> str:
        peer = peer or "unknown"
        if not self.is_trusted(peer):
            return peer
        for name in ("cf-connecting-ip", "x-real-ip"):
            value = headers.get(name, "").strip()
            if _parse(value) is not None:
                return value
        forwarded = [part.strip() for part in headers.get("x-forwarded-for", "").split(",")]
        for candidate in reversed([p for p in forwarded if p]):
            if _parse(candidate) is None:
                break  # garbage in the chain: stop believing it
            if not self.is_trusted(candidate):
                return candidate
        return peer

    def from_scope(self, scope: Mapping[str, Any]) -> str:
        client = scope.get("client")
        peer = client[0] if client else None
        headers: dict[str, str] = {}
        for key, value in scope.get("headers", []):
            name = key.decode("latin-1").lower()
            if name in ("cf-connecting-ip", "x-real-ip", "x-forwarded-for"):
                text = value.decode("latin-1")
                headers[name] = f"{headers[name]},{text}" if name in headers else text
        return self.resolve(peer, headers)


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None
