"""Fetching URLs that users chose, without letting them reach the server's own network (SSRF).

The rule: resolve first, check every address, then connect to exactly the address that was
checked. Nothing is checked after the request was sent, and nothing is resolved twice:

- ``Destinations`` turns a URL's host into the addresses to connect to. IP literals in any
  form a URL parser accepts (``2130706433``, ``0177.0.0.1``, ``0x7f.1``, ``[::ffff:7f00:1]``)
  are decoded, never handed to a resolver; names are IDNA-mapped (``ⓛocalhost`` is
  ``localhost``), refused outright when they are local by definition (``localhost``,
  ``*.local``, ``*.internal``, ...) and otherwise resolved once. If any address is not globally
  routable (``is_public_address``) the whole destination is refused.
- ``PinnedTransport`` (an httpx transport) does that for every request it is given and sends
  the request to the checked IP, with the original ``Host`` header and, for https, the original
  name for SNI and certificate checks. Connections are never reused, so a connection made for
  one name never carries a request for another.
- ``SafeFetcher`` adds what a fetch needs: redirects followed by hand (each target goes
  through the transport again, so a redirect into a private range is refused like a direct
  link), one time limit for everything, and a cap on the decoded body enforced while reading
  (a compressed body cannot expand past it).

Tests and operators can widen the rule with ``allow`` (networks that are let through even though
they are not public) and replace name resolution with ``resolver``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx
import idna

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

DEFAULT_TIMEOUT_SECS = 10.0
DEFAULT_MAX_REDIRECTS = 3
MAX_ADDRESSES_TRIED = 4  # of a name's (all checked) addresses, tried in order until one connects
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class OutboundError(Exception):
    """A fetch that did not happen or did not finish. ``str()`` is for logs, not clients."""


class BlockedDestination(OutboundError):
    """The URL points at (or redirects to, or resolves to) an internal address."""


class FetchFailed(OutboundError):
    """No usable response: bad URL, DNS failure, connection error, timeout, too many redirects."""


class BodyReadFailed(OutboundError):
    """The response started but its body could not be read (error, timeout, bad encoding)."""


# -- which addresses are public ---------------------------------------------------------------

_BLOCKED_V4 = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # carrier-grade NAT (shared address space)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local (cloud metadata at 169.254.169.254)
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # TEST-NET-1
        "192.31.196.0/24",  # AS112
        "192.52.193.0/24",  # AMT
        "192.88.99.0/24",  # 6to4 relay anycast (deprecated)
        "192.168.0.0/16",  # private
        "192.175.48.0/24",  # AS112 direct delegation
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # TEST-NET-2
        "203.0.113.0/24",  # TEST-NET-3
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and 255.255.255.255 broadcast
    )
)
_BLOCKED_V6 = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "::/96",  # unspecified, loopback and the deprecated IPv4-compatible addresses
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments, Teredo (2001::/32)
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation
        "5f00::/16",  # segment routing SIDs
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, if it is one of the forms that reach an
    IPv4 host: IPv4-mapped (``::ffff:a.b.c.d``), NAT64 (``64:ff9b::a.b.c.d``), 6to4
    (``2002:AABB:CCDD::``)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    return ip.sixtofour


def is_public_address(ip: IPAddress) -> bool:
    """True only for globally routable unicast addresses: not private, loopback, link-local,
    CGNAT, benchmarking, documentation, multicast, reserved or unspecified, and, for IPv6
    forms that embed an IPv4 address, only if that address is public too."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id is not None:  # only link-local addresses carry a zone
            return False
        if ip.teredo is not None:
            return False
        v4 = embedded_ipv4(ip)
        if v4 is not None:
            return is_public_address(v4)
        if any(ip in net for net in _BLOCKED_V6) or ip.is_site_local:
            return False
    elif any(ip in net for net in _BLOCKED_V4):
        return False
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


# -- hosts ------------------------------------------------------------------------------------

# Names that are local by definition (RFC 6761, 6762, 8375, and the cloud metadata names).
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "local", "internal"})
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa", ".localdomain")
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_NUMBER = re.compile(r"0[xX][0-9a-fA-F]*|[0-9]+")


def _ipv4_number(part: str) -> int:
    if part[:2] in ("0x", "0X"):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part[1:], 8)  # ValueError for 8 and 9
    return int(part)


