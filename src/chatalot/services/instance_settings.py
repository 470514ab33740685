"""Admin-tunable instance settings, cached in memory on every process.

Keys: ``max_messages_cache`` (50-10000), ``max_pins_per_channel`` (1-200), ``e2e_enabled``
("true"/"false") as the original, plus ours: ``registration_mode`` (open/invite_only/closed),
which, once an admin sets it, overrides REGISTRATION_MODE from the environment, and
``allow_external_image_urls`` ("true"/"false", default "true"): whether profile image URLs may
point to other sites (see services/validation.py ``validate_image_url``). Every value is
validated before any is written. Other processes reload on the ``chatalot_settings``
notification.
"""

from __future__ import annotations

from dataclasses import dataclass

from chatalot.db.database import Conn
from chatalot.errors import Invalid
from chatalot.repositories import instance_settings as settings_repo

CHANNEL = "chatalot_settings"
KNOWN_KEYS = (
    "allow_external_image_urls",
    "e2e_enabled",
    "max_messages_cache",
    "max_pins_per_channel",
    "registration_mode",
)
_BOOLEAN_KEYS = ("allow_external_image_urls", "e2e_enabled")
_REGISTRATION_MODES = ("open", "invite_only", "closed")


@dataclass(frozen=True, slots=True)
class InstanceValues:
    max_messages_cache: int = 500
    max_pins_per_channel: int = 50
    e2e_enabled: bool = True
    registration_mode: str | None = None  # None: use REGISTRATION_MODE
    allow_external_image_urls: bool = True


def parse_values(raw: dict[str, str]) -> InstanceValues:
    """Stored strings to values; unparseable ones fall back to defaults, numbers are clamped."""
    defaults = InstanceValues()
    return InstanceValues(
        max_messages_cache=_clamped(
            raw.get("max_messages_cache"), 50, 10000, defaults.max_messages_cache
        ),
        max_pins_per_channel=_clamped(
            raw.get("max_pins_per_channel"), 1, 200, defaults.max_pins_per_channel
        ),
        e2e_enabled=raw.get("e2e_enabled", "true") == "true",
        allow_external_image_urls=raw.get("allow_external_image_urls", "true") != "false",
        registration_mode=raw.get("registration_mode")
        if raw.get("registration_mode") in _REGISTRATION_MODES
        else None,
    )


def _clamped(value: str | None, low: int, high: int, default: int) -> int:
    try:
        number = int(value) if value is not None else default
    except ValueError:
        return default
    return max(low, min(high, number))


def validate_update(values: dict[str, object]) -> dict[str, str]:
    """Check every key and value (strings only); raises Invalid before anything is written."""
    cleaned: dict[str, str] = {}
    for key, value in values.items():
        if key not in KNOWN_KEYS:
            raise Invalid(f"unknown setting: {key}")
        if not isinstance(value, str):
            raise Invalid(f"{key} must be a string")
        if key in ("max_messages_cache", "max_pins_per_channel"):
            low, high = (50, 10000) if key == "max_messages_cache" else (1, 200)
            try:
                number = int(value)
            except ValueError:
                raise Invalid(f"{key} must be a number") from None
            if not low <= number <= high:
                raise Invalid(f"{key} must be between {low} and {high}")
            cleaned[key] = str(number)
        elif key in _BOOLEAN_KEYS:
            if value not in ("true", "false"):
                raise Invalid(f"{key} must be 'true' or 'false'")
            cleaned[key] = value
        else:
            if value not in _REGISTRATION_MODES:
                raise Invalid("registration_mode must be 'open', 'invite_only' or 'closed'")
            cleaned[key] = value
    return cleaned


class InstanceSettingsCache:
    def __init__(
        self, values: InstanceValues | None = None, raw: dict[str, str] | None = None
    ) -> None:
        self.values = values or InstanceValues()
        self.raw = dict(raw or {})

    async def reload(self, conn: Conn) -> InstanceValues:
        self.raw = await settings_repo.list_instance_settings(conn)
        self.values = parse_values(self.raw)
        return self.values

    def apply(self, raw: dict[str, str]) -> None:
        self.raw = dict(raw)
        self.values = parse_values(raw)
