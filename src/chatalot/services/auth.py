"""Registration, login, token refresh and self-service recovery.

Differences from the original, on purpose:
- logging in does not end the user's other sessions; every device keeps its own chain;
- refresh tokens rotate with reuse detection: presenting an already-rotated token (after a
  10 s grace for racing tabs) revokes that whole chain and is audited;
- lockouts decay, are shared by every process, answer 429, and count unknown usernames too;
  they lock an (account, client address) pair after 10 failures in 15 minutes, and the whole
  account only after 100, except for addresses it recently signed in from, so a stranger cannot
  lock the owner out (services/lockout.py); an unknown username costs the same Argon2
  verification as a wrong password, so timing reveals nothing;
- a TOTP code is accepted once: a second use within its validity window is refused;
- usernames and e-mail addresses are unique regardless of case, and login ignores case.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from chatalot.context import Ctx
from chatalot.db.database import Conn, Tx
from chatalot.db.errors import on_unique_violation
from chatalot.errors import Conflict, Invalid, Unauthorized
from chatalot.ids import UserId, uuid4, uuid7
from chatalot.protocol.api.auth import LoginIn, RecoverIn, RegisterIn
from chatalot.repositories import invites as invites_repo
from chatalot.repositories import keys as keys_repo
from chatalot.repositories import sessions as sessions_repo
from chatalot.repositories import totp as totp_repo
from chatalot.repositories import users as users_repo
from chatalot.repositories.users import UserRow
from chatalot.security import codes, totp
from chatalot.security.tokens import REFRESH_TOKEN_SECONDS, new_refresh_token, refresh_token_hash
from chatalot.services import keys as keys_service
from chatalot.services import lockout
from chatalot.services import totp as totp_service
from chatalot.services.actor import RequestMeta
from chatalot.services.audit import record_audit
from chatalot.services.sessions import end_session_chain, end_user_sessions
from chatalot.services.validation import (
    validate_display_name,
    validate_email,
    validate_password,
    validate_username,
)

log = logging.getLogger("chatalot_server")

REUSE_GRACE = timedelta(seconds=10)
MAX_ONE_TIME_PREKEYS = 1000
LOGIN_LOCKED = "account temporarily locked, try again in {N} seconds"
RECOVER_LOCKED = "too many attempts — try again in {N} seconds"


@dataclass(frozen=True, slots=True)
class AuthResult:
    access_token: str
    refresh_token: str
    user: UserRow
    recovery_code: str | None = None


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str


# -- sessions ------------------------------------------------------------------------------


async def start_session(
    ctx: Ctx, conn: Conn, user: UserRow, meta: RequestMeta, *, family_id: uuid.UUID | None = None
) -> TokenPair:
    """A new refresh token row (a new chain unless ``family_id``) and an access token."""
    token, token_hash = new_refresh_token()
    now = ctx.clock.now()
    family_id = family_id or uuid4()
    await sessions_repo.insert_session(
        conn,
        session_id=uuid4(),
        user_id=user.id,
        family_id=family_id,
        token_hash=token_hash,
        device_name=meta.device_name,
        ip_address=meta.ip,
        created_at=now,
        expires_at=now + timedelta(seconds=REFRESH_TOKEN_SECONDS),
    )
    access = ctx.tokens.issue_access_token(
        user_id=user.id,
        username=user.username,
        is_admin=user.is_admin,
        is_owner=user.is_owner,
        session_id=family_id,
    )
    return TokenPair(access_token=access, refresh_token=token)


# -- registration --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Keys:
    identity_key: bytes
    signed_key_id: int
    signed_public: bytes
    signature: bytes
    one_time: list[tuple[int, bytes]]


def _validate_keys(body: RegisterIn) -> _Keys:
    identity = bytes(body.identity_key)
    signed = bytes(body.signed_prekey.public_key)
    signature = bytes(body.signed_prekey.signature)
    if len(identity) != 32:
        raise Invalid("identity key must be 32 bytes")
    if len(signed) != 32:
        raise Invalid("signed prekey must be 32 bytes")
    if len(signature) != 64:
        raise Invalid("signed prekey signature must be 64 bytes")
    keys_service.verify_signed_prekey(identity, signed, signature)
    if len(body.one_time_prekeys) > MAX_ONE_TIME_PREKEYS:
        raise Invalid(f"at most {MAX_ONE_TIME_PREKEYS} one-time prekeys at once")
    one_time = []
    for prekey in body.one_time_prekeys:
        key = bytes(prekey.public_key)
        if len(key) != 32:
            raise Invalid("one-time prekey must be 32 bytes")
        one_time.append((prekey.key_id, key))
    return _Keys(identity, body.signed_prekey.key_id, signed, signature, one_time)


async def register(ctx: Ctx, body: RegisterIn, meta: RequestMeta) -> AuthResult:
    mode = ctx.registration_mode
    if mode == "closed":
        raise Invalid("registration is currently disabled")
    invite_code = (body.invite_code or "").strip()
    async with ctx.db.connection() as conn:
        first_user = await users_repo.count_users(conn) == 0
    needs_invite = mode == "invite_only" and not first_user
    if needs_invite and not invite_code:
        raise Invalid("an invite code is required to register")
    username = validate_username(body.username)
    email = validate_email(body.email)
    validate_password(body.password)
    display_name = validate_display_name(body.display_name)
    keys = _validate_keys(body)
    password_hash = await ctx.passwords.hash(body.password)
    recovery_code = codes.new_recovery_code()
    now = ctx.clock.now()
    async with ctx.db.transaction("register") as tx:
        await users_repo.lock_registration(tx.conn)
        if await users_repo.exists_username(tx.conn, username):
            raise Conflict("username already taken")
        if await users_repo.exists_email(tx.conn, email):
            raise Conflict("email already registered")
        if mode == "invite_only" and await users_repo.count_users(tx.conn) > 0:
            if not invite_code:
                raise Invalid("an invite code is required to register")
            if await invites_repo.consume_registration_invite(tx.conn, invite_code, now) is None:
                raise Invalid("invalid, expired, or fully used invite code")
        elif first_user and mode == "invite_only":
            log.info("First-user bootstrap: skipping invite requirement")
        user_id = UserId(uuid7())
        with on_unique_violation("username already taken"):
            user = await users_repo.insert_user(
                tx.conn,
                user_id=user_id,
                username=username,
                display_name=display_name,
                email=email,
                password_hash=password_hash,
                recovery_code_hash=codes.code_hash(recovery_code),
            )
        await keys_repo.upsert_identity_key(
            tx.conn,
            user_id=user_id,
            identity_key=keys.identity_key,
            fingerprint=keys_service.fingerprint(keys.identity_key),
        )
        await keys_repo.upsert_signed_prekey(
            tx.conn,
            user_id=user_id,
            key_id=keys.signed_key_id,
            public_key=keys.signed_public,
            signature=keys.signature,
        )
        await keys_repo.insert_one_time_prekeys(tx.conn, user_id=user_id, prekeys=keys.one_time)
        if await users_repo.update_make_first_owner(tx.conn, user_id):
            user = await users_repo.select_user(tx.conn, user_id) or user
            log.info("First user '%s' registered: instance owner and admin", username)
        pair = await start_session(ctx, tx.conn, user, meta)
        await record_audit(tx.conn, "register", user_id=user_id, meta=meta)
    return AuthResult(pair.access_token, pair.refresh_token, user, recovery_code)


# -- login ---------------------------------------------------------------------------------


async def _select_user_by_name(conn: Conn, username: str) -> UserRow | None:
    """The account named ``username`` (any case); None for names no account can have (NUL,
    which PostgreSQL text cannot even hold)."""
    if "\x00" in username:
        return None
    return await users_repo.select_user_by_username(conn, username)


async def login(ctx: Ctx, body: LoginIn, meta: RequestMeta) -> AuthResult:
    now = ctx.clock.now()
    async with ctx.db.connection() as conn:
        await lockout.ensure_not_locked(conn, "login", body.username, meta.ip, now, LOGIN_LOCKED)
        user = await _select_user_by_name(conn, body.username)
    if user is None:
        await ctx.passwords.verify_dummy(body.password)
        password_ok = False
    else:
        password_ok = await ctx.passwords.verify(user.password_hash, body.password)
    failed = False
    result: AuthResult | None = None
    async with ctx.db.transaction("login") as tx:
        if user is None or not password_ok:
            failed = True
            await _login_failure(ctx, tx.conn, body.username, user, "login_failed", meta)
        elif user.totp_enabled and not await _second_factor(ctx, tx.conn, user, body, meta):
            failed = True
            await _login_failure(ctx, tx.conn, body.username, user, "login_failed_2fa", meta)
        else:
            if user.suspended_at is not None:
                raise Invalid("account is suspended")
            await lockout.clear(tx.conn, "login", body.username, meta.ip)
            pair = await start_session(ctx, tx.conn, user, meta)
            await record_audit(tx.conn, "login", user_id=user.id, meta=meta)
            result = AuthResult(pair.access_token, pair.refresh_token, user)
    if failed or result is None:
        raise Unauthorized()
    return result


async def _login_failure(
    ctx: Ctx, conn: Conn, username: str, user: UserRow | None, action: str, meta: RequestMeta
) -> None:
    locked = await lockout.record_failure(conn, "login", username, meta.ip, ctx.clock.now())
    if locked is lockout.Locked.ACCOUNT:
        log.warning(
            "Account '%s' locked out for unknown addresses after %d failed attempts",
            username,
            lockout.ACCOUNT_THRESHOLD,
        )
    elif locked is lockout.Locked.PAIR:
        log.warning(
            "Account '%s' locked out for %s after %d failed attempts",
            username,
            lockout.address_key(meta.ip),
            lockout.PAIR_THRESHOLD,
        )
    if user is not None:
        await record_audit(conn, action, user_id=user.id, meta=meta)


async def _second_factor(
    ctx: Ctx, conn: Conn, user: UserRow, body: LoginIn, meta: RequestMeta
) -> bool:
    """True when the TOTP code (for a time step later than the last one accepted) or an unused
    backup code is right. Missing code: 400 (the client shows its 2FA field on exactly this
    message; it is not counted as a failure). A TOTP code already used is a wrong code."""
    code = (body.totp_code or "").strip()
    if not code:
        raise Invalid("2FA code required")
    secret = _totp_secret(ctx, user)
    step = totp.verify_code(secret, code, ctx.clock.now()) if secret is not None else None
    if step is not None:
        return await totp_repo.update_totp_last_step(conn, user.id, step)
    if await users_repo.consume_backup_code(conn, user.id, codes.code_hash(code)):
        await record_audit(conn, "login_backup_code_used", user_id=user.id, meta=meta)
        return True
    return False


def _totp_secret(ctx: Ctx, user: UserRow) -> bytes | None:
    if user.totp_secret is None:
        return None
    return totp.decrypt_secret(totp_service.encryption_key(ctx), bytes(user.totp_secret))


# -- refresh -------------------------------------------------------------------------------


async def refresh(ctx: Ctx, refresh_token: str, meta: RequestMeta) -> TokenPair:
    token_hash = refresh_token_hash(refresh_token.strip())
    if token_hash is None:
        raise Unauthorized()
    now = ctx.clock.now()
    pair: TokenPair | None = None
    async with ctx.db.transaction("refresh") as tx:
        row = await sessions_repo.select_session_by_hash_for_update(tx.conn, token_hash)
        if row is None or row.expires_at <= now:
            pass
        elif row.revoked_at is not None:
            await _maybe_reuse(ctx, tx, row, now, meta)
        else:
            user = await users_repo.select_user(tx.conn, row.user_id)
            if user is not None and user.suspended_at is None:
                await sessions_repo.update_session_rotated(tx.conn, row.id, now)
                pair = await start_session(ctx, tx.conn, user, meta, family_id=row.family_id)
    if pair is None:
        raise Unauthorized()
    return pair


async def _maybe_reuse(
    ctx: Ctx, tx: Tx, row: sessions_repo.SessionRow, now: datetime, meta: RequestMeta
) -> None:
    """A rotated token presented again (outside the grace window) means it was copied: end
    the whole chain, and write it down."""
    if row.revoked_reason != "rotated" or row.revoked_at is None:
        return
    if now - row.revoked_at <= REUSE_GRACE:
        return
    revoked = await end_session_chain(ctx, tx, row.family_id, "reuse_detected")
    await record_audit(
        tx.conn,
        "refresh_token_reuse",
        user_id=row.user_id,
        meta=meta,
        metadata={"session_family": str(row.family_id), "sessions_revoked": revoked},
    )
    log.warning("Refresh token reuse detected for user %s: chain revoked", row.user_id)


# -- recovery ------------------------------------------------------------------------------


async def recover(ctx: Ctx, body: RecoverIn, meta: RequestMeta) -> str:
    """Reset the password with the recovery code; returns the new recovery code."""
    if len(body.username.encode()) > 32 or len(body.recovery_code.encode()) != 19:
        raise Invalid("invalid request")
    now = ctx.clock.now()
    async with ctx.db.transaction("recover_check") as tx:
        await lockout.ensure_not_locked(
            tx.conn, "recover", body.username, meta.ip, now, RECOVER_LOCKED
        )
        user = await _select_user_by_name(tx.conn, body.username)
        valid = (
            user is not None
            and user.suspended_at is None
            and codes.code_matches(body.recovery_code, user.recovery_code_hash)
        )
        if not valid:
            await lockout.record_failure(tx.conn, "recover", body.username, meta.ip, now)
    if not valid or user is None:
        raise Invalid("invalid username or recovery code")
    validate_password(body.new_password)
    password_hash = await ctx.passwords.hash(body.new_password)
    new_code = codes.new_recovery_code()
    async with ctx.db.transaction("recover") as tx:
        current = await users_repo.select_user_for_update(tx.conn, user.id)
        if current is None or current.recovery_code_hash != user.recovery_code_hash:
            raise Invalid("invalid username or recovery code")  # used concurrently
        await users_repo.update_password_hash(tx.conn, user.id, password_hash)
        await users_repo.update_recovery_code_hash(tx.conn, user.id, codes.code_hash(new_code))
        await end_user_sessions(ctx, tx, user.id, "account_recovered")
        await lockout.clear(tx.conn, "recover", body.username, meta.ip)
        await record_audit(
            tx.conn, "account_recovered", user_id=user.id, meta=RequestMeta(ip=meta.ip)
        )
    return new_code
