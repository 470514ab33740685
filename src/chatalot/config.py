"""Settings: every environment variable, read once at startup into a frozen object.

Nothing else in the package reads ``os.environ``. ``load_settings(environ)`` parses and
validates; a bad value raises ``ConfigError`` whose message is one line naming the variable.
A ``.env`` file in the working directory is merged under the real environment
(see ``read_dotenv``). Every variable is documented in docs/configuration.md (a test checks).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar

from chatalot.db.dsn import DatabaseUrl, DsnError, parse_database_url

RegistrationMode = Literal["open", "invite_only", "closed"]
CommunityCreationMode = Literal["open", "admin_only"]
Environment = Literal["production", "dev"]
LogFormat = Literal["text", "json"]
StorageBackend = Literal["local", "s3"]
_Choice = TypeVar("_Choice", bound=str)

DEFAULT_CORS_ORIGINS = ("https://chatalot.seglamater.app", "tauri://localhost")
DEFAULT_TRUSTED_PROXIES = ("127.0.0.1/32", "::1/128")
DEFAULT_SEARCH_LANGUAGE = "simple"
DEFAULT_TURN_TTL_SECS = 86_400
DEFAULT_GIPHY_API_URL = "https://api.giphy.com"
PLACEHOLDER_SECRETS = frozenset(
    {"", "change-me", "changeme", "change_me", "changethis", "secret", "placeholder", "xxx"}
)


class ConfigError(Exception):
    """An invalid or missing setting. ``str(err)`` is one line that names the variable."""

    def __init__(self, variable: str, problem: str) -> None:
        self.variable = variable
        super().__init__(f"{variable}: {problem}")


@dataclass(frozen=True, slots=True)
class IceServer:
    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None


@dataclass(frozen=True, slots=True)
class TurnSettings:
    """The TURN REST scheme (coturn ``use-auth-secret``, Synapse ``turn_shared_secret``): the
    server signs short-lived credentials with a secret it shares with the TURN server."""

    shared_secret: str = field(repr=False)  # never printed: see Settings.redacted()
    uris: tuple[str, ...]
    ttl_secs: int = DEFAULT_TURN_TTL_SECS


@dataclass(frozen=True, slots=True)
class S3Settings:
    """S3-compatible object storage (AWS S3, MinIO, Garage, ...) for every blob: STORAGE_BACKEND=s3
    (storage/s3.py). The keys are the local store's relative keys under ``prefix``."""

    bucket: str
    access_key_id: str = field(repr=False)  # never printed: see Settings.redacted()
    secret_access_key: str = field(repr=False)
    endpoint: str | None = None  # None: AWS S3 itself (the region's endpoint)
    region: str = "us-east-1"
    prefix: str = ""  # "" or a key-like path ("chatalot/prod"), no leading/trailing "/"
    force_path_style: bool = False  # https://endpoint/bucket/key rather than bucket.endpoint


