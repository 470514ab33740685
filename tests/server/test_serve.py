"""`chatalot serve` as a real process: first start on a fresh checkout, the startup log lines,
restart with data kept, graceful shutdown, several processes on one database, and clear
one-line failures."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from chatalot.db.migrate import discover
from tests.support.pg import MIGRATIONS_DIR, PgServer, reachable_temp_dir
from tests.support.process import base_env, refused_port, run_cli, start_server

pytestmark = pytest.mark.slow


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A checkout-like folder for a server on the embedded database (reachable when root)."""
    path = reachable_temp_dir("chatalot-serve-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def embedded_dsn(cwd: Path) -> str:
    return f"postgresql://postgres@/chatalot?host={cwd / 'data' / 'postgres'}"


def lines_after(log: str, *needles: str) -> list[int]:
    positions = []
    for needle in needles:
        assert needle in log, f"{needle!r} missing from:\n{log}"
        positions.append(log.index(needle))
    return positions


async def test_fresh_checkout_starts_on_embedded_database_and_keeps_data(workdir: Path) -> None:
    """No DATABASE_URL, no keys, no .env: serve generates secrets, starts the embedded
    PostgreSQL, logs the seed's two lines in order, serves health; after SIGTERM it exits 0 and
    the next start reuses the same data without re-applying anything."""
    env = base_env()
    first = start_server(workdir, env)
    try:
        health = first.wait_healthy()
        assert health["db_healthy"] is True
        conn = await asyncpg.connect(embedded_dsn(workdir))
        try:
            await conn.execute(
                "INSERT INTO users (id, username, display_name, email, password_hash)"
                " VALUES ($1, 'survivor', 'S', 's@example.com', 'x')",
                uuid.uuid4(),
            )
        finally:
            await conn.close()
    finally:
        assert first.stop() == 0, first.log
    log = first.log
    connected, migrated, listening = lines_after(
        log,
        "INFO chatalot_server: Database connected",
        "INFO chatalot_server: Migrations applied",
        "Listening on 127.0.0.1:",
    )
    assert connected < migrated < listening
    assert "generated a new Ed25519 JWT key pair" in log
    assert (
        "Instance settings: max_messages_cache=500, max_pins_per_channel=50, e2e_enabled=true"
        in log
    )
    assert "wrote a new TOTP_ENCRYPTION_KEY" in log
    assert f"Applied {len(discover(MIGRATIONS_DIR))} migration(s)" in log
    assert "Server shut down gracefully" in log
    assert "Embedded PostgreSQL stopped" in log
    assert (workdir / "secrets" / "jwt_private.pem").stat().st_mode & 0o777 == 0o600
    assert "TOTP_ENCRYPTION_KEY=" in (workdir / ".env").read_text()
    assert not (workdir / "data" / "postgres" / "postmaster.pid").exists()
    key_before = (workdir / "secrets" / "jwt_private.pem").read_bytes()

    second = start_server(workdir, env)
    try:
        second.wait_healthy()
        conn = await asyncpg.connect(embedded_dsn(workdir))
        try:
            assert await conn.fetchval("SELECT username FROM users") == "survivor"
        finally:
            await conn.close()
    finally:
        assert second.stop() == 0, second.log
    assert "Applied" not in second.log
    assert "INFO chatalot_server: Migrations applied" in second.log
    assert "generated" not in second.log
    assert (workdir / "secrets" / "jwt_private.pem").read_bytes() == key_before


async def test_two_processes_share_one_database(
    pg: PgServer, empty_db: str, tmp_path: Path
) -> None:
    """Two servers starting at once on the same DATABASE_URL: both come up, every migration is
    applied exactly once."""
    env = base_env(DATABASE_URL=pg.url(empty_db).dsn, CHATALOT_ENV="dev")
    a, b = start_server(tmp_path, env), start_server(tmp_path, env)
    try:
        a.wait_healthy()
        b.wait_healthy()
    finally:
        assert a.stop() == 0, a.log
        assert b.stop() == 0, b.log
    logs = [a.log, b.log]
    total = len(discover(MIGRATIONS_DIR))
    assert sum(f"Applied {total} migration(s)" in log for log in logs) == 1
    assert all("INFO chatalot_server: Migrations applied" in log for log in logs)
    conn = await asyncpg.connect(pg.url(empty_db).dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM _sqlx_migrations") == total
    finally:
        await conn.close()


async def test_second_process_on_same_embedded_data_is_refused(workdir: Path) -> None:
    """The embedded database belongs to one process; a second one says why it cannot start."""
    env = base_env(CHATALOT_ENV="dev")
    first = start_server(workdir, env)
    try:
        first.wait_healthy()
        second = start_server(workdir, env)
        code = second.proc.wait(60)
        assert code == 1
        assert "another Chatalot process is using the embedded database" in second.log
        assert "Traceback" not in second.log
    finally:
        assert first.stop() == 0


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://chatalot@localhost/chatalot", "error: DATABASE_URL: must start with postgres://"),
        ("postgres://u:pw@h/db?sslmode=nope", "error: DATABASE_URL: sslmode must be one of"),
    ],
)
def test_invalid_database_url_is_one_line(tmp_path: Path, url: str, expected: str) -> None:
    """A malformed DATABASE_URL stops startup with exit 2 and one line naming the variable."""
    result = run_cli(tmp_path, base_env(DATABASE_URL=url, CHATALOT_ENV="dev"), "serve")
    assert result.returncode == 2
    assert result.stderr.strip().startswith(expected)
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stdout + result.stderr