def parse_ipv4_number_form(host: str) -> ipaddress.IPv4Address | None:
    """What a browser makes of a host that ends in a number (the WHATWG URL rules): one to four
    parts, each decimal, ``0x`` hex or ``0``-octal, the last filling the remaining bytes.
    None if the host is a name; FetchFailed if it ends in a number but is not an address."""
    parts = host.split(".")
    if parts and parts[-1] == "" and len(parts) > 1:
        parts.pop()
    if not parts or not _NUMBER.fullmatch(parts[-1]):
        return None
    if len(parts) > 4 or not all(_NUMBER.fullmatch(p) for p in parts):
        raise FetchFailed(f"invalid IPv4 address {host!r}")
    try:
        numbers = [_ipv4_number(p) for p in parts]
    except ValueError:
        raise FetchFailed(f"invalid IPv4 address {host!r}") from None
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        raise FetchFailed(f"invalid IPv4 address {host!r}")
    value = last
    for index, number in enumerate(head):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


@dataclass(frozen=True, slots=True)
class Host:
    """A URL's host, classified: an IP literal, or an ASCII name to resolve."""

    name: str  # IDNA ASCII, lower case, without a trailing dot; or the literal as written
    literal: IPAddress | None


def classify_host(raw: str) -> Host:
    """Raises BlockedDestination for names that are local by definition, FetchFailed for hosts
    that are no valid address or name."""
    host = raw.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host:
        raise FetchFailed("the URL has no host")
    if ":" in host:
        try:
            return Host(host, ipaddress.IPv6Address(host.replace("%25", "%", 1)))
        except ValueError:
            raise FetchFailed(f"invalid IPv6 address {raw!r}") from None
    v4 = parse_ipv4_number_form(host)
    if v4 is not None:
        return Host(host, v4)
    try:
        name = host.lower() if host.isascii() else idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise FetchFailed(f"invalid host name {raw!r}") from None
    name = name.lower().removesuffix(".")
    if len(name) > 253 or not _HOSTNAME.fullmatch(name):
        raise FetchFailed(f"invalid host name {raw!r}")
    if name in _LOCAL_NAMES or name.endswith(_LOCAL_SUFFIXES):
        raise BlockedDestination(f"{name} is a local name")
    if parse_ipv4_number_form(name) is not None:  # e.g. an IDNA form of digits
        raise BlockedDestination(f"{name} is an address in disguise")
    return Host(name, None)


async def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's resolver (getaddrinfo), without blocking the event loop."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


class Destinations:
    """Where a host may be reached: resolution and the address rule in one place."""

    def __init__(self, *, resolver: Resolver | None = None, allow: Iterable[IPNetwork] = ()):
        self._resolver = resolver or system_resolver
        self._allow = tuple(allow)

    def allowed(self, ip: IPAddress) -> bool:
        return is_public_address(ip) or any(
            ip.version == net.version and ip in net for net in self._allow
        )

    def check_url(self, url: str) -> Host:
        """Checks what can be checked without the network: scheme, host form, local names and IP
        literals (used before a URL is handed to httpx, whose parser refuses some forms)."""
        try:
            parts = urlsplit(url)
            host = parts.hostname or ""
            parts.port  # noqa: B018 - raises ValueError for a bad port
        except ValueError:
            raise FetchFailed("malformed URL") from None
        if parts.scheme.lower() not in ("http", "https"):
            raise FetchFailed(f"unsupported scheme {parts.scheme!r}")
        checked = classify_host(host)
        if checked.literal is not None and not self.allowed(checked.literal):
            raise BlockedDestination(f"{checked.literal} is not a public address")
        return checked

    async def addresses(self, raw_host: str, port: int) -> list[IPAddress]:
        """The checked addresses for a host, in the resolver's order. Refuses the host if any of
        its addresses is not allowed (a name pointing into a private range is not a public
        site, whatever else it points to)."""
        host = classify_host(raw_host)
        if host.literal is not None:
            found: list[IPAddress] = [host.literal]
        else:
            try:
                answers = await self._resolver(host.name, port)
            except (OSError, UnicodeError) as err:
                raise FetchFailed(f"cannot resolve {host.name}: {err}") from None
            found = []
            for answer in answers:
                try:
                    found.append(ipaddress.ip_address(answer.split("%", 1)[0]))
                except ValueError:
                    raise FetchFailed(f"{host.name} resolved to {answer!r}") from None
            if not found:
                raise FetchFailed(f"{host.name} has no address")
        for ip in found:
            if not self.allowed(ip):
                raise BlockedDestination(f"{host.name} resolves to {ip}, not a public address")
        return found