@dataclass(frozen=True, slots=True)
class ListenAddress:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class PoolSettings:
    max_connections: int = 50
    min_connections: int = 2
    acquire_timeout_secs: float = 5.0
    connect_retry_secs: float = 30.0


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: DatabaseUrl | None
    listen: ListenAddress
    jwt_private_key_path: Path
    jwt_public_key_path: Path
    totp_encryption_key: str | None
    file_storage_path: Path
    max_file_size_mb: int
    upload_quota_mb: int
    registration_mode: RegistrationMode
    community_creation_mode: CommunityCreationMode
    admin_username: str | None
    public_url: str | None
    ice_servers: tuple[IceServer, ...]
    vapid_private_key: str | None
    vapid_public_key: str | None
    static_files_path: Path
    cors_origins: tuple[str, ...]
    giphy_api_key: str | None
    github_api_token: str | None
    github_repo_owner: str | None
    github_repo_name: str | None
    redis_url: str | None
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    data_dir: Path
    migrations_dir: Path
    log_level: str
    log_format: LogFormat
    environment: Environment
    pool: PoolSettings = field(default_factory=PoolSettings)
    shutdown_timeout_secs: float = 10.0
    rate_limits: bool = True  # CHATALOT_RATE_LIMITS=off (dev only): for fuzzing and load tests
    search_language: str = DEFAULT_SEARCH_LANGUAGE  # a PostgreSQL text-search configuration
    turn: TurnSettings | None = None  # TURN_SHARED_SECRET + TURN_URIS: TURN REST credentials
    giphy_api_url: str = DEFAULT_GIPHY_API_URL  # GIPHY_API_URL: another GIPHY endpoint (tests)
    storage_backend: StorageBackend = "local"  # where blobs live (storage/factory.py)
    s3: S3Settings | None = None  # set when STORAGE_BACKEND=s3 or S3_BUCKET is given
    scheduled_delivery_interval_secs: float = 5.0  # how often due scheduled messages are sent

    @property
    def embedded_database(self) -> bool:
        """True when no DATABASE_URL is given and the server runs its own PostgreSQL."""
        return self.database_url is None

    @property
    def embedded_pgdata(self) -> Path:
        return self.data_dir / "postgres"

    def redacted(self) -> dict[str, str]:
        """Every setting as text, secrets replaced by ``***`` (for `chatalot config check`)."""
        secret = "***"  # noqa: S105 - the redaction marker, not a password
        out: dict[str, str] = {
            "DATABASE_URL": self.database_url.redacted
            if self.database_url
            else "(unset: embedded)",
            "LISTEN_ADDR": str(self.listen),
            "JWT_PRIVATE_KEY_PATH": str(self.jwt_private_key_path),
            "JWT_PUBLIC_KEY_PATH": str(self.jwt_public_key_path),
            "TOTP_ENCRYPTION_KEY": secret if self.totp_encryption_key else "(unset)",
            "FILE_STORAGE_PATH": str(self.file_storage_path),
            "STORAGE_BACKEND": self.storage_backend,
            "S3_BUCKET": self.s3.bucket if self.s3 else "(unset)",
            "S3_ENDPOINT": (self.s3.endpoint or "(unset: AWS)") if self.s3 else "(unset)",
            "S3_REGION": self.s3.region if self.s3 else "(unset)",
            "S3_ACCESS_KEY_ID": secret if self.s3 else "(unset)",
            "S3_SECRET_ACCESS_KEY": secret if self.s3 else "(unset)",
            "S3_PREFIX": (self.s3.prefix or "(none)") if self.s3 else "(unset)",
            "S3_FORCE_PATH_STYLE": str(self.s3.force_path_style).lower() if self.s3 else "(unset)",
            "MAX_FILE_SIZE_MB": str(self.max_file_size_mb),
            "UPLOAD_QUOTA_MB": str(self.upload_quota_mb),
            "REGISTRATION_MODE": self.registration_mode,
            "COMMUNITY_CREATION_MODE": self.community_creation_mode,
            "ADMIN_USERNAME": self.admin_username or "(unset)",
            "PUBLIC_URL": self.public_url if self.public_url is not None else "(unset)",
            "ICE_SERVERS": f"{len(self.ice_servers)} server(s)",
            "TURN_SHARED_SECRET": secret if self.turn else "(unset)",
            "TURN_URIS": ",".join(self.turn.uris) if self.turn else "(unset)",
            "TURN_TTL_SECS": str(self.turn.ttl_secs if self.turn else DEFAULT_TURN_TTL_SECS),
            "VAPID_PRIVATE_KEY": secret if self.vapid_private_key else "(unset)",
            "VAPID_PUBLIC_KEY": self.vapid_public_key or "(unset)",
            "STATIC_FILES_PATH": str(self.static_files_path),
            "CORS_ORIGINS": ",".join(self.cors_origins),
            "GIPHY_API_KEY": secret if self.giphy_api_key else "(unset)",
            "GIPHY_API_URL": self.giphy_api_url,
            "GITHUB_API_TOKEN": secret if self.github_api_token else "(unset)",
            "GITHUB_REPO_OWNER": self.github_repo_owner or "(unset)",
            "GITHUB_REPO_NAME": self.github_repo_name or "(unset)",
            "REDIS_URL": _redact_url(self.redis_url) if self.redis_url else "(unset: single node)",
            "TRUSTED_PROXIES": ",".join(str(n) for n in self.trusted_proxies),
            "CHATALOT_DATA_DIR": str(self.data_dir),
            "CHATALOT_MIGRATIONS_DIR": str(self.migrations_dir),
            "CHATALOT_LOG_LEVEL": self.log_level,
            "CHATALOT_LOG_FORMAT": self.log_format,
            "CHATALOT_ENV": self.environment,
            "CHATALOT_DB_MAX_CONNECTIONS": str(self.pool.max_connections),
            "CHATALOT_DB_MIN_CONNECTIONS": str(self.pool.min_connections),
            "CHATALOT_DB_ACQUIRE_TIMEOUT_SECS": _num(self.pool.acquire_timeout_secs),
            "CHATALOT_DB_CONNECT_RETRY_SECS": _num(self.pool.connect_retry_secs),
            "CHATALOT_SHUTDOWN_TIMEOUT_SECS": _num(self.shutdown_timeout_secs),
            "CHATALOT_RATE_LIMITS": "on" if self.rate_limits else "off",
            "SEARCH_LANGUAGE": self.search_language,
            "CHATALOT_SCHEDULED_DELIVERY_INTERVAL_SECS": _num(
                self.scheduled_delivery_interval_secs
            ),
        }
        return out


