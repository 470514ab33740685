"""Settings: the original's variable names and defaults, and one clear line for a bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatalot.config import (
    ConfigError,
    load_settings,
    merged_environment,
    read_dotenv,
)

BASE = {"TOTP_ENCRYPTION_KEY": "0123456789abcdef0123456789abcdef"}


def test_defaults_match_the_original() -> None:
    """With nothing set, every default is the original's (or ours, documented)."""
    s = load_settings(BASE)
    assert s.database_url is None and s.embedded_database
    assert str(s.listen) == "0.0.0.0:8080"
    assert s.registration_mode == "invite_only"
    assert s.community_creation_mode == "admin_only"
    assert s.jwt_private_key_path == Path("./secrets/jwt_private.pem")
    assert s.jwt_public_key_path == Path("./secrets/jwt_public.pem")
    assert s.file_storage_path == Path("./data/files")
    assert s.static_files_path == Path("./static")
    assert s.max_file_size_mb == 100
    assert s.upload_quota_mb == 500
    assert s.cors_origins == ("https://chatalot.seglamater.app", "tauri://localhost")
    assert [str(n) for n in s.trusted_proxies] == ["127.0.0.1/32", "::1/128"]
    assert s.data_dir == Path("./data") and s.embedded_pgdata == Path("./data/postgres")
    assert (s.pool.max_connections, s.pool.min_connections) == (50, 2)
    assert s.pool.acquire_timeout_secs == 5.0
    assert s.pool.connect_retry_secs == 30.0
    assert s.environment == "production"


def test_values_are_read() -> None:
    """Set values are parsed into their types."""
    s = load_settings(
        {
            **BASE,
            "DATABASE_URL": "postgres://chatalot:pw@db.example.com:5433/chatalot?sslmode=require",
            "LISTEN_ADDR": "[::]:9000",
            "REGISTRATION_MODE": "open",
            "ICE_SERVERS": '[{"urls": "stun:stun.example.com"},'
            ' {"urls": ["turn:t.example.com"], "username": "u", "credential": "c"}]',
            "TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.1",
            "CHATALOT_DB_MAX_CONNECTIONS": "10",
            "CHATALOT_DB_ACQUIRE_TIMEOUT_SECS": "0.5",
            "CORS_ORIGINS": "https://a.example, tauri://localhost ,",
        }
    )
    assert s.database_url is not None
    assert s.database_url.host == "db.example.com" and s.database_url.port == 5433
    assert s.database_url.sslmode == "require"
    assert (s.listen.host, s.listen.port) == ("::", 9000)
    assert s.registration_mode == "open"
    assert s.ice_servers[1].urls == ("turn:t.example.com",) and s.ice_servers[1].credential == "c"
    assert [str(n) for n in s.trusted_proxies] == ["10.0.0.0/8", "192.168.1.1/32"]
    assert s.pool.max_connections == 10 and s.pool.acquire_timeout_secs == 0.5
    assert s.cors_origins == ("https://a.example", "tauri://localhost")