# -- the transport ----------------------------------------------------------------------------

_SSL_CONTEXT: ssl.SSLContext | None = None


def default_ssl_context() -> ssl.SSLContext:
    """The system's trusted CAs (made once: building a context costs milliseconds)."""
    global _SSL_CONTEXT
    if _SSL_CONTEXT is None:
        _SSL_CONTEXT = httpx.create_ssl_context()
    return _SSL_CONTEXT


class _ClosingStream(httpx.AsyncByteStream):
    """A response body that also closes the one-request transport behind it."""

    def __init__(self, stream: httpx.AsyncByteStream, transport: httpx.AsyncBaseTransport):
        self._stream = stream
        self._transport = transport

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            await self._transport.aclose()


class PinnedTransport(httpx.AsyncBaseTransport):
    """Sends each request to an address ``Destinations`` checked, and nowhere else."""

    def __init__(
        self,
        destinations: Destinations,
        *,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._destinations = destinations
        self._ssl_context = ssl_context

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise FetchFailed(f"unsupported scheme {url.scheme!r}")
        raw_host = url.raw_host.decode("ascii")
        port = url.port or (443 if url.scheme == "https" else 80)
        host = classify_host(raw_host)
        addresses = await self._destinations.addresses(raw_host, port)
        error: Exception | None = None
        for ip in addresses[:MAX_ADDRESSES_TRIED]:
            try:
                return await self._send_to(request, ip, host)
            except httpx.ConnectError as err:  # nothing was sent: the next address may answer
                error = err
        raise FetchFailed(f"cannot connect to {host.name}: {error}")

    async def _send_to(self, request: httpx.Request, ip: IPAddress, host: Host) -> httpx.Response:
        extensions = dict(request.extensions)
        if request.url.scheme == "https" and host.literal is None:
            extensions["sni_hostname"] = host.name
        pinned = httpx.Request(
            request.method,
            request.url.copy_with(host=str(ip)),
            headers=request.headers,  # Host: still the name the user gave
            stream=request.stream,
            extensions=extensions,
        )
        inner = httpx.AsyncHTTPTransport(
            verify=self._ssl_context or default_ssl_context(),
            trust_env=False,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=0),
            retries=0,
        )
        try:
            response = await inner.handle_async_request(pinned)
        except BaseException:
            await inner.aclose()
            raise
        peer = _peer_address(response)
        if peer is not None and peer != ip:  # cannot happen: the URL holds the IP itself
            await response.aclose()
            await inner.aclose()
            raise BlockedDestination(f"connected to {peer}, not the checked {ip}")
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _ClosingStream(response.stream, inner)
        return response


def _peer_address(response: httpx.Response) -> IPAddress | None:
    stream = response.extensions.get("network_stream")
    get_extra_info = getattr(stream, "get_extra_info", None)
    if get_extra_info is None:
        return None
    address = get_extra_info("server_addr")
    if not isinstance(address, tuple) or not address:
        return None
    try:
        return ipaddress.ip_address(str(address[0]).split("%", 1)[0])
    except ValueError:
        return None


# -- fetching ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FetchResult:
    url: str  # after redirects
    status: int
    headers: httpx.Headers
    body: bytes  # decoded, at most max_bytes; empty when the body was not wanted
    truncated: bool

    @property
    def content_type(self) -> str:
        return str(self.headers.get("content-type", ""))


def _always(_headers: httpx.Headers) -> bool:
    return True


