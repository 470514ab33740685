"""The client-IP resolver's fast paths: the same answers as the full rules, with addresses
parsed once (cached) instead of on every request."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from chatalot.api import client_ip
from chatalot.api.client_ip import CACHE_SIZE, ClientIpResolver

TRUSTED = ("127.0.0.1/32", "::1/128", "10.0.0.0/8")


def resolver() -> ClientIpResolver:
    return ClientIpResolver([ipaddress.ip_network(t) for t in TRUSTED])


def scope(peer: str | None, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "http", "client": (peer, 4321) if peer else None, "headers": headers}


@pytest.fixture
def parse_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every address string handed to ipaddress, in order."""
    calls: list[str] = []
    real = client_ip._parse

    def counting(value: str) -> Any:
        calls.append(value)
        return real(value)

    monkeypatch.setattr(client_ip, "_parse", counting)
    return calls


CASES = [
    ("198.51.100.9", [(b"x-forwarded-for", b"1.2.3.4")], "198.51.100.9"),
    ("127.0.0.1", [(b"x-forwarded-for", b"1.2.3.4")], "1.2.3.4"),
    ("127.0.0.1", [(b"x-forwarded-for", b"6.6.6.6"), (b"x-forwarded-for", b"1.2.3.4")], "1.2.3.4"),
    ("127.0.0.1", [(b"X-Forwarded-For", b"1.2.3.4, 10.0.0.5")], "1.2.3.4"),
    ("127.0.0.1", [(b"x-real-ip", b"2001:db8::1"), (b"accept", b"*/*")], "2001:db8::1"),
    ("127.0.0.1", [(b"cf-connecting-ip", b"garbage"), (b"x-forwarded-for", b"9.9.9.9")], "9.9.9.9"),
    ("::ffff:127.0.0.1", [(b"x-forwarded-for", b"5.5.5.5")], "5.5.5.5"),
    ("127.0.0.1", [(b"user-agent", b"curl")], "127.0.0.1"),
    (None, [(b"x-forwarded-for", b"1.2.3.4")], "unknown"),
]


@pytest.mark.parametrize(("peer", "headers", "expected"), CASES)
def test_from_scope_matches_the_rules(
    peer: str | None, headers: list[tuple[bytes, bytes]], expected: str
) -> None:
    """From ASGI scopes (repeated headers joined, any name case): the documented answers,
    the first time and from the cache."""
    ips = resolver()
    assert ips.from_scope(scope(peer, headers)) == expected
    assert ips.from_scope(scope(peer, headers)) == expected


def test_a_known_peer_is_not_parsed_again(parse_calls: list[str]) -> None:
    """The second request from the same peers parses no address at all."""
    ips = resolver()
    direct = scope("203.0.113.7", [(b"x-forwarded-for", b"1.2.3.4")])
    proxied = scope("127.0.0.1", [(b"x-forwarded-for", b"198.51.100.1")])
    assert ips.from_scope(direct) == "203.0.113.7"
    assert ips.from_scope(proxied) == "198.51.100.1"
    assert parse_calls == ["203.0.113.7", "127.0.0.1", "198.51.100.1"]
    parse_calls.clear()
    for _ in range(3):
        assert ips.from_scope(direct) == "203.0.113.7"
        assert ips.from_scope(proxied) == "198.51.100.1"
    assert parse_calls == []


def test_untrusted_peer_headers_are_never_read(parse_calls: list[str]) -> None:
    """A peer that is not a proxy: its forwarding headers are not even parsed."""
    ips = resolver()
    headers = [(b"x-forwarded-for", b"1.1.1.1, 2.2.2.2"), (b"x-real-ip", b"3.3.3.3")]
    assert ips.from_scope(scope("203.0.113.8", headers)) == "203.0.113.8"
    assert parse_calls == ["203.0.113.8"]


def test_cache_is_bounded(parse_calls: list[str]) -> None:
    """A flood of distinct addresses keeps at most CACHE_SIZE of them; the oldest is parsed
    again, and the answers stay right."""
    ips = resolver()
    for i in range(CACHE_SIZE + 10):
        peer = f"203.0.{i >> 8}.{i & 255}"
        assert ips.from_scope(scope(peer, [])) == peer
    assert ips._classify.cache_info().currsize == CACHE_SIZE
    parse_calls.clear()
    assert ips.from_scope(scope("203.0.0.0", [])) == "203.0.0.0"
    assert parse_calls == ["203.0.0.0"]