def test_empty_values_mean_unset() -> None:
    """docker-compose passes ${X:-} (empty strings): those fall back to the defaults."""
    s = load_settings({**BASE, "REGISTRATION_MODE": "", "ICE_SERVERS": "", "DATABASE_URL": " "})
    assert s.registration_mode == "invite_only"
    assert s.ice_servers == ()
    assert s.database_url is None


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("LISTEN_ADDR", "8080", "host:port"),
        ("LISTEN_ADDR", "0.0.0.0:99999", "between 0 and 65535"),
        ("DATABASE_URL", "mysql://x@y/z", "postgres://"),
        ("DATABASE_URL", "postgres://u@h:notaport/db", "port"),
        ("DATABASE_URL", "postgres://u@h/db?sslmode=sometimes", "sslmode"),
        ("REGISTRATION_MODE", "opne", "open, invite_only, closed"),
        ("COMMUNITY_CREATION_MODE", "anyone", "open, admin_only"),
        ("MAX_FILE_SIZE_MB", "lots", "whole number"),
        ("MAX_FILE_SIZE_MB", "0", "between 1 and 10000"),
        ("UPLOAD_QUOTA_MB", "-1", "between 0 and 100000"),
        ("ICE_SERVERS", "not json", "valid JSON"),
        ("ICE_SERVERS", '{"urls": "x"}', "list"),
        ("ICE_SERVERS", '[{"url": "x"}]', "urls"),
        ("TRUSTED_PROXIES", "10.0.0.0/33", "CIDR"),
        ("REDIS_URL", "localhost:6379", "redis://"),
        ("CHATALOT_LOG_LEVEL", "loud", "debug, info"),
        ("CHATALOT_LOG_FORMAT", "xml", "text, json"),
        ("CHATALOT_ENV", "staging", "production, dev"),
        ("CHATALOT_DB_MAX_CONNECTIONS", "0", "between 1"),
        ("CHATALOT_DB_MIN_CONNECTIONS", "60", "must not exceed"),
        ("CHATALOT_DB_ACQUIRE_TIMEOUT_SECS", "soon", "number of seconds"),
        ("CHATALOT_DB_ACQUIRE_TIMEOUT_SECS", "nan", "finite"),
        ("CHATALOT_DB_CONNECT_RETRY_SECS", "-1", ">= 0"),
    ],
)
def test_invalid_values_name_the_variable(variable: str, value: str, fragment: str) -> None:
    """A bad value raises ConfigError whose single line starts with the variable's name."""
    with pytest.raises(ConfigError) as info:
        load_settings({**BASE, variable: value})
    message = str(info.value)
    assert message.startswith(f"{variable}: ")
    assert fragment in message
    assert "\n" not in message


def test_database_url_password_never_in_error() -> None:
    """A rejected DATABASE_URL's message never repeats its password."""
    with pytest.raises(ConfigError) as info:
        load_settings({**BASE, "DATABASE_URL": "postgres://u:s3cr3t-pw@h/db?sslmode=bogus"})
    assert "s3cr3t-pw" not in str(info.value)


@pytest.mark.parametrize("value", [None, "", "change-me", "changeme", "short"])
def test_totp_key_required_outside_dev(value: str | None) -> None:
    """Production refuses a missing, placeholder or short TOTP_ENCRYPTION_KEY."""
    environ = {} if value is None else {"TOTP_ENCRYPTION_KEY": value}
    with pytest.raises(ConfigError, match=r"^TOTP_ENCRYPTION_KEY: "):
        load_settings(environ)
    assert load_settings({**environ, "CHATALOT_ENV": "dev"}).environment == "dev"


def test_totp_key_not_needed_for_database_commands() -> None:
    """`chatalot migrate` works without the server's secrets."""
    assert load_settings({}, require_secrets=False).totp_encryption_key is None


def test_redacted_hides_secrets() -> None:
    """`config check` output never shows a secret."""
    s = load_settings(
        {
            **BASE,
            "DATABASE_URL": "postgres://chatalot:hunter22@db/chatalot",
            "REDIS_URL": "redis://:redispw@cache:6379/0",
            "GIPHY_API_KEY": "giphy-secret",
        }
    )
    text = "\n".join(s.redacted().values())
    for secret in ("hunter22", "redispw", "giphy-secret", BASE["TOTP_ENCRYPTION_KEY"]):
        assert secret not in text
    assert "postgres://chatalot:***@db/chatalot" in text


def test_dotenv_parsing(tmp_path: Path) -> None:
    """`.env` understands comments, quotes and `export`; the real environment wins."""
    path = tmp_path / ".env"
    path.write_text(
        "# comment\n"
        "export REGISTRATION_MODE=open\n"
        'PUBLIC_URL="https://chat.example.com"\n'
        "ADMIN_USERNAME='alice' \n"
        "LISTEN_ADDR=127.0.0.1:9000 # trailing comment\n"
        "not an assignment\n"
        "EMPTY=\n"
    )
    assert read_dotenv(path) == {
        "REGISTRATION_MODE": "open",
        "PUBLIC_URL": "https://chat.example.com",
        "ADMIN_USERNAME": "alice",
        "LISTEN_ADDR": "127.0.0.1:9000",
        "EMPTY": "",
    }
    merged = merged_environment({"REGISTRATION_MODE": "closed"}, path)
    assert merged["REGISTRATION_MODE"] == "closed"
    assert merged["ADMIN_USERNAME"] == "alice"
    assert read_dotenv(tmp_path / "missing.env") == {}
