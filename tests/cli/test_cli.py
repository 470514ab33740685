"""The `chatalot` command's other verbs: init, migrate run/info, config check."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from chatalot.config import read_dotenv
from chatalot.db.migrate import discover
from tests.support.pg import MIGRATIONS_DIR, PgServer, reachable_temp_dir
from tests.support.process import base_env, run_cli, start_server

pytestmark = pytest.mark.slow


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A folder for commands on the embedded database (reachable by its system user as root)."""
    path = reachable_temp_dir("chatalot-cli-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_init_writes_env_and_keys(tmp_path: Path) -> None:
    """`chatalot init` writes strong random secrets to .env (mode 600) and an Ed25519 key pair;
    a second run keeps everything."""
    first = run_cli(tmp_path, base_env(), "init")
    assert first.returncode == 0, first.stderr
    values = read_dotenv(tmp_path / ".env")
    assert len(values["TOTP_ENCRYPTION_KEY"]) == 64
    int(values["TOTP_ENCRYPTION_KEY"], 16)
    assert len(values["DB_PASSWORD"]) == 32 and values["DB_PASSWORD"].isalnum()
    assert values["REGISTRATION_MODE"] == "invite_only"
    assert (tmp_path / ".env").stat().st_mode & 0o777 == 0o600
    private = (tmp_path / "secrets" / "jwt_private.pem").read_text()
    public = (tmp_path / "secrets" / "jwt_public.pem").read_text()
    assert private.startswith("-----BEGIN PRIVATE KEY-----")
    assert public.startswith("-----BEGIN PUBLIC KEY-----")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    assert isinstance(load_pem_private_key(private.encode(), None), Ed25519PrivateKey)

    second = run_cli(tmp_path, base_env(), "init")
    assert second.returncode == 0
    assert "nothing to do" in second.stdout
    assert read_dotenv(tmp_path / ".env") == values
    assert (tmp_path / "secrets" / "jwt_private.pem").read_text() == private


def test_init_explains_the_end_to_end_encryption_choice(tmp_path: Path) -> None:
    """The first-run setup tells the operator that encryption starts on, that the built-in web
    client encrypts too, what the server then cannot do, and where to turn it off."""
    result = run_cli(tmp_path, base_env(), "init")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "End-to-end encryption: new servers start with it on" in text
    assert "web client built into this server encrypt every message" in text
    assert "cannot read or search" in text
    assert "Settings > End-to-end encryption" in text


async def test_migrate_info_then_run(pg: PgServer, empty_db: str, tmp_path: Path) -> None:
    """`migrate info` lists every version as pending, `migrate run` applies them, then info
    lists them installed, like sqlx's CLI."""
    env = base_env(DATABASE_URL=pg.url(empty_db).dsn)
    total = len(discover(MIGRATIONS_DIR))
    before = run_cli(tmp_path, env, "migrate", "info")
    assert before.returncode == 0, before.stdout + before.stderr
    assert before.stdout.splitlines()[0] == "1/pending users"
    assert len(before.stdout.splitlines()) == total
    applied = run_cli(tmp_path, env, "migrate", "run")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "Applied 1/migrate users" in applied.stdout
    after = run_cli(tmp_path, env, "migrate", "info")
    assert after.stdout.splitlines()[38] == "39/installed threads"
    again = run_cli(tmp_path, env, "migrate", "run")
    assert again.stdout.strip() == "No pending migrations"
    conn = await asyncpg.connect(pg.url(empty_db).dsn)
    try:
        stored = await conn.fetchval("SELECT checksum FROM _sqlx_migrations WHERE version = 1")
    finally:
        await conn.close()
    assert bytes(stored) == hashlib.sha384((MIGRATIONS_DIR / "001_users.sql").read_bytes()).digest()


async def test_migrate_info_shows_mismatch(pg: PgServer, fresh_db: str, tmp_path: Path) -> None:
    """A changed file shows as a checksum mismatch with both checksums, and exit status 1."""
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    for path in MIGRATIONS_DIR.glob("*.sql"):
        (migrations / path.name).write_bytes(path.read_bytes())
    (migrations / "005_prekeys.sql").write_text("-- edited\n")
    env = base_env(DATABASE_URL=pg.url(fresh_db).dsn, CHATALOT_MIGRATIONS_DIR=str(migrations))
    result = run_cli(tmp_path, env, "migrate", "info")
    assert result.returncode == 1
    assert "5/checksum mismatch prekeys" in result.stdout
    assert "applied migration had checksum" in result.stdout
    refused = run_cli(tmp_path, env, "migrate", "run")
    assert refused.returncode == 1
    assert "005_prekeys.sql was changed after it was applied" in refused.stdout


def test_migrate_on_embedded_database(workdir: Path) -> None:
    """Without DATABASE_URL, `migrate run` uses (and stops) the embedded database."""
    result = run_cli(workdir, base_env(), "migrate", "run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Applied 39/migrate threads" in result.stdout
    info = run_cli(workdir, base_env(), "migrate", "info")
    assert "1/installed users" in info.stdout
    assert not (workdir / "data" / "postgres" / "postmaster.pid").exists()


def test_migrate_refuses_while_the_server_holds_the_embedded_database(workdir: Path) -> None:
    """`migrate info` and `migrate run` on the data a running server uses stop with one line
    saying so (as docs/database.md tells), and leave the server running."""
    env = base_env(CHATALOT_ENV="dev")
    server = start_server(workdir, env)
    try:
        server.wait_healthy()
        for action in ("info", "run"):
            result = run_cli(workdir, env, "migrate", action)
            assert result.returncode == 1, result.stdout + result.stderr
            assert "another Chatalot process is using the embedded database" in result.stdout
            assert "Traceback" not in result.stdout + result.stderr
        server.wait_healthy()
    finally:
        assert server.stop() == 0, server.log


def test_config_check_redacts(tmp_path: Path) -> None:
    """`config check` prints every setting with secrets replaced by ***."""
    env = base_env(
        TOTP_ENCRYPTION_KEY="f" * 64,
        DATABASE_URL="postgres://chatalot:topsecretpw@db:5432/chatalot",
    )
    result = run_cli(tmp_path, env, "config", "check")
    assert result.returncode == 0, result.stderr
    assert "topsecretpw" not in result.stdout and "f" * 64 not in result.stdout
    assert "postgres://chatalot:***@db:5432/chatalot" in result.stdout
    assert result.stdout.strip().endswith("configuration OK")


def test_config_check_reports_bad_value(tmp_path: Path) -> None:
    """A bad value is reported as one line with exit status 2."""
    env = base_env(TOTP_ENCRYPTION_KEY="f" * 64, MAX_FILE_SIZE_MB="huge")
    result = run_cli(tmp_path, env, "config", "check")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: MAX_FILE_SIZE_MB: must be a whole number (got 'huge')"