# Every variable the server reads, in documentation order. tests/contract checks docs against it.
KNOWN_VARIABLES: tuple[str, ...] = (
    "DATABASE_URL",
    "LISTEN_ADDR",
    "JWT_PRIVATE_KEY_PATH",
    "JWT_PUBLIC_KEY_PATH",
    "TOTP_ENCRYPTION_KEY",
    "FILE_STORAGE_PATH",
    "STORAGE_BACKEND",
    "S3_BUCKET",
    "S3_ENDPOINT",
    "S3_REGION",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
    "S3_PREFIX",
    "S3_FORCE_PATH_STYLE",
    "MAX_FILE_SIZE_MB",
    "UPLOAD_QUOTA_MB",
    "REGISTRATION_MODE",
    "COMMUNITY_CREATION_MODE",
    "ADMIN_USERNAME",
    "PUBLIC_URL",
    "ICE_SERVERS",
    "TURN_SHARED_SECRET",
    "TURN_URIS",
    "TURN_TTL_SECS",
    "VAPID_PRIVATE_KEY",
    "VAPID_PUBLIC_KEY",
    "STATIC_FILES_PATH",
    "CORS_ORIGINS",
    "GIPHY_API_KEY",
    "GIPHY_API_URL",
    "GITHUB_API_TOKEN",
    "GITHUB_REPO_OWNER",
    "GITHUB_REPO_NAME",
    "REDIS_URL",
    "TRUSTED_PROXIES",
    "CHATALOT_DATA_DIR",
    "CHATALOT_MIGRATIONS_DIR",
    "CHATALOT_LOG_LEVEL",
    "CHATALOT_LOG_FORMAT",
    "CHATALOT_ENV",
    "CHATALOT_DB_MAX_CONNECTIONS",
    "CHATALOT_DB_MIN_CONNECTIONS",
    "CHATALOT_DB_ACQUIRE_TIMEOUT_SECS",
    "CHATALOT_DB_CONNECT_RETRY_SECS",
    "CHATALOT_SHUTDOWN_TIMEOUT_SECS",
    "CHATALOT_RATE_LIMITS",
    "SEARCH_LANGUAGE",
    "CHATALOT_SCHEDULED_DELIVERY_INTERVAL_SECS",
)


def default_migrations_dir() -> Path:
    """The repository's migrations/ (editable install / checkout), else ./migrations."""
    checkout = Path(__file__).resolve().parents[2] / "migrations"
    if checkout.is_dir():
        return checkout
    return Path("migrations")


