"""The `chatalot` command: serve | init | migrate run | migrate info | config check |
storage migrate [--dry-run] | push generate-vapid-keys.

Exit codes: 0 success, 1 the server or a migration failed (one clear log line), 2 bad
configuration or usage.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar

from chatalot import __version__
from chatalot.bootstrap import BootstrapError, ensure_first_run_secrets, init_instance
from chatalot.config import ConfigError, Settings, load_settings, merged_environment, read_dotenv
from chatalot.db.embedded import EmbeddedPostgresError
from chatalot.db.migrate import MigrationError, discover, list_applied, run_migrations, status
from chatalot.db.pool import DatabaseStartupError, wait_for_database
from chatalot.db.provision import provision_database
from chatalot.logs import configure_logging
from chatalot.server import StartupError, run_server
from chatalot.storage.base import StorageUnavailable

log = logging.getLogger("chatalot_server")

_T = TypeVar("_T")
DOTENV = Path(".env")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    command: str = args.command or "serve"
    configure_logging()
    try:
        if command == "serve":
            return _serve()
        if command == "init":
            return _init()
        if command == "migrate":
            return _migrate(args.action)
        if command == "config":
            return _config_check()
        if command == "storage":
            return _storage_migrate(dry_run=args.dry_run)
        if command == "push":
            return _generate_vapid_keys()
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)  # noqa: T201 - CLI output
        return 2
    except (
        BootstrapError,
        StartupError,
        DatabaseStartupError,
        MigrationError,
        EmbeddedPostgresError,
    ) as err:
        log.error("%s", err)
        return 1
    except KeyboardInterrupt:
        return 130
    parser.print_help()
    return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chatalot", description="Chatalot chat server")
    parser.add_argument("--version", action="version", version=f"chatalot {__version__}")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the server (applies pending migrations first)")
    sub.add_parser("init", help="write .env with random secrets and generate the JWT key pair")
    migrate = sub.add_parser("migrate", help="apply or inspect database migrations")
    migrate.add_argument("action", choices=["run", "info"])
    config = sub.add_parser("config", help="inspect the configuration")
    config.add_argument("action", choices=["check"])
    push = sub.add_parser("push", help="Web Push: generate-vapid-keys prints a new key pair")
    push.add_argument("action", choices=["generate-vapid-keys"])
    storage = sub.add_parser(
        "storage", help="copy the local files (FILE_STORAGE_PATH) to the S3 store (S3_*)"
    )
    storage.add_argument("action", choices=["migrate"])
    storage.add_argument(
        "--dry-run", action="store_true", help="count what would be copied, copy nothing"
    )
    return parser


def _settings(*, require_secrets: bool = True) -> Settings:
    settings = load_settings(
        merged_environment(os.environ, DOTENV), require_secrets=require_secrets
    )
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _run(factory: Callable[[], Awaitable[_T]]) -> _T:
    try:
        import uvloop

        loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard] on Linux
        loop_factory = None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(factory())  # type: ignore[arg-type]  # an awaitable coroutine


def _serve() -> int:
    ensure_first_run_secrets(merged_environment(os.environ, DOTENV), DOTENV)
    settings = _settings()
    _run(lambda: run_server(settings))
    return 0


def _init() -> int:
    result = init_instance(Path.cwd(), os.environ, read_dotenv(DOTENV))
    out = []
    if result.generated_keys:
        out.append("generated the Ed25519 JWT key pair in ./secrets")
    if result.env_keys_written:
        out.append(f"wrote {', '.join(result.env_keys_written)} to .env")
    print("; ".join(out) if out else "nothing to do: .env and ./secrets are complete")  # noqa: T201
    print(E2E_CHOICE)  # noqa: T201
    return 0


E2E_CHOICE = """
End-to-end encryption: new servers start with it on (instance setting e2e_enabled). Members'
apps and the web client built into this server encrypt every message on the device, and the
server relays and stores only ciphertext, which it cannot read or search. Turn it off (as the
owner: Settings > End-to-end encryption (this server), or PUT /api/admin/settings) to have
messages stored readable by the server, which can then search them."""


def _migrate(action: str) -> int:
    settings = _settings(require_secrets=False)
    migrations = discover(settings.migrations_dir)

    async def work() -> int:
        provisioned = await provision_database(settings)
        try:
            await wait_for_database(provisioned.url, settings.pool.connect_retry_secs)
            import asyncpg

            conn = await asyncpg.connect(provisioned.url.dsn)
            try:
                if action == "run":
                    report = await run_migrations(conn, migrations)
                    for migration in report.applied:
                        print(f"Applied {migration.version}/migrate {migration.description}")  # noqa: T201
                    if not report.applied:
                        print("No pending migrations")  # noqa: T201
                    return 0
                rows = status(migrations, await list_applied(conn))
            finally:
                await conn.close()
        finally:
            await provisioned.release()
        problems = 0
        for row in rows:
            line = f"{row.version}/{row.state} {row.description}"
            if row.state == "checksum mismatch":
                problems += 1
                line += (
                    f"\n    applied migration had checksum {(row.applied_checksum or b'').hex()}"
                    f"\n    local migration has checksum   {(row.local_checksum or b'').hex()}"
                )
            elif row.state in ("failed", "missing locally"):
                problems += 1
            print(line)  # noqa: T201
        return 1 if problems else 0

    return _run(work)


def _config_check() -> int:
    settings = _settings()
    width = max(len(k) for k in settings.redacted())
    for key, value in settings.redacted().items():
        print(f"{key.ljust(width)}  {value}")  # noqa: T201
    print("configuration OK")  # noqa: T201
    return 0


def _storage_migrate(*, dry_run: bool) -> int:
    """Copies every local blob the S3 store lacks (same keys); exit 1 when any failed."""
    settings = _settings(require_secrets=False)
    if settings.s3 is None:
        raise ConfigError(
            "S3_BUCKET",
            "storage migrate copies to the S3 store: set S3_BUCKET, S3_ACCESS_KEY_ID and "
            "S3_SECRET_ACCESS_KEY (and S3_ENDPOINT for MinIO or Garage)",
        )
    from chatalot.storage.local import LocalBlobStore
    from chatalot.storage.migrate import migrate_local_to_s3
    from chatalot.storage.s3 import S3BlobStore

    source = LocalBlobStore(settings.file_storage_path)
    target = S3BlobStore.from_settings(settings.s3)
    if not settings.file_storage_path.is_dir():
        problem = f"{settings.file_storage_path} is not a directory"
        print(f"error: FILE_STORAGE_PATH: {problem}", file=sys.stderr)  # noqa: T201
        return 1
    mode = "Dry run: " if dry_run else ""
    print(f"{mode}copying {settings.file_storage_path} to {target.description}")  # noqa: T201
    try:
        report = _run(lambda: migrate_local_to_s3(source, target, dry_run=dry_run))
    except StorageUnavailable as err:
        print(f"error: {err}", file=sys.stderr)  # noqa: T201
        return 1
    print(report.summary())  # noqa: T201
    return 1 if report.failed else 0


def _generate_vapid_keys() -> int:
    """Prints a new VAPID key pair as .env lines (nothing is written or read)."""
    from chatalot.services.push_delivery import generate_vapid_keys

    private, public = generate_vapid_keys()
    print(f"VAPID_PRIVATE_KEY={private}")  # noqa: T201
    print(f"VAPID_PUBLIC_KEY={public}")  # noqa: T201
    return 0
