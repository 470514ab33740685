"""Which addresses count as public, and what a URL's host is taken to be."""

from __future__ import annotations

import ipaddress

import pytest

from chatalot.outbound.safe_http import (
    BlockedDestination,
    FetchFailed,
    classify_host,
    is_public_address,
    parse_ipv4_number_form,
)
from chatalot.outbound.ttl_cache import TtlLruCache

PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "2606:4700:4700::1111",
    "2a00:1450:4001:82b::200e",
    "::ffff:8.8.8.8",  # mapped public
    "64:ff9b::808:808",  # NAT64 of a public address
    "2002:808:808::1",  # 6to4 of a public address
]
INTERNAL = [
    "0.0.0.0",  # noqa: S104 - an address to refuse, not to bind
    "0.1.2.3",
    "10.1.2.3",
    "100.64.0.1",
    "100.127.255.254",
    "127.0.0.1",
    "127.255.255.255",
    "169.254.169.254",
    "172.16.0.1",
    "172.31.255.255",
    "192.0.0.1",
    "192.0.2.10",
    "192.88.99.1",
    "192.168.0.1",
    "198.18.0.1",
    "198.19.255.255",
    "198.51.100.7",
    "203.0.113.9",
    "224.0.0.251",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "::",
    "::1",
    "::127.0.0.1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::ffff:100.64.0.1",
    "64:ff9b::7f00:1",
    "64:ff9b:1::1",
    "2002:7f00:1::",
    "2002:a00:1::",
    "2001::1",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "2001:db8::1",
    "fc00::1",
    "fd00:ec2::254",  # AWS IMDS over IPv6
    "fe80::1",
    "fe80::1%eth0",
    "febf::1",
    "fec0::1",
    "ff02::1",
    "100::1",
]


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", INTERNAL)
def test_internal_addresses(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"),
        ("0x7F000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("0", "0.0.0.0"),  # noqa: S104
        ("0x", "0.0.0.0"),  # noqa: S104
        ("8.8.8.8.", "8.8.8.8"),
        ("1.256", "1.0.1.0"),
    ],
)
def test_numeric_hosts_are_ipv4_addresses_as_browsers_read_them(host: str, address: str) -> None:
    assert parse_ipv4_number_form(host) == ipaddress.IPv4Address(address)


@pytest.mark.parametrize("host", ["example.com", "1.example", "example.1a", "localhost"])
def test_names_are_not_numbers(host: str) -> None:
    assert parse_ipv4_number_form(host) is None


@pytest.mark.parametrize("host", ["1.2.3.4.5", "256.0.0.1", "08.1.1.1", "a.0x10", "4294967296"])
def test_hosts_ending_in_a_bad_number_are_invalid(host: str) -> None:
    """A host ending in a number is an IPv4 address or nothing (never a name to resolve)."""
    with pytest.raises(FetchFailed):
        parse_ipv4_number_form(host)


def test_names_are_idna_mapped_lower_cased_and_stripped_of_the_root_dot() -> None:
    assert classify_host("Example.COM.").name == "example.com"
    assert classify_host("bücher.de").name == "xn--bcher-kva.de"
    with pytest.raises(BlockedDestination):
        classify_host("ⓛocalhost")
    with pytest.raises(FetchFailed):
        classify_host("exa mple.com")
    with pytest.raises(FetchFailed):
        classify_host("")


def test_ttl_cache_expires_and_evicts_the_least_recently_used() -> None:
    now = [0.0]
    cache: TtlLruCache[str, int] = TtlLruCache(2, 10.0, clock=lambda: now[0])
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recently used
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3
    now[0] = 10.0
    assert cache.get("a") is None and len(cache) == 1