def test_unreachable_database_is_explained_without_password(tmp_path: Path) -> None:
    """An unreachable host is retried for CHATALOT_DB_CONNECT_RETRY_SECS, then one clear
    sentence; the password appears nowhere in the output."""
    with refused_port() as port:
        env = base_env(
            DATABASE_URL=f"postgres://chatalot:Sup3rSecretPw@127.0.0.1:{port}/chatalot",
            CHATALOT_DB_CONNECT_RETRY_SECS="1",
            CHATALOT_ENV="dev",
        )
        result = run_cli(tmp_path, env, "serve")
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert f"could not reach PostgreSQL at 127.0.0.1:{port} within 1 s" in output
    assert "Sup3rSecretPw" not in output
    assert "Traceback" not in output


def test_unknown_database_is_explained(pg: PgServer, tmp_path: Path) -> None:
    """An unknown database name stops startup with the CREATE DATABASE statement to run."""
    env = base_env(DATABASE_URL=pg.url("nope_not_here").dsn, CHATALOT_ENV="dev")
    result = run_cli(tmp_path, env, "serve")
    assert result.returncode == 1
    assert "database 'nope_not_here' does not exist" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


async def test_missing_privileges_print_the_grant(
    pg: PgServer, empty_db: str, tmp_path: Path
) -> None:
    """A user without CREATE on the schema is told the OWNER/GRANT statements from the seed."""
    role = f"limited_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(pg.url(empty_db).dsn)
    try:
        await admin.execute(f'CREATE ROLE "{role}" LOGIN')
        await admin.execute(f'REVOKE CREATE ON SCHEMA public FROM PUBLIC, "{role}"')
        env = base_env(DATABASE_URL=pg.dsn_as(empty_db, role), CHATALOT_ENV="dev")
        result = await asyncio.to_thread(run_cli, tmp_path, env, "serve")
        assert result.returncode == 1
        assert f"ALTER DATABASE {empty_db} OWNER TO {role};" in result.stdout
        assert f"GRANT ALL ON SCHEMA public TO {role};" in result.stdout
        assert "Traceback" not in result.stdout + result.stderr
    finally:
        await admin.execute(f'DROP OWNED BY "{role}"')
        await admin.close()
        cleanup = await asyncpg.connect(pg.admin.dsn)
        try:
            await cleanup.execute(f'DROP ROLE IF EXISTS "{role}"')
        finally:
            await cleanup.close()


