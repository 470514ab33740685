"""The SSRF-safe fetcher against real local HTTP servers.

Local servers live on 127.0.0.1, which the fetcher refuses by design. Tests that need to reach
one use the seam: a resolver that maps a test name (``preview.test``) to 127.0.0.1 plus an
allow-list for that one address. The refusal tests run WITHOUT the seam (or with it and an
address outside it) and check that the server never saw a request."""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import time
from collections.abc import Sequence

import pytest

from chatalot.outbound.safe_http import (
    BlockedDestination,
    BodyReadFailed,
    FetchFailed,
    SafeFetcher,
)
from tests.outbound.fake_http import Reply, Seen, html, make_certificate, redirect, serve

LOOPBACK = ipaddress.ip_network("127.0.0.1/32")


class MapResolver:
    """Answers from a table (name -> addresses, or a list of answers given in turn) and counts
    its calls; unknown names fail as DNS would."""

    def __init__(self, table: dict[str, Sequence[str] | list[Sequence[str]]]) -> None:
        self.table = table
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.calls.append(host)
        answer = self.table.get(host)
        if answer is None:
            raise OSError(f"unknown host {host}")
        if answer and isinstance(answer[0], list | tuple):
            turns = answer
            index = min(self.calls.count(host), len(turns)) - 1
            return list(turns[index])
        return list(answer)  # type: ignore[arg-type]


def seam(**table: Sequence[str] | list[Sequence[str]]) -> tuple[SafeFetcher, MapResolver]:
    resolver = MapResolver({k.replace("_", "."): v for k, v in table.items()})
    return SafeFetcher(resolver=resolver, allow=(LOOPBACK,), user_agent="TestBot/1"), resolver


def ok(seen: Seen) -> Reply:
    return html("<title>hello</title>")


# -- reaching a server through the seam --------------------------------------------------------


async def test_a_name_is_resolved_once_and_the_request_keeps_its_host() -> None:
    async with serve(ok) as server:
        fetcher, resolver = seam(preview_test=["127.0.0.1"])
        result = await fetcher.fetch(server.url("/page?x=1", host="preview.test"), max_bytes=1000)
    assert result.status == 200
    assert result.body == b"<title>hello</title>"
    assert not result.truncated
    assert resolver.calls == ["preview.test"]
    [seen] = server.requests
    assert seen.target == "/page?x=1"
    assert seen.headers["host"] == f"preview.test:{server.port}"
    assert seen.headers["user-agent"] == "TestBot/1"


async def test_userinfo_is_not_forwarded() -> None:
    async with serve(ok) as server:
        fetcher, _ = seam(preview_test=["127.0.0.1"])
        url = server.url("/", host="user:secret@preview.test")
        await fetcher.fetch(url, max_bytes=1000)
    [seen] = server.requests
    assert "authorization" not in seen.headers
    assert seen.headers["host"] == f"preview.test:{server.port}"


async def test_the_next_checked_address_is_tried_when_one_refuses_connections() -> None:
    async with serve(ok) as server:
        fetcher = SafeFetcher(
            resolver=MapResolver({"preview.test": ["127.0.0.3", "127.0.0.1"]}),
            allow=(ipaddress.ip_network("127.0.0.0/8"),),
        )
        result = await fetcher.fetch(server.url(host="preview.test"), max_bytes=1000)
    assert result.status == 200


# -- refusals without the seam -----------------------------------------------------------------