class SafeFetcher:
    """GET a user-supplied URL under the rules above."""

    def __init__(
        self,
        *,
        resolver: Resolver | None = None,
        allow: Iterable[IPNetwork] = (),
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECS,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        user_agent: str = "Chatalot",
    ) -> None:
        self.destinations = Destinations(resolver=resolver, allow=allow)
        self._ssl_context = ssl_context
        self.timeout = timeout
        self.max_redirects = max_redirects
        self.user_agent = user_agent

    async def fetch(
        self,
        url: str,
        *,
        max_bytes: int,
        want_body: Callable[[httpx.Headers], bool] = _always,
        accept: str = "*/*",
    ) -> FetchResult:
        """The final response after at most ``max_redirects`` redirects. The body is read only
        if ``want_body(headers)``, and only up to ``max_bytes`` decoded bytes. Everything
        (resolution, connections, redirects, the body) shares one time limit."""
        reading = [False]
        try:
            async with asyncio.timeout(self.timeout):
                return await self._fetch(url, max_bytes, want_body, accept, reading)
        except TimeoutError:
            if reading[0]:
                raise BodyReadFailed("timed out while reading the body") from None
            raise FetchFailed("timed out") from None

    async def _fetch(
        self,
        url: str,
        max_bytes: int,
        want_body: Callable[[httpx.Headers], bool],
        accept: str,
        reading: list[bool],
    ) -> FetchResult:
        headers = {
            "User-Agent": self.user_agent,
            "Accept": accept,
            "Accept-Encoding": "gzip, deflate",
        }
        transport = PinnedTransport(self.destinations, ssl_context=self._ssl_context)
        async with httpx.AsyncClient(
            transport=transport,
            trust_env=False,  # a proxy from the environment would connect instead of us
            follow_redirects=False,
            timeout=httpx.Timeout(self.timeout),
        ) as client:
            current = url
            for hop in range(self.max_redirects + 1):
                self.destinations.check_url(current)
                try:
                    request = client.build_request(
                        "GET", httpx.URL(current).copy_with(userinfo=b"", fragment=None)
                    )
                    request.headers.update(headers)
                    response = await client.send(request, stream=True)
                except (httpx.HTTPError, httpx.InvalidURL) as err:
                    raise FetchFailed(str(err) or type(err).__name__) from None
                location = response.headers.get("location")
                if response.status_code in _REDIRECT_STATUSES and location is not None:
                    await response.aclose()
                    if hop == self.max_redirects:
                        raise FetchFailed(f"more than {self.max_redirects} redirects")
                    current = urljoin(current, location.strip())
                    continue
                try:
                    if not want_body(response.headers):
                        return FetchResult(
                            current, response.status_code, response.headers, b"", False
                        )
                    reading[0] = True
                    body, truncated = await _read_capped(response, max_bytes)
                    return FetchResult(
                        current, response.status_code, response.headers, body, truncated
                    )
                finally:
                    await response.aclose()
        raise FetchFailed("unreachable")  # pragma: no cover - the loop returns or raises


def _decoder(encoding: str) -> Callable[[bytes, int], bytes] | None:
    """A bounded decoder for the Content-Encoding (None: the body is not encoded)."""
    name = encoding.strip().lower()
    if name in ("", "identity"):
        return None
    if name not in ("gzip", "x-gzip", "deflate"):
        raise BodyReadFailed(f"unsupported content encoding {encoding!r}")
    # gzip and zlib wrappers are detected (32); raw deflate, which some servers send as
    # "deflate", is tried when the first bytes are no zlib header.
    state: dict[str, zlib._Decompress] = {}

    def decode(data: bytes, limit: int) -> bytes:
        if "d" not in state:
            raw = name == "deflate" and not (len(data) >= 2 and (data[0] & 0x0F) == 8)
            state["d"] = zlib.decompressobj(-zlib.MAX_WBITS if raw else zlib.MAX_WBITS | 32)
        decompressor = state["d"]
        out = decompressor.decompress(data, limit)
        # what did not fit stays in unconsumed_tail; the caller stops at the limit anyway
        return out

    return decode


async def _read_capped(response: httpx.Response, max_bytes: int) -> tuple[bytes, bool]:
    decode = _decoder(response.headers.get("content-encoding", ""))
    chunks: list[bytes] = []
    size = 0
    try:
        async for raw in response.aiter_raw():
            data = raw if decode is None else decode(raw, max_bytes - size + 1)
            chunks.append(data)
            size += len(data)
            if size > max_bytes:
                return b"".join(chunks)[:max_bytes], True
    except (httpx.HTTPError, zlib.error) as err:
        raise BodyReadFailed(str(err) or type(err).__name__) from None
    return b"".join(chunks), False