def load_settings(environ: Mapping[str, str], *, require_secrets: bool = True) -> Settings:
    """Parse and validate every setting. Raises ConfigError (one line, names the variable).

    ``require_secrets=False`` skips the secret checks for commands that only touch the database
    (`chatalot migrate ...`)."""
    env = _Env(environ)
    environments: tuple[Environment, ...] = ("production", "dev")
    environment = env.choice("CHATALOT_ENV", environments, "production")
    pool = PoolSettings(
        max_connections=env.integer("CHATALOT_DB_MAX_CONNECTIONS", 50, low=1, high=10_000),
        min_connections=env.integer("CHATALOT_DB_MIN_CONNECTIONS", 2, low=0, high=10_000),
        acquire_timeout_secs=env.number("CHATALOT_DB_ACQUIRE_TIMEOUT_SECS", 5.0, low=0.05),
        connect_retry_secs=env.number("CHATALOT_DB_CONNECT_RETRY_SECS", 30.0, low=0.0),
    )
    if pool.min_connections > pool.max_connections:
        raise ConfigError(
            "CHATALOT_DB_MIN_CONNECTIONS",
            f"must not exceed CHATALOT_DB_MAX_CONNECTIONS ({pool.max_connections})",
        )
    totp_key = env.optional("TOTP_ENCRYPTION_KEY")
    if require_secrets and environment != "dev":
        if totp_key is None:
            raise ConfigError(
                "TOTP_ENCRYPTION_KEY",
                "must be set (hex-encoded 256-bit key); run `chatalot init` to generate one",
            )
        if totp_key.strip().lower() in PLACEHOLDER_SECRETS or len(totp_key.strip()) < 16:
            raise ConfigError(
                "TOTP_ENCRYPTION_KEY",
                "still holds a placeholder or is too short; generate one with "
                "`openssl rand -hex 32` (or set CHATALOT_ENV=dev for local development)",
            )
    log_level = env.choice("CHATALOT_LOG_LEVEL", ("debug", "info", "warning", "error"), "info")
    storage_backend, s3 = _storage(env)
    return Settings(
        database_url=env.database_url("DATABASE_URL"),
        listen=env.listen_address("LISTEN_ADDR", "0.0.0.0:8080"),
        jwt_private_key_path=env.path("JWT_PRIVATE_KEY_PATH", "./secrets/jwt_private.pem"),
        jwt_public_key_path=env.path("JWT_PUBLIC_KEY_PATH", "./secrets/jwt_public.pem"),
        totp_encryption_key=totp_key,
        file_storage_path=env.path("FILE_STORAGE_PATH", "./data/files"),
        max_file_size_mb=env.integer("MAX_FILE_SIZE_MB", 100, low=1, high=10_000),
        upload_quota_mb=env.integer("UPLOAD_QUOTA_MB", 500, low=0, high=100_000),
        registration_mode=env.choice(
            "REGISTRATION_MODE", ("open", "invite_only", "closed"), "invite_only"
        ),
        community_creation_mode=env.choice(
            "COMMUNITY_CREATION_MODE", ("open", "admin_only"), "admin_only"
        ),
        admin_username=env.optional("ADMIN_USERNAME"),
        public_url=env.raw("PUBLIC_URL"),
        ice_servers=env.ice_servers("ICE_SERVERS"),
        vapid_private_key=env.optional("VAPID_PRIVATE_KEY"),
        vapid_public_key=env.optional("VAPID_PUBLIC_KEY"),
        static_files_path=env.path("STATIC_FILES_PATH", "./static"),
        cors_origins=env.csv("CORS_ORIGINS", DEFAULT_CORS_ORIGINS),
        giphy_api_key=env.optional("GIPHY_API_KEY"),
        giphy_api_url=_giphy_api_url(env),
        github_api_token=env.optional("GITHUB_API_TOKEN"),
        github_repo_owner=env.optional("GITHUB_REPO_OWNER"),
        github_repo_name=env.optional("GITHUB_REPO_NAME"),
        redis_url=env.redis_url("REDIS_URL"),
        trusted_proxies=env.networks("TRUSTED_PROXIES", DEFAULT_TRUSTED_PROXIES),
        data_dir=env.path("CHATALOT_DATA_DIR", "./data"),
        migrations_dir=env.path("CHATALOT_MIGRATIONS_DIR", str(default_migrations_dir())),
        log_level=log_level,
        log_format=env.choice("CHATALOT_LOG_FORMAT", ("text", "json"), "text"),
        environment=environment,
        pool=pool,
        shutdown_timeout_secs=env.number("CHATALOT_SHUTDOWN_TIMEOUT_SECS", 10.0, low=0.0),
        rate_limits=_rate_limits(env, environment),
        search_language=_search_language(env),
        turn=_turn(env, environment, require_secrets=require_secrets),
        storage_backend=storage_backend,
        s3=s3,
        scheduled_delivery_interval_secs=_scheduled_delivery_interval(env),
    )


