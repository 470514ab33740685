"""DATABASE_URL forms of the seed document, and password redaction."""

from __future__ import annotations

import pytest

from chatalot.db.dsn import DsnError, parse_database_url, redact_dsn


@pytest.mark.parametrize(
    ("url", "host", "port", "database", "user", "sslmode"),
    [
        ("postgres://chatalot:pw@localhost:5432/chatalot", "localhost", 5432, "chatalot", "chatalot", None),
        ("postgresql://chatalot:pw@postgres:5432/chatalot", "postgres", 5432, "chatalot", "chatalot", None),
        ("postgres://chatalot:pw@db.example.com:5432/chatalot?sslmode=require", "db.example.com", 5432, "chatalot", "chatalot", "require"),
        ("postgres://chatalot@/chatalot?host=/var/run/postgresql", "/var/run/postgresql", None, "chatalot", "chatalot", None),
        ("postgres://chatalot@%2Fvar%2Frun%2Fpostgresql/chatalot", "/var/run/postgresql", None, "chatalot", "chatalot", None),
        ("postgres://u:p@[::1]:5432/db?sslmode=verify-full", "::1", 5432, "db", "u", "verify-full"),
        ("postgres://u@h/db?sslmode=disable", "h", None, "db", "u", "disable"),
        ("postgres://u@h/db?sslmode=prefer", "h", None, "db", "u", "prefer"),
        ("postgres://u@h/db?sslmode=verify-ca", "h", None, "db", "u", "verify-ca"),
    ],
)  # fmt: skip
def test_accepted_forms(
    url: str, host: str, port: int | None, database: str, user: str, sslmode: str | None
) -> None:
    """Local, Docker-internal, remote, unix-socket and every sslmode are understood."""
    parsed = parse_database_url(url)
    assert (parsed.host, parsed.port, parsed.database, parsed.user, parsed.sslmode) == (
        host,
        port,
        database,
        user,
        sslmode,
    )
    assert parsed.dsn == url


def test_socket_description() -> None:
    """A socket directory is described as such in messages."""
    assert parse_database_url("postgres://u@/db?host=/run/pg").where == "unix socket in /run/pg"
    assert parse_database_url("postgres://u@db:6543/x").where == "db:6543"


@pytest.mark.parametrize(
    "url",
    ["http://x/y", "chatalot", "postgres://u@h:0x1/db", "postgres://u@h/db?sslmode=maybe"],
)
def test_rejected_forms(url: str) -> None:
    """Anything else is refused with a reason."""
    with pytest.raises(DsnError):
        parse_database_url(url)


@pytest.mark.parametrize(
    ("dsn", "redacted"),
    [
        ("postgres://chatalot:s3cret@db:5432/chatalot", "postgres://chatalot:***@db:5432/chatalot"),
        ("postgres://chatalot@db/chatalot", "postgres://chatalot@db/chatalot"),
        ("postgres://u@h/db?password=s3cret&sslmode=require", "postgres://u@h/db?password=***&sslmode=require"),
        ("postgres://u:p%40ss@h/db", "postgres://u:***@h/db"),
    ],
)  # fmt: skip
def test_redaction(dsn: str, redacted: str) -> None:
    """Passwords in the authority or the query are replaced by ***."""
    assert redact_dsn(dsn) == redacted


def test_with_database_keeps_server_and_options() -> None:
    """Switching database keeps host, credentials and query options."""
    url = parse_database_url("postgres://u:p@h:5432/one?sslmode=require").with_database("two")
    assert url.dsn == "postgres://u:p@h:5432/two?sslmode=require"
