"""Two-factor authentication (TOTP, RFC 6238) for the signed-in user: set up a secret, verify
it (which turns 2FA on and issues backup codes), turn 2FA off, and replace the backup codes.
Signing in with a second factor is in services/auth.py.

Secrets are stored encrypted (security/totp.py); backup codes only as SHA-256 hex.

Differences from the original, on purpose:
- wrong codes on verify/disable/regenerate count toward a lockout shared with nothing else
  (scope ``totp``: 10 failures in 15 minutes lock this account from this address for 15
  minutes, 100 from all addresses lock it for unknown addresses; 429 ``rate_limited``; see
  services/lockout.py); a correct code clears this address's counter;
- a code is accepted once: each action records the code's time step, and a code whose step is
  not later than the last accepted one (here or at login) is a wrong code;
- turning 2FA on and off and replacing backup codes are written to the audit log;
- every action is one transaction with the user's row locked, so two concurrent requests
  cannot interleave (e.g. a disable racing a verify).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from chatalot.context import Ctx
from chatalot.db.database import Conn
from chatalot.errors import Conflict, Invalid, NotFound
from chatalot.repositories import totp as totp_repo
from chatalot.repositories import users as users_repo
from chatalot.repositories.users import UserRow
from chatalot.security import codes, totp
from chatalot.services import lockout
from chatalot.services.actor import Actor
from chatalot.services.audit import record_audit

log = logging.getLogger("chatalot_server")

LOCKOUT_SCOPE = "totp"
BACKUP_CODE_COUNT = 8
ALREADY_ENABLED = "2FA is already enabled"
NOT_ENABLED = "2FA is not enabled"
SETUP_FIRST = "no TOTP secret configured, call /totp/setup first"
INVALID_CODE = "invalid TOTP code"
LOCKED = "too many attempts — try again in {N} seconds"

_T = TypeVar("_T")
_warned_missing_key = False


@dataclass(frozen=True, slots=True)
class TotpSetup:
    otpauth_url: str
    secret: str  # unpadded base32, what authenticator apps accept when typed in


def encryption_key(ctx: Ctx) -> str:
    """TOTP_ENCRYPTION_KEY. Production refuses to start without it; in dev mode a missing key
    means the empty string (what the original does with an empty value), with one warning."""
    global _warned_missing_key
    key = ctx.settings.totp_encryption_key
    if key is not None:
        return key
    if not _warned_missing_key:
        _warned_missing_key = True
        log.warning(
            "TOTP_ENCRYPTION_KEY is not set (dev mode): TOTP secrets are encrypted with an "
            "empty key; set it before enabling 2FA on a real server"
        )
    return ""


def _new_backup_codes() -> tuple[list[str], list[str]]:
    plain = [codes.new_backup_code() for _ in range(BACKUP_CODE_COUNT)]
    return plain, [codes.code_hash(c) for c in plain]


async def _locked_user(conn: Conn, actor: Actor) -> UserRow:
    user = await users_repo.select_user_for_update(conn, actor.user_id)
    if user is None:
        raise NotFound("user not found")
    return user


def _matching_step(key: str, user: UserRow, code: str, now: datetime) -> int | None:
    """The time step ``code`` is valid for (see security/totp.py), else None."""
    # non-ASCII digits ("２８７０８２") would reach hmac.compare_digest, which raises on them
    if user.totp_secret is None or not code.isascii():
        return None
    secret = totp.decrypt_secret(key, bytes(user.totp_secret))
    return totp.verify_code(secret, code, now) if secret is not None else None


async def setup_totp(ctx: Ctx, actor: Actor) -> TotpSetup:
    """A new secret (replacing any pending one); 2FA stays off until ``verify_totp``."""
    key = encryption_key(ctx)
    secret = totp.new_secret()
    async with ctx.db.transaction("totp_setup") as tx:
        user = await _locked_user(tx.conn, actor)
        if user.totp_enabled:
            raise Conflict(ALREADY_ENABLED)
        await totp_repo.update_totp_secret(tx.conn, user.id, totp.encrypt_secret(key, secret))
    return TotpSetup(
        otpauth_url=totp.otpauth_url(user.username, secret), secret=totp.secret_base32(secret)
    )


async def _with_code(
    ctx: Ctx,
    actor: Actor,
    code: str,
    *,
    name: str,
    check_state: Callable[[UserRow], None],
    apply: Callable[[Conn, UserRow], Awaitable[_T]],
) -> _T:
    """Runs ``apply`` when ``code`` is the user's current TOTP code and its time step was not
    used before (the step is recorded in the same transaction). A wrong or reused code is
    counted toward the lockout (and that count is committed) before the request fails."""
    now = ctx.clock.now()
    key = encryption_key(ctx)
    result: tuple[_T] | None = None
    async with ctx.db.transaction(name) as tx:
        user = await _locked_user(tx.conn, actor)
        check_state(user)
        ip = actor.meta.ip
        await lockout.ensure_not_locked(tx.conn, LOCKOUT_SCOPE, user.username, ip, now, LOCKED)
        step = _matching_step(key, user, code, now)
        if step is not None and await totp_repo.update_totp_last_step(tx.conn, user.id, step):
            await lockout.clear(tx.conn, LOCKOUT_SCOPE, user.username, ip)
            result = (await apply(tx.conn, user),)
        elif await lockout.record_failure(tx.conn, LOCKOUT_SCOPE, user.username, ip, now):
            log.warning("2FA management for '%s' locked after wrong codes", user.username)
    if result is None:
        raise Invalid(INVALID_CODE)
    return result[0]


def _has_secret(user: UserRow) -> None:
    if user.totp_secret is None:
        raise Invalid(SETUP_FIRST)


def _is_enabled(user: UserRow) -> None:
    if not user.totp_enabled:
        raise Invalid(NOT_ENABLED)


async def verify_totp(ctx: Ctx, actor: Actor, code: str) -> list[str]:
    """Turns 2FA on (again, if it already is) and returns 8 new backup codes."""
    plain, hashes = _new_backup_codes()

    async def apply(conn: Conn, user: UserRow) -> list[str]:
        await totp_repo.update_totp_enabled(conn, user.id, hashes)
        await record_audit(
            conn,
            "totp_enabled",
            user_id=user.id,
            meta=actor.meta,
            metadata={"was_enabled": user.totp_enabled},
        )
        return plain

    return await _with_code(
        ctx, actor, code, name="totp_verify", check_state=_has_secret, apply=apply
    )


async def disable_totp(ctx: Ctx, actor: Actor, code: str) -> None:
    """Turns 2FA off with a TOTP code (backup codes are not accepted here)."""

    async def apply(conn: Conn, user: UserRow) -> None:
        await totp_repo.update_totp_disabled(conn, user.id)
        await record_audit(conn, "totp_disabled", user_id=user.id, meta=actor.meta)

    await _with_code(ctx, actor, code, name="totp_disable", check_state=_is_enabled, apply=apply)


async def regenerate_backup_codes(ctx: Ctx, actor: Actor, code: str) -> list[str]:
    """Replaces all backup codes with 8 new ones (the old ones stop working)."""
    plain, hashes = _new_backup_codes()

    async def apply(conn: Conn, user: UserRow) -> list[str]:
        await totp_repo.update_totp_backup_codes(conn, user.id, hashes)
        await record_audit(conn, "totp_backup_codes_regenerated", user_id=user.id, meta=actor.meta)
        return plain

    return await _with_code(
        ctx,
        actor,
        code,
        name="totp_regenerate_backup_codes",
        check_state=_is_enabled,
        apply=apply,
    )