def _giphy_api_url(env: _Env) -> str:
    """GIPHY_API_URL: where GIPHY's API is (default https://api.giphy.com), without a trailing
    slash; the server calls ``{GIPHY_API_URL}/v1/gifs/search`` and ``.../trending``."""
    value = env.optional("GIPHY_API_URL")
    if value is None:
        return DEFAULT_GIPHY_API_URL
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
        raise ConfigError(
            "GIPHY_API_URL",
            f"must be an http(s) URL without query, e.g. {DEFAULT_GIPHY_API_URL} (got {value!r})",
        )
    return value.rstrip("/")


def _scheduled_delivery_interval(env: _Env) -> float:
    """CHATALOT_SCHEDULED_DELIVERY_INTERVAL_SECS: 0.1-30 s, default 5 (the original's 30 s is
    the longest a due scheduled message may wait)."""
    seconds = env.number("CHATALOT_SCHEDULED_DELIVERY_INTERVAL_SECS", 5.0, low=0.1)
    if seconds > 30:
        raise ConfigError(
            "CHATALOT_SCHEDULED_DELIVERY_INTERVAL_SECS",
            f"must be at most 30 seconds (got {_num(seconds)})",
        )
    return seconds


_S3_BUCKET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,254}")
_S3_ENDPOINT = re.compile(r"https?://[^\s/?#@]+(/[^\s?#]*)?")
_S3_PREFIX_SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}")


def _storage(env: _Env) -> tuple[StorageBackend, S3Settings | None]:
    """STORAGE_BACKEND and the S3_* settings. They are checked when STORAGE_BACKEND=s3, and also
    when S3_BUCKET is set (`chatalot storage migrate` copies to that store before the switch)."""
    backends: tuple[StorageBackend, ...] = ("local", "s3")
    backend = env.choice("STORAGE_BACKEND", backends, "local")
    bucket = env.optional("S3_BUCKET")
    endpoint = env.optional("S3_ENDPOINT")
    region = env.optional("S3_REGION") or "us-east-1"
    key_id = env.optional("S3_ACCESS_KEY_ID")
    secret = env.optional("S3_SECRET_ACCESS_KEY")
    prefix = (env.optional("S3_PREFIX") or "").strip("/")
    path_style = env.choice(
        "S3_FORCE_PATH_STYLE", ("true", "false"), "true" if endpoint else "false"
    )
    if backend == "local" and bucket is None:
        return backend, None
    needed = "with STORAGE_BACKEND=s3" if backend == "s3" else "when S3_BUCKET is set"
    if bucket is None:
        raise ConfigError("S3_BUCKET", f"must be set {needed} (the bucket that holds the files)")
    if not _S3_BUCKET.fullmatch(bucket):
        raise ConfigError("S3_BUCKET", f"is not a bucket name (got {bucket!r})")
    if key_id is None:
        raise ConfigError("S3_ACCESS_KEY_ID", f"must be set {needed}")
    if secret is None:
        raise ConfigError("S3_SECRET_ACCESS_KEY", f"must be set {needed}")
    if endpoint is not None:
        endpoint = endpoint.rstrip("/")
        if not _S3_ENDPOINT.fullmatch(endpoint):
            raise ConfigError(
                "S3_ENDPOINT",
                "must be an http:// or https:// URL without credentials, e.g. "
                f"http://minio:9000 (got {endpoint!r})",
            )
    if not re.fullmatch(r"[a-z0-9-]{1,64}", region):
        raise ConfigError("S3_REGION", f"must be a region name such as us-east-1 (got {region!r})")
    if prefix and not all(_S3_PREFIX_SEGMENT.fullmatch(part) for part in prefix.split("/")):
        raise ConfigError(
            "S3_PREFIX",
            "must be /-separated names of letters, digits, '.', '_' and '-' (not starting "
            f"with a dot), e.g. chatalot/files (got {prefix!r})",
        )
    s3 = S3Settings(
        bucket=bucket,
        access_key_id=key_id,
        secret_access_key=secret,
        endpoint=endpoint,
        region=region,
        prefix=prefix,
        force_path_style=path_style == "true",
    )
    return backend, s3


