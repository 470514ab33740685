"""`/api/totp/*` request and response bodies."""

from __future__ import annotations

import msgspec


class TotpCodeIn(msgspec.Struct):
    """verify, disable and regenerate-backup-codes all take the current 6-digit code."""

    code: str


class TotpSetupOut(msgspec.Struct):
    otpauth_url: str
    secret: str


class TotpEnableOut(msgspec.Struct):
    enabled: bool
    backup_codes: list[str]


class TotpDisableOut(msgspec.Struct):
    enabled: bool


class BackupCodesOut(msgspec.Struct):
    backup_codes: list[str]