def test_missing_totp_key_in_production_with_existing_env(tmp_path: Path) -> None:
    """A placeholder TOTP_ENCRYPTION_KEY in production stops startup with one line."""
    (tmp_path / ".env").write_text("TOTP_ENCRYPTION_KEY=change-me\n")
    with refused_port() as port:
        env = base_env(DATABASE_URL=f"postgres://u@127.0.0.1:{port}/x")
        result = run_cli(tmp_path, env, "serve")
    assert result.returncode == 2
    assert result.stderr.startswith("error: TOTP_ENCRYPTION_KEY: still holds a placeholder")


def test_cli_runs_in_tests_never_take_the_default_port() -> None:
    """Every `chatalot` the tests start listens on a free loopback port, never on 8080 (which
    the README's own server may hold while the tests run)."""
    import socket

    host, port = base_env()["LISTEN_ADDR"].rsplit(":", 1)
    assert host == "127.0.0.1"
    assert int(port) != 8080
    with socket.socket() as sock:
        sock.bind((host, int(port)))


def test_listen_address_in_use(tmp_path: Path) -> None:
    """A taken LISTEN_ADDR is reported as such, before touching the database."""
    import socket

    with socket.socket() as taken, refused_port() as db_port:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = base_env(
            LISTEN_ADDR=f"127.0.0.1:{port}",
            DATABASE_URL=f"postgres://u@127.0.0.1:{db_port}/x",
            CHATALOT_ENV="dev",
        )
        result = run_cli(tmp_path, env, "serve")
    assert result.returncode == 1
    assert f"LISTEN_ADDR: cannot listen on 127.0.0.1:{port}" in result.stdout


def test_unreadable_jwt_key_is_one_sentence(tmp_path: Path) -> None:
    """A key pair that cannot be loaded stops startup naming the variable and the file."""
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "jwt_public.pem").write_text("not a key")
    with refused_port() as port:
        env = base_env(DATABASE_URL=f"postgres://u@127.0.0.1:{port}/x", CHATALOT_ENV="dev")
        result = run_cli(tmp_path, env, "serve")
    assert result.returncode == 1
    assert "JWT_PRIVATE_KEY_PATH: cannot read secrets/jwt_private.pem" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


async def test_accounts_work_on_a_real_server(pg: PgServer, empty_db: str, tmp_path: Path) -> None:
    """On a real process (uvicorn, production Argon2id): the first user registers and is
    owner, logs in, reads their profile, and an admin setting shows in /api/auth/config; HEAD
    answers GET's headers without a body through uvicorn."""
    import httpx

    from tests.support.auth import PASSWORD, register_body

    env = base_env(DATABASE_URL=pg.url(empty_db).dsn, CHATALOT_ENV="dev")
    server = start_server(tmp_path, env)
    try:
        server.wait_healthy()
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            registered = await http.post("/api/auth/register", json=register_body("firstboss"))
            assert registered.status_code == 200, registered.text
            assert registered.json()["user"]["is_owner"] is True
            login = await http.post(
                "/api/auth/login", json={"username": "FirstBoss", "password": PASSWORD}
            )
            assert login.status_code == 200
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            me = await http.get("/api/account/me", headers=headers)
            assert me.json()["username"] == "firstboss"
            changed = await http.put(
                "/api/admin/settings", json={"registration_mode": "closed"}, headers=headers
            )
            assert changed.status_code == 200, changed.text
            config = await http.get("/api/auth/config")
            assert config.json()["registration_mode"] == "closed"
            assert registered.headers["x-content-type-options"] == "nosniff"
            for path, auth in (("/api/health", {}), ("/api/account/me", headers)):
                get = await http.get(path, headers=auth)
                head = await http.head(path, headers=auth)  # uvicorn must see a HEAD
                assert head.status_code == 200 and head.content == b"", path
                assert head.headers["content-length"] == get.headers["content-length"], path
            after_head = await http.get("/api/health")  # the connection is still usable
            assert after_head.status_code == 200
    finally:
        assert server.stop() == 0, server.log
    assert "Exception caught after response started" not in server.log
    conn = await asyncpg.connect(pg.url(empty_db).dsn)
    try:
        stored = await conn.fetchval("SELECT password_hash FROM users")
    finally:
        await conn.close()
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
