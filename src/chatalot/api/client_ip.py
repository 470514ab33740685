"""The client's address, believing forwarding headers only from TRUSTED_PROXIES.

When the TCP peer is a trusted proxy, ``CF-Connecting-IP`` or ``X-Real-IP`` is taken if it is a
valid address; otherwise ``X-Forwarded-For`` is walked from the right, skipping trusted
proxies, and the first untrusted address is the client. Headers from untrusted peers are
ignored entirely, so a client cannot choose its own rate-limit bucket or audit address.

Cost: this runs on every request, so "is this address a trusted proxy?" is answered from a
bounded cache (addresses are parsed with ``ipaddress`` once, not per request), headers are
looked at only when the peer is trusted, and a request without forwarding headers is answered
without building anything.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Addresses remembered (trusted or not, valid or not). Peers repeat; forwarded addresses are
# looked up only for trusted peers. Bounded so that a flood of distinct addresses costs at
# most this many entries.
CACHE_SIZE = 4096

_FORWARDING = (b"cf-connecting-ip", b"x-real-ip", b"x-forwarded-for")


class ClientIpResolver:
    def __init__(self, trusted: Iterable[Network]) -> None:
        self._trusted = tuple(trusted)
        # (is a valid address, is trusted), per address string, least recently used dropped
        self._classify = functools.lru_cache(maxsize=CACHE_SIZE)(self._classify_uncached)
        # the client behind a trusted proxy, per (peer, forwarding headers as sent)
        self._forwarded = functools.lru_cache(maxsize=CACHE_SIZE)(self._forwarded_uncached)

    def _classify_uncached(self, address: str) -> tuple[bool, bool]:
        ip = _parse(address)
        if ip is None:
            return False, False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return True, any(ip in network for network in self._trusted)

    def is_trusted(self, address: str) -> bool:
        return self._classify(address)[1]

    def _is_valid(self, address: str) -> bool:
        return self._classify(address)[0] if address else False

    def resolve(self, peer: str | None, headers: Mapping[str, str]) -> str:
        peer = peer or "unknown"
        if not self.is_trusted(peer):
            return peer
        return self._behind_proxy(peer, headers)

    def _behind_proxy(self, peer: str, headers: Mapping[str, str]) -> str:
        """The client of a request that came through the trusted proxy ``peer``."""
        for name in ("cf-connecting-ip", "x-real-ip"):
            value = headers.get(name, "").strip()
            if self._is_valid(value):
                return value
        forwarded = [part.strip() for part in headers.get("x-forwarded-for", "").split(",")]
        for candidate in reversed([p for p in forwarded if p]):
            if not self._is_valid(candidate):
                break  # garbage in the chain: stop believing it
            if not self.is_trusted(candidate):
                return candidate
        return peer

    def behind_proxy(
        self,
        peer: str,
        cf_connecting_ip: bytes | None,
        real_ip: bytes | None,
        forwarded: bytes | None,
    ) -> str:
        """The client of a request from the trusted proxy ``peer``, from the raw forwarding
        headers (None: absent; several X-Forwarded-For headers joined with commas). Cached:
        a proxy repeats the same chains."""
        if cf_connecting_ip is None and real_ip is None and forwarded is None:
            return peer
        return self._forwarded(peer, cf_connecting_ip, real_ip, forwarded)

    def _forwarded_uncached(
        self,
        peer: str,
        cf_connecting_ip: bytes | None,
        real_ip: bytes | None,
        forwarded: bytes | None,
    ) -> str:
        headers = {
            name: value.decode("latin-1")
            for name, value in (
                ("cf-connecting-ip", cf_connecting_ip),
                ("x-real-ip", real_ip),
                ("x-forwarded-for", forwarded),
            )
            if value is not None
        }
        return self._behind_proxy(peer, headers)

    def from_scope(self, scope: Mapping[str, Any]) -> str:
        client = scope.get("client")
        peer = (client[0] if client else None) or "unknown"
        if not self.is_trusted(peer):
            return peer  # the common case without a proxy: headers are never read
        found: dict[bytes, bytes] = {}
        for key, value in scope.get("headers", ()):
            name = key.lower()
            if name in _FORWARDING:
                found[name] = found[name] + b"," + value if name in found else value
        return self.behind_proxy(
            peer,
            found.get(b"cf-connecting-ip"),
            found.get(b"x-real-ip"),
            found.get(b"x-forwarded-for"),
        )


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None
