"""Who is calling, and from where: built by the edge (HTTP or WebSocket) from a verified token
and the request, passed to every service function."""

from __future__ import annotations

import functools
import uuid

import msgspec

from chatalot.ids import UserId

# Both are built for every authenticated request: msgspec structs (frozen, like the dataclasses
# they replace) cost a tenth of a frozen dataclass to build.


class RequestMeta(msgspec.Struct, frozen=True):
    """Where a request came from (for sessions and the audit log)."""

    ip: str | None = None
    user_agent: str | None = None  # raw User-Agent, at most 512 bytes (else None)
    device_name: str | None = None  # "Firefox on Linux", "Chatalot Desktop", ...


class Actor(msgspec.Struct, frozen=True):
    """An authenticated user. Instance flags come from the token; services that grant admin
    powers re-check them against the database."""

    user_id: UserId
    username: str
    is_admin: bool
    is_owner: bool
    meta: RequestMeta = RequestMeta()
    session_id: uuid.UUID | None = None  # the refresh chain the token came from (None: unknown)


@functools.lru_cache(maxsize=1024)  # computed for every authenticated request; agents repeat
def device_name(user_agent: str | None) -> str | None:
    """The original's short device description from a User-Agent string."""
    if not user_agent or len(user_agent.encode()) > 512:
        return None
    if "Tauri" in user_agent or "tauri" in user_agent:
        return "Chatalot Desktop"
    browser = None
    if "Edg/" in user_agent:
        browser = "Edge"
    elif "Chrome/" in user_agent and "Chromium/" not in user_agent:
        browser = "Chrome"
    elif "Firefox/" in user_agent:
        browser = "Firefox"
    elif "Safari/" in user_agent and "Chrome/" not in user_agent:
        browser = "Safari"
    elif "Chromium/" in user_agent:
        browser = "Chromium"
    system = None
    for needle, name in (
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iOS"),
        ("Linux", "Linux"),
        ("Mac OS", "macOS"),
        ("Macintosh", "macOS"),
        ("Windows", "Windows"),
    ):
        if needle in user_agent:
            system = name
            break
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or user_agent[:50]
