"""``server_version`` of ``authenticated``: the ``version`` field of the served web client's
``<STATIC_FILES_PATH>/version.json``, or ``"unknown"`` (then the client never reloads). Read
again whenever the file changes, so a redeployed web client is reported without a restart."""

from __future__ import annotations

from pathlib import Path

import msgspec

UNKNOWN = "unknown"


class _VersionFile(msgspec.Struct):
    version: str


class ServerVersion:
    def __init__(self, static_root: Path) -> None:
        self.path = static_root / "version.json"
        self._stamp: tuple[int, int] | None = None
        self._value = UNKNOWN

    def get(self) -> str:
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