async def test_without_the_seam_a_local_server_is_refused_and_never_contacted() -> None:
    async with serve(ok) as server:
        with pytest.raises(BlockedDestination):
            await SafeFetcher().fetch(server.url(), max_bytes=1000)
    assert server.requests == []


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "2130706433",  # decimal
        "0177.0.0.1",  # octal
        "0x7f000001",  # hex
        "0x7f.0.0.1",
        "127.1",
        "0",  # 0.0.0.0
        "0.0.0.0",  # noqa: S104 - refused, not bound
        "[::1]",
        "[::ffff:7f00:1]",  # IPv4-mapped, hex
        "[::ffff:127.0.0.1]",
        "[::127.0.0.1]",  # IPv4-compatible
        "[64:ff9b::7f00:1]",  # NAT64 of 127.0.0.1
        "[2002:7f00:1::]",  # 6to4 of 127.0.0.1
        "[::]",
        "example.com@127.0.0.1",  # userinfo trick: the host is 127.0.0.1
    ],
)
async def test_loopback_in_any_literal_form_is_refused(host: str) -> None:
    resolver = MapResolver({})
    async with serve(ok) as server:
        with pytest.raises(BlockedDestination):
            await SafeFetcher(resolver=resolver).fetch(
                f"http://{host}:{server.port}/", max_bytes=1000
            )
    assert server.requests == []
    assert resolver.calls == []  # literals never reach a resolver


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/",
        "http://172.16.5.4/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",  # CGNAT
        "http://198.18.0.1/",  # benchmarking
        "http://192.0.2.1/",  # documentation
        "http://224.0.0.1/",  # multicast
        "http://240.0.0.1/",  # reserved
        "http://255.255.255.255/",
        "http://[fe80::1]/",
        "http://[fe80::1%25eth0]/",
        "http://[fc00::1]/",
        "http://[fd12:3456::1]/",
        "http://[fec0::1]/",  # site-local
        "http://[ff02::1]/",
        "http://[::ffff:a9fe:a9fe]/",  # mapped 169.254.169.254
        "http://[::ffff:10.0.0.1]/",
        "http://[64:ff9b::a00:1]/",  # NAT64 of 10.0.0.1
        "http://[2002:c0a8:101::1]/",  # 6to4 of 192.168.1.1
        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",  # Teredo
        "https://0xa9.0xfe.0xa9.0xfe/",  # hex 169.254.169.254
        "http://3232235777/",  # decimal 192.168.1.1
    ],
)
async def test_internal_literals_are_refused(url: str) -> None:
    with pytest.raises(BlockedDestination):
        await SafeFetcher(resolver=MapResolver({})).fetch(url, max_bytes=1000)


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "LOCALHOST.",
        "ⓛocalhost",  # maps to "localhost" (IDNA)
        "app.localhost",
        "printer.local",
        "metadata.google.internal",
        "router.home.arpa",
    ],
)
async def test_local_names_are_refused_without_resolving(host: str) -> None:
    resolver = MapResolver({host: ["8.8.8.8"]})
    with pytest.raises(BlockedDestination):
        await SafeFetcher(resolver=resolver).fetch(f"http://{host}/", max_bytes=1000)
    assert resolver.calls == []


@pytest.mark.parametrize(
    "address", ["10.0.0.1", "127.0.0.1", "::1", "::ffff:127.0.0.1", "fe80::1", "169.254.169.254"]
)
async def test_a_name_that_resolves_to_an_internal_address_is_refused(address: str) -> None:
    resolver = MapResolver({"evil.example": [address]})
    with pytest.raises(BlockedDestination):
        await SafeFetcher(resolver=resolver).fetch("http://evil.example/", max_bytes=1000)
    assert resolver.calls == ["evil.example"]


async def test_one_internal_address_among_public_ones_refuses_the_name() -> None:
    resolver = MapResolver({"mixed.example": ["93.184.216.34", "10.0.0.1"]})
    with pytest.raises(BlockedDestination):
        await SafeFetcher(resolver=resolver).fetch("http://mixed.example/", max_bytes=1000)


async def test_the_allow_list_admits_only_its_own_addresses() -> None:
    """The seam itself: 127.0.0.1 is let through, 127.0.0.2 is not."""
    async with serve(ok, host="127.0.0.2") as other:
        fetcher, _ = seam(other_test=["127.0.0.2"])
        with pytest.raises(BlockedDestination):
            await fetcher.fetch(other.url(host="other.test"), max_bytes=1000)
    assert other.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/",
        "file:///etc/passwd",
        "gopher://example.com/",
        "javascript:alert(1)",
        "http://",
        "http://exa mple.com/",
        "http://1.2.3.4.5/",
        "http://256.0.0.1/",
        "http://[::1/",
        "http://example.com:99999/",
        "http://" + "a" * 300 + ".com/",
    ],
)
async def test_unusable_urls_fail_without_a_request(url: str) -> None:
    resolver = MapResolver({})
    with pytest.raises(FetchFailed):
        await SafeFetcher(resolver=resolver).fetch(url, max_bytes=1000)
    assert resolver.calls == []


async def test_an_unresolvable_name_fails() -> None:
    with pytest.raises(FetchFailed):
        await SafeFetcher(resolver=MapResolver({})).fetch("http://nx.example/", max_bytes=10)


# -- DNS rebinding -----------------------------------------------------------------------------


async def test_the_connection_goes_to_the_address_that_was_checked() -> None:
    """A resolver that answers an allowed address first and an internal one afterwards (DNS
    rebinding): the fetch resolves once and connects to the first answer."""

    def answer_a(seen: Seen) -> Reply:
        return html("A")

    def answer_b(seen: Seen) -> Reply:
        return html("B")

    async with (
        serve(answer_a) as first,
        serve(answer_b, host="127.0.0.2", port=first.port) as internal,
    ):
        assert internal.port == first.port  # the second answer would reach this one
        resolver = MapResolver({"rebind.test": [["127.0.0.1"], ["127.0.0.2"]]})
        fetcher = SafeFetcher(resolver=resolver, allow=(LOOPBACK,))
        url = first.url(host="rebind.test")
        result = await fetcher.fetch(url, max_bytes=100)
    assert result.body == b"A"
    assert resolver.calls == ["rebind.test"]
    assert internal.requests == []


