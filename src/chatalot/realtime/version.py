"""``server_version`` of ``authenticated``: the version of the web client being served. With an
external site (an ``index.html`` in ``STATIC_FILES_PATH``) it is the ``version`` field of that
site's ``version.json``, or ``"unknown"`` (then the client never reloads), read again whenever
the file changes, so a redeployed web client is reported without a restart; otherwise it is the
built-in client's version (api/web_client.py)."""

from __future__ import annotations

from pathlib import Path

import msgspec

UNKNOWN = "unknown"


class _VersionFile(msgspec.Struct):
    version: str


class ServerVersion:
    def __init__(self, static_root: Path, builtin_version: str) -> None:
        """``builtin_version``: the built-in client's, reported without an external site."""
        self.path = static_root / "version.json"
        self.index = static_root / "index.html"
        self.builtin_version = builtin_version
        self._stamp: tuple[int, int] | None = None
        self._value = UNKNOWN

    def get(self) -> str:
        if not self.index.is_file():
            return self.builtin_version
        try:
            stat = self.path.stat()
        except OSError:
            self._stamp, self._value = None, UNKNOWN
            return UNKNOWN
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            self._stamp, self._value = stamp, read_version(self.path)
        return self._value


def read_version(path: Path) -> str:
    try:
        data = path.read_bytes()
        if len(data) > 64 * 1024:
            return UNKNOWN
        version = msgspec.json.decode(data, type=_VersionFile).version
    except (OSError, msgspec.DecodeError):
        return UNKNOWN
    return version if version and len(version) <= 200 else UNKNOWN
