"""DATABASE_URL parsing and redaction. The password never leaves this module in clear text
except inside the DSN string handed to asyncpg."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


class DsnError(ValueError):
    """DATABASE_URL cannot be used; the message says why (never contains the password)."""


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    dsn: str  # as given (asyncpg understands every form we accept)
    user: str | None
    database: str | None
    host: str | None  # host name, IP or unix-socket directory
    port: int | None
    sslmode: str | None
    has_password: bool

    @property
    def redacted(self) -> str:
        return redact_dsn(self.dsn)

    @property
    def where(self) -> str:
        """Human description of the server, e.g. ``db.example.com:5432`` or ``socket /run/pg``."""
        host = self.host or "localhost"
        if host.startswith("/"):
            return f"unix socket in {host}"
        return f"{host}:{self.port or 5432}"

    def with_database(self, database: str) -> DatabaseUrl:
        """The same server and credentials, another database."""
        parts = urlsplit(self.dsn)
        replaced = urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, ""))
        return parse_database_url(replaced)


def parse_database_url(value: str) -> DatabaseUrl:
    """Validate a postgres:// or postgresql:// URL (TCP or unix socket, optional sslmode)."""
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("postgres", "postgresql"):
        raise DsnError(
            "must start with postgres:// or postgresql:// "
            "(e.g. postgres://chatalot:password@localhost:5432/chatalot)"
        )
    query = parse_qs(parts.query, keep_blank_values=True)
    sslmode = _single(query, "sslmode")
    if sslmode is not None and sslmode not in SSL_MODES:
        raise DsnError(f"sslmode must be one of {', '.join(SSL_MODES)} (got {sslmode!r})")
    try:
        port = parts.port
    except ValueError:
        raise DsnError("the port must be a number between 1 and 65535") from None
    host = _single(query, "host") or (unquote(parts.hostname) if parts.hostname else None)
    database = unquote(parts.path.lstrip("/")) or _single(query, "dbname")
    user = unquote(parts.username) if parts.username else _single(query, "user")
    if "," in (parts.netloc.rsplit("@", 1)[-1]):
        host = parts.netloc.rsplit("@", 1)[-1]  # multi-host lists are passed through to asyncpg
    return DatabaseUrl(
        dsn=value,
        user=user,
        database=database or None,
        host=host,
        port=_single_int(query, "port") or port,
        sslmode=sslmode,
        has_password=parts.password is not None or _single(query, "password") is not None,
    )


def redact_dsn(dsn: str) -> str:
    """The DSN with any password (in the authority or the query) replaced by ``***``."""
    parts = urlsplit(dsn)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, hostinfo = netloc.rsplit("@", 1)
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        netloc = f"{userinfo}@{hostinfo}"
    query = "&".join(
        ("password=***" if pair.split("=", 1)[0] == "password" else pair)
        for pair in parts.query.split("&")
        if pair
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _single(query: dict[str, list[str]], key: str) -> str | None:
    values = query.get(key)
    return values[-1] if values else None


def _single_int(query: dict[str, list[str]], key: str) -> int | None:
    value = _single(query, key)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise DsnError(f"{key} must be a number (got {value!r})") from None