# -- redirects ---------------------------------------------------------------------------------


async def test_redirects_into_internal_addresses_are_refused_before_they_are_followed() -> None:
    async with serve(ok, host="127.0.0.2") as internal:
        targets = [
            internal.url(),  # 127.0.0.2: not in the allow-list
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/",
            "http://2130706434/",  # 127.0.0.2 in decimal
            "http://localhost/",
            "http://internal.test/",  # resolves to 10.0.0.1
        ]
        for target in targets:

            def bounce(seen: Seen, target: str = target) -> Reply:
                return redirect(target)

            async with serve(bounce) as public:
                fetcher, _ = seam(preview_test=["127.0.0.1"], internal_test=["10.0.0.1"])
                with pytest.raises(BlockedDestination):
                    await fetcher.fetch(public.url(host="preview.test"), max_bytes=100)
                assert len(public.requests) == 1, target
    assert internal.requests == []


async def test_a_redirect_to_another_scheme_fails() -> None:
    async with serve(lambda seen: redirect("file:///etc/passwd")) as server:
        fetcher, _ = seam(preview_test=["127.0.0.1"])
        with pytest.raises(FetchFailed):
            await fetcher.fetch(server.url(host="preview.test"), max_bytes=100)


async def test_relative_redirects_are_followed_up_to_three() -> None:
    def chain(seen: Seen) -> Reply:
        step = int(seen.path.strip("/") or 0)
        if step < hops:
            return redirect(f"/{step + 1}", status=301 if step % 2 else 307)
        return html(f"end {step}")

    async with serve(chain) as server:
        fetcher, _ = seam(preview_test=["127.0.0.1"])
        hops = 3
        result = await fetcher.fetch(server.url("/0", host="preview.test"), max_bytes=100)
        assert result.body == b"end 3"
        assert result.url == server.url("/3", host="preview.test")
        assert len(server.requests) == 4
        hops = 4
        server.requests.clear()
        with pytest.raises(FetchFailed):
            await fetcher.fetch(server.url("/0", host="preview.test"), max_bytes=100)
        assert len(server.requests) == 4  # the fourth redirect is not followed


# -- limits ------------------------------------------------------------------------------------


async def test_the_body_is_cut_at_the_cap() -> None:
    big = [b"x" * 65536] * 32  # 2 MiB
    async with serve(lambda seen: Reply(200, [("Content-Type", "text/html")], big)) as server:
        fetcher, _ = seam(preview_test=["127.0.0.1"])
        result = await fetcher.fetch(server.url(host="preview.test"), max_bytes=512_000)
    assert len(result.body) == 512_000
    assert result.truncated


async def test_a_compressed_body_cannot_expand_past_the_cap() -> None:
    bomb = gzip.compress(b"\0" * 50_000_000, compresslevel=9)  # 50 MB in ~50 kB
    assert len(bomb) < 100_000
    reply = Reply(200, [("Content-Type", "text/html"), ("Content-Encoding", "gzip")], bomb)
    async with serve(lambda seen: reply) as server:
        fetcher, _ = seam(preview_test=["127.0.0.1"])
        result = await fetcher.fetch(server.url(host="preview.test"), max_bytes=512_000)
    assert len(result.body) == 512_000
    assert result.truncated
    assert server.requests[0].headers["accept-encoding"] == "gzip, deflate"


async def test_gzip_and_deflate_bodies_are_decoded() -> None:
    import zlib

    for encoding, data in (
        ("gzip", gzip.compress(b"<p>zipped</p>")),
        ("deflate", zlib.compress(b"<p>zipped</p>")),
        ("deflate", zlib.compress(b"<p>zipped</p>")[2:-4]),  # raw deflate, as some servers send
    ):
        reply = Reply(200, [("Content-Encoding", encoding)], data)
        async with serve(lambda seen, reply=reply: reply) as server:
            fetcher, _ = seam(preview_test=["127.0.0.1"])
            result = await fetcher.fetch(server.url(host="preview.test"), max_bytes=1000)
        assert result.body == b"<p>zipped</p>", encoding


async def test_an_unknown_content_encoding_is_a_read_failure() -> None:
    reply = Reply(200, [("Content-Encoding", "br")], b"\x8b\x00\x80hello\x03")
    async with serve(lambda seen: reply) as server:
        fetcher, _ = seam(preview_test=["127.0.0.1"])
        with pytest.raises(BodyReadFailed):
            await fetcher.fetch(server.url(host="preview.test"), max_bytes=1000)