def _rate_limits(env: _Env, environment: Environment) -> bool:
    """CHATALOT_RATE_LIMITS: ``on`` (default) or ``off``; ``off`` only with CHATALOT_ENV=dev,
    so that a production server never runs without its per-address limits."""
    rate_limits = env.choice("CHATALOT_RATE_LIMITS", ("on", "off"), "on") == "on"
    if not rate_limits and environment != "dev":
        raise ConfigError(
            "CHATALOT_RATE_LIMITS", "off is allowed only with CHATALOT_ENV=dev (for testing)"
        )
    return rate_limits


_TURN_URI = re.compile(
    r"turns?:(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?(?:\?transport=(?:udp|tcp))?"
)


def _turn(env: _Env, environment: Environment, *, require_secrets: bool) -> TurnSettings | None:
    """TURN_SHARED_SECRET and TURN_URIS (both or neither) and TURN_TTL_SECS."""
    ttl = env.integer("TURN_TTL_SECS", DEFAULT_TURN_TTL_SECS, low=60, high=7 * 86_400)
    secret = env.optional("TURN_SHARED_SECRET")
    uris = env.csv("TURN_URIS", ())
    if secret is None and not uris:
        return None
    if secret is None:
        raise ConfigError("TURN_SHARED_SECRET", "must be set when TURN_URIS is set")
    if not uris:
        raise ConfigError(
            "TURN_URIS",
            "must list the TURN server (e.g. turn:turn.example.com:3478) when "
            "TURN_SHARED_SECRET is set",
        )
    for uri in uris:
        if not _TURN_URI.fullmatch(uri):
            raise ConfigError(
                "TURN_URIS",
                "each entry must be turn:host[:port][?transport=udp|tcp] or turns:... "
                f"(got {uri!r})",
            )
    if (
        require_secrets
        and environment != "dev"
        and (secret.lower() in PLACEHOLDER_SECRETS or len(secret) < 16)
    ):
        raise ConfigError(
            "TURN_SHARED_SECRET",
            "still holds a placeholder or is shorter than 16 characters; generate one with "
            "`openssl rand -hex 32`",
        )
    return TurnSettings(shared_secret=secret, uris=uris, ttl_secs=ttl)


_TS_CONFIG_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def _search_language(env: _Env) -> str:
    """SEARCH_LANGUAGE: the name of a PostgreSQL text-search configuration (``english``,
    ``german``, ...; any case). Whether the database has it is checked at startup
    (services/search_index.py: unknown names fall back to ``simple`` with a warning)."""
    value = env.optional("SEARCH_LANGUAGE")
    if value is None:
        return DEFAULT_SEARCH_LANGUAGE
    name = value.lower()
    if not _TS_CONFIG_NAME.fullmatch(name):
        raise ConfigError(
            "SEARCH_LANGUAGE",
            "must be the name of a PostgreSQL text-search configuration, e.g. simple or "
            f"english (got {value!r})",
        )
    return name


_DOTENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse a ``.env`` file: ``KEY=value`` lines, ``#`` comments, optional quotes and ``export``.

    A missing file is an empty mapping. Lines that are not assignments are ignored.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    values: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _DOTENV_LINE.match(line)
        if match is None:
            continue
        key, value = match.group(1), match.group(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values


def merged_environment(environ: Mapping[str, str], dotenv_path: Path) -> dict[str, str]:
    """The `.env` file's values under the real environment (the real environment wins)."""
    merged = read_dotenv(dotenv_path)
    merged.update(environ)
    return merged


class _Env:
    """Typed accessors over the raw mapping.

    Empty strings count as unset where a default exists (docker-compose passes ``${X:-}``),
    except PUBLIC_URL, whose empty value is kept as the original does."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def raw(self, name: str) -> str | None:
        return self._environ.get(name)

    def optional(self, name: str) -> str | None:
        value = self._environ.get(name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def path(self, name: str, default: str) -> Path:
        return Path(self.optional(name) or default)

    def choice(self, name: str, allowed: tuple[_Choice, ...], default: _Choice) -> _Choice:
        value = self.optional(name)
        if value is None:
            return default
        for option in allowed:
            if value.lower() == option:
                return option
        raise ConfigError(name, f"must be one of {', '.join(allowed)} (got {value!r})")

    def integer(self, name: str, default: int, *, low: int, high: int) -> int:
        value = self.optional(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(name, f"must be a whole number (got {value!r})") from None
        if not low <= number <= high:
            raise ConfigError(name, f"must be between {low} and {high} (got {number})")
        return number

    def number(self, name: str, default: float, *, low: float) -> float:
        value = self.optional(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise ConfigError(name, f"must be a number of seconds (got {value!r})") from None
        if not number >= low or number != number or number == float("inf"):
            raise ConfigError(name, f"must be a finite number >= {_num(low)} (got {value!r})")
        return number

    def csv(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self.optional(name)
        if value is None:
            return default
        return tuple(part.strip() for part in value.split(",") if part.strip())

    def listen_address(self, name: str, default: str) -> ListenAddress:
        value = self.optional(name) or default
        match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([^:\s]+):(\d{1,5})", value)
        if match is None:
            raise ConfigError(name, f"must be host:port, e.g. 0.0.0.0:8080 (got {value!r})")
        host = match.group(1) or match.group(3)
        port = int(match.group(2) or match.group(4))
        if not 0 <= port <= 65535:
            raise ConfigError(name, f"port must be between 0 and 65535 (got {port})")
        return ListenAddress(host=host, port=port)

    def database_url(self, name: str) -> DatabaseUrl | None:
        value = self.optional(name)
        if value is None:
            return None
        try:
            return parse_database_url(value)
        except DsnError as err:
            raise ConfigError(name, str(err)) from None

    def redis_url(self, name: str) -> str | None:
        value = self.optional(name)
        if value is None:
            return None
        if not re.match(r"^(redis|rediss|unix)://", value):
            raise ConfigError(
                name,
                "must start with redis://, rediss:// or unix:// (e.g. redis://127.0.0.1:6379/0)",
            )
        return value

    def networks(
        self, name: str, default: tuple[str, ...]
    ) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        entries = self.csv(name, default)
        networks = []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ConfigError(
                    name, f"{entry!r} is not an IP address or CIDR range (e.g. 10.0.0.0/8)"
                ) from None
        return tuple(networks)

    def ice_servers(self, name: str) -> tuple[IceServer, ...]:
        value = self.optional(name)
        if value is None:
            return ()
        try:
            data = json.loads(value)
        except ValueError:
            raise ConfigError(name, "is not valid JSON (expected a list of {urls, ...})") from None
        if not isinstance(data, list):
            raise ConfigError(name, "must be a JSON list of {urls, username?, credential?}")
        servers = []
        for item in data:
            servers.append(_ice_server(name, item))
        return tuple(servers)


def _ice_server(name: str, item: object) -> IceServer:
    if not isinstance(item, dict):
        raise ConfigError(name, "each entry must be an object with 'urls'")
    urls = item.get("urls")
    if isinstance(urls, str):
        url_list: tuple[str, ...] = (urls,)
    elif isinstance(urls, list) and urls and all(isinstance(u, str) for u in urls):
        url_list = tuple(urls)
    else:
        raise ConfigError(name, "each entry's 'urls' must be a string or a list of strings")
    username, credential = item.get("username"), item.get("credential")
    if username is not None and not isinstance(username, str):
        raise ConfigError(name, "'username' must be a string")
    if credential is not None and not isinstance(credential, str):
        raise ConfigError(name, "'credential' must be a string")
    return IceServer(urls=url_list, username=username, credential=credential)


def _redact_url(url: str) -> str:
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
