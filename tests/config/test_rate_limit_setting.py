"""CHATALOT_RATE_LIMITS: the per-address limits can be turned off for fuzzing, never in
production."""

from __future__ import annotations

import pytest

from chatalot.config import ConfigError, load_settings
from chatalot.ratelimit import GLOBAL_RULE, LocalRateLimiter, UnlimitedRateLimiter
from chatalot.server import make_limiter

DEV = {"CHATALOT_ENV": "dev"}
PRODUCTION = {"CHATALOT_ENV": "production", "TOTP_ENCRYPTION_KEY": "ab" * 32}


def test_rate_limits_are_on_by_default() -> None:
    """Unset (or empty) means on, in every environment, and the server uses real buckets."""
    for environ in (DEV, PRODUCTION, {**PRODUCTION, "CHATALOT_RATE_LIMITS": ""}):
        settings = load_settings(environ)
        assert settings.rate_limits is True
        assert settings.redacted()["CHATALOT_RATE_LIMITS"] == "on"
        assert isinstance(make_limiter(settings), LocalRateLimiter)


async def test_off_in_dev_never_limits() -> None:
    """CHATALOT_RATE_LIMITS=off (any case) with CHATALOT_ENV=dev: a limiter that allows
    every request, far past the 50-request burst."""
    settings = load_settings({**DEV, "CHATALOT_RATE_LIMITS": "OFF"})
    assert settings.rate_limits is False
    assert settings.redacted()["CHATALOT_RATE_LIMITS"] == "off"
    limiter = make_limiter(settings)
    assert isinstance(limiter, UnlimitedRateLimiter)
    decisions = [await limiter.take(GLOBAL_RULE, "127.0.0.1") for _ in range(200)]
    assert all(d.allowed for d in decisions)


def test_off_is_refused_in_production() -> None:
    """A production server never runs without its limits: one line naming the variable."""
    with pytest.raises(ConfigError) as err:
        load_settings({**PRODUCTION, "CHATALOT_RATE_LIMITS": "off"})
    assert str(err.value) == (
        "CHATALOT_RATE_LIMITS: off is allowed only with CHATALOT_ENV=dev (for testing)"
    )


def test_other_values_are_refused() -> None:
    """Only on and off."""
    with pytest.raises(ConfigError, match="CHATALOT_RATE_LIMITS: must be one of on, off"):
        load_settings({**DEV, "CHATALOT_RATE_LIMITS": "no"})