async def test_a_slow_server_hits_the_time_limit() -> None:
    async with serve(lambda seen: Reply(200, body=b"late", head_delay=30)) as server:
        fetcher = SafeFetcher(
            resolver=MapResolver({"preview.test": ["127.0.0.1"]}), allow=(LOOPBACK,), timeout=0.5
        )
        started = time.monotonic()
        with pytest.raises(FetchFailed):
            await fetcher.fetch(server.url(host="preview.test"), max_bytes=100)
    assert time.monotonic() - started < 4.0


async def test_a_body_dripping_forever_hits_the_same_time_limit() -> None:
    """Each chunk arrives well within any per-read timeout; the total limit still holds."""
    drip = Reply(200, [("Content-Type", "text/html")], [b"x"] * 1000, chunk_delay=0.05)
    async with serve(lambda seen: drip) as server:
        fetcher = SafeFetcher(
            resolver=MapResolver({"preview.test": ["127.0.0.1"]}), allow=(LOOPBACK,), timeout=0.6
        )
        started = time.monotonic()
        with pytest.raises(BodyReadFailed):
            await fetcher.fetch(server.url(host="preview.test"), max_bytes=100_000)
    assert time.monotonic() - started < 4.0


async def test_a_body_cut_short_is_a_read_failure() -> None:
    reply = Reply(200, [("Content-Type", "text/html")], b"<p>only part", content_length=5000)
    async with serve(lambda seen: reply) as server:
        fetcher, _ = seam(preview_test=["127.0.0.1"])
        with pytest.raises(BodyReadFailed):
            await fetcher.fetch(server.url(host="preview.test"), max_bytes=100_000)


async def test_the_body_is_not_read_when_not_wanted() -> None:
    reply = Reply(200, [("Content-Type", "image/png")], [b"\x89PNG"] * 4, chunk_delay=5)
    async with serve(lambda seen: reply) as server:
        fetcher, _ = seam(preview_test=["127.0.0.1"])
        started = time.monotonic()
        result = await fetcher.fetch(
            server.url(host="preview.test"),
            max_bytes=100,
            want_body=lambda headers: "text/html" in headers.get("content-type", ""),
        )
    assert result.body == b"" and result.content_type == "image/png"
    assert time.monotonic() - started < 4.0


async def test_concurrent_fetches_do_not_wait_for_each_other() -> None:
    slow = Reply(200, body=b"slow", head_delay=1.0)  # one after the other: 5 s
    async with serve(lambda seen: slow) as server:
        fetcher, _ = seam(preview_test=["127.0.0.1"])
        started = time.monotonic()
        results = await asyncio.gather(
            *(
                fetcher.fetch(server.url(f"/{i}", host="preview.test"), max_bytes=10)
                for i in range(5)
            )
        )
    assert [r.body for r in results] == [b"slow"] * 5
    assert time.monotonic() - started < 3.0


# -- TLS ---------------------------------------------------------------------------------------


async def test_https_uses_the_name_for_sni_and_the_certificate_while_connecting_to_the_ip() -> None:
    cert = make_certificate("preview.test")
    async with serve(ok, tls=cert.server) as server:
        fetcher = SafeFetcher(
            resolver=MapResolver({"preview.test": ["127.0.0.1"]}),
            allow=(LOOPBACK,),
            ssl_context=cert.client,
        )
        result = await fetcher.fetch(server.url(host="preview.test"), max_bytes=100)
    assert result.body == b"<title>hello</title>"
    assert server.sni == ["preview.test"]
    assert server.requests[0].headers["host"] == f"preview.test:{server.port}"


async def test_https_refuses_a_certificate_for_another_name() -> None:
    cert = make_certificate("other.test")
    async with serve(ok, tls=cert.server) as server:
        fetcher = SafeFetcher(
            resolver=MapResolver({"preview.test": ["127.0.0.1"]}),
            allow=(LOOPBACK,),
            ssl_context=cert.client,
        )
        with pytest.raises(FetchFailed):
            await fetcher.fetch(server.url(host="preview.test"), max_bytes=100)
    assert server.requests == []


async def test_a_redirect_to_127_0_0_1_is_refused() -> None:
    """The roles swapped: the "public" page is on 127.0.0.2 (the one address allowed here) and
    redirects to a server on http://127.0.0.1:port/, which must never be asked."""
    async with serve(lambda seen: html("<title>internal</title>")) as internal:

        def bounce(seen: Seen) -> Reply:
            return redirect(f"http://127.0.0.1:{internal.port}/")

        async with serve(bounce, host="127.0.0.2") as public:
            fetcher = SafeFetcher(
                resolver=MapResolver({"public.test": ["127.0.0.2"]}),
                allow=(ipaddress.ip_network("127.0.0.2/32"),),
            )
            with pytest.raises(BlockedDestination):
                await fetcher.fetch(public.url(host="public.test"), max_bytes=100)
        assert len(public.requests) == 1
    assert internal.requests == []
