"""A tiny real HTTP/1.1 server for outbound tests: listens on a free loopback port (optionally
with TLS), records every request it gets and answers with what the test's handler returns
(status, headers, a body sent in chunks with optional delays)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Seen:
    method: str
    target: str
    headers: dict[str, str]  # lower-case names

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.target).query).items()}


@dataclass
class Reply:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | list[bytes] = b""
    head_delay: float = 0.0  # before the status line
    chunk_delay: float = 0.0  # before each body chunk
    content_length: int | None = None  # default: the body's length; -1: none (close-delimited)


Handler = Callable[[Seen], Reply | Awaitable[Reply]]


def html(text: str, status: int = 200, content_type: str = "text/html; charset=utf-8") -> Reply:
    return Reply(status, [("Content-Type", content_type)], text.encode())


def redirect(location: str, status: int = 302) -> Reply:
    return Reply(status, [("Location", location)], b"")


class FakeHttpServer:
    def __init__(self, handler: Handler, host: str = "127.0.0.1") -> None:
        self.handler = handler
        self.host = host
        self.port = 0
        self.requests: list[Seen] = []
        self.sni: list[str | None] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def url(self, path: str = "/", host: str | None = None, scheme: str | None = None) -> str:
        shown = host or (f"[{self.host}]" if ":" in self.host else self.host)
        return f"{scheme or self.scheme}://{shown}:{self.port}{path}"

    scheme = "http"

    async def start(self, tls: ssl.SSLContext | None = None, port: int = 0) -> None:
        if tls is not None:
            self.scheme = "https"
            tls.sni_callback = self._record_sni
        self._server = await asyncio.start_server(self._serve, self.host, port, ssl=tls)
        self.port = self._server.sockets[0].getsockname()[1]

    def _record_sni(self, _sock: object, name: str | None, _ctx: object) -> None:
        self.sni.append(name)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        try:
            await self._answer(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            self._tasks.discard(task)  # type: ignore[arg-type]
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        seen = Seen(method, target, headers)
        self.requests.append(seen)
        reply = self.handler(seen)
        if not isinstance(reply, Reply):
            reply = await reply
        if reply.head_delay:
            await asyncio.sleep(reply.head_delay)
        chunks = reply.body if isinstance(reply.body, list) else [reply.body]
        length = (
            sum(len(c) for c in chunks) if reply.content_length is None else reply.content_length
        )
        out = [f"HTTP/1.1 {reply.status} X", "Connection: close"]
        out += [f"{k}: {v}" for k, v in reply.headers]
        if length >= 0:
            out.append(f"Content-Length: {length}")
        writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1"))
        await writer.drain()
        for chunk in chunks:
            if reply.chunk_delay:
                await asyncio.sleep(reply.chunk_delay)
            writer.write(chunk)
            await writer.drain()


@contextlib.asynccontextmanager
async def serve(
    handler: Handler, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None, port: int = 0
) -> AsyncIterator[FakeHttpServer]:
    server = FakeHttpServer(handler, host)
    await server.start(tls, port)
    try:
        yield server
    finally:
        await server.stop()


@dataclass(frozen=True)
class TestCertificate:
    server: ssl.SSLContext  # presents a certificate for ``names``
    client: ssl.SSLContext  # trusts only that certificate


def make_certificate(*names: str) -> TestCertificate:
    """A self-signed certificate for ``names`` (DNS names or IP addresses)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = datetime.datetime.now(datetime.UTC)
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        cert_path, key_path = Path(folder) / "cert.pem", Path(folder) / "key.pem"
        cert_path.write_bytes(cert_pem)
        key_path.write_bytes(key_pem)
        server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server.load_cert_chain(cert_path, key_path)
    client = ssl.create_default_context(cadata=cert_pem.decode())
    return TestCertificate(server=server, client=client)
