"""The caller's own account: profile, password, profile images, preferences, recovery code,
and deleting the account.

Differences from the original, on purpose:
- profile texts with control or invisible formatting characters (e.g. NUL, right-to-left
  override) or combining marks stacked more than 4 deep are refused, each with a message that
  says so (newline and tab are fine in a bio);
- an avatar or banner URL on this server must have the exact shape of an uploaded image's
  URL, and external ones can be turned off by the instance setting
  ``allow_external_image_urls`` (services/validation.py ``validate_image_url``);
- re-entering the password (password change, account deletion) counts failures like a login
  (services/lockout.py: 10 wrong passwords in 15 minutes lock those actions from that address
  for 15 minutes, 100 from all addresses lock them for addresses the account does not usually
  use; 429), so a stolen access token cannot be used to guess the password, nor to lock the
  owner out of changing it;
- preferences must be a JSON object, at most 16 KB per request and 64 KB once merged;
- the instance owner cannot delete their account (nobody could administer the instance);
- deleting an account also deletes its DM channels whose other member is already gone, and
  its stored images;
- uploaded images are re-encoded without metadata (see services/images.py).
"""

from __future__ import annotations

from typing import Any

import msgspec

from chatalot.context import Ctx
from chatalot.db.database import Conn, Tx
from chatalot.errors import Invalid, NotFound, Unauthorized
from chatalot.protocol.api.account import ProfileIn
from chatalot.protocol.events import UserProfileUpdated
from chatalot.repositories import accounts as accounts_repo
from chatalot.repositories import memberships as memberships_repo
from chatalot.repositories import preferences as preferences_repo
from chatalot.repositories import users as users_repo
from chatalot.repositories.accounts import KEEP, Keep, ProfileChanges
from chatalot.repositories.users import UserRow
from chatalot.security import codes
from chatalot.services import images, lockout
from chatalot.services.access_revocation import revoke_access
from chatalot.services.actor import Actor
from chatalot.services.audience import EVERYONE
from chatalot.services.audit import record_audit
from chatalot.services.sessions import end_user_sessions
from chatalot.services.validation import (
    check_plain_text,
    check_size,
    validate_display_name,
    validate_image_url,
    validate_password,
)

REAUTH_SCOPE = "reauth"
REAUTH_LOCKED = "too many attempts — try again in {N} seconds"
MAX_PREFERENCES_BYTES = 16_384
MAX_MERGED_PREFERENCES_BYTES = 65_536
MAX_PREFERENCES_DEPTH = 32


def profile_updated_event(user: UserRow) -> UserProfileUpdated:
    return UserProfileUpdated(
        user_id=str(user.id),
        display_name=user.display_name,
        avatar_url=user.avatar_url,
        banner_url=user.banner_url,
        voice_background_url=user.voice_background_url,
        custom_status=user.custom_status,
        bio=user.bio,
        pronouns=user.pronouns,
    )


async def get_me(ctx: Ctx, actor: Actor) -> UserRow:
    """The caller's row; 401 when the account no longer exists (its token is worthless)."""
    async with ctx.db.connection() as conn:
        user = await users_repo.select_user(conn, actor.user_id)
    if user is None:
        raise Unauthorized()
    return user


# -- password re-entry ---------------------------------------------------------------------


async def _verify_password(ctx: Ctx, actor: Actor, password: str, wrong_message: str) -> UserRow:
    """Loads the caller and checks ``password`` against it (Argon2, off the event loop).
    A wrong password is counted (shared lockout) and answered with ``wrong_message``."""
    now = ctx.clock.now()
    async with ctx.db.connection() as conn:
        user = await users_repo.select_user(conn, actor.user_id)
        if user is None:
            raise Unauthorized()
        await lockout.ensure_not_locked(
            conn, REAUTH_SCOPE, user.username, actor.meta.ip, now, REAUTH_LOCKED
        )
    if not await ctx.passwords.verify(user.password_hash, password):
        async with ctx.db.transaction("reauth_failed") as tx:
            await lockout.record_failure(tx.conn, REAUTH_SCOPE, user.username, actor.meta.ip, now)
        raise Invalid(wrong_message)
    return user


async def _locked_unchanged_user(conn: Conn, user: UserRow, wrong_message: str) -> UserRow:
    """Re-reads the user under a row lock; the password must not have changed meanwhile."""
    current = await users_repo.select_user_for_update(conn, user.id)
    if current is None:
        raise Unauthorized()
    if current.password_hash != user.password_hash:
        raise Invalid(wrong_message)
    return current


async def change_password(ctx: Ctx, actor: Actor, current_password: str, new_password: str) -> None:
    """Replaces the password hash and ends every other session of the user; the caller's own
    session (the refresh chain its token names) stays signed in."""
    wrong = "current password is incorrect"
    user = await _verify_password(ctx, actor, current_password, wrong)
    validate_password(new_password)
    new_hash = await ctx.passwords.hash(new_password)
    async with ctx.db.transaction("change_password") as tx:
        await _locked_unchanged_user(tx.conn, user, wrong)
        await users_repo.update_password_hash(tx.conn, user.id, new_hash)
        await end_user_sessions(ctx, tx, user.id, "password_changed", keep_family=actor.session_id)
        await lockout.clear(tx.conn, REAUTH_SCOPE, user.username, actor.meta.ip)
        await record_audit(tx.conn, "password_changed", user_id=user.id, meta=actor.meta)


# -- profile -------------------------------------------------------------------------------


def _clearable_text(
    value: str | None, field: str, limit: int, *, allow: str = ""
) -> str | Keep | None:
    """Trimmed text of at most ``limit`` bytes without control or invisible formatting
    characters (except those in ``allow``) or stacked combining marks; ``""`` clears (NULL),
    ``None`` keeps. Each problem has its own message naming ``field``."""
    if value is None:
        return KEEP
    text = value.strip()
    check_plain_text(text, field, allow=allow)
    check_size(text, field, limit, f"{field} must be at most {limit} characters")
    return text or None


def _image_url(value: str | None, what: str, *, allow_external: bool) -> str | Keep | None:
    """Not trimmed; ``""`` clears; else validate_image_url's rules."""
    if value is None:
        return KEEP
    if value == "":
        return None
    return validate_image_url(value, what, allow_external=allow_external)


def _profile_changes(body: ProfileIn, *, allow_external: bool) -> ProfileChanges:
    display_name: str | Keep = KEEP
    if body.display_name is not None:
        display_name = validate_display_name(body.display_name)
    return ProfileChanges(
        display_name=display_name,
        avatar_url=_image_url(body.avatar_url, "avatar", allow_external=allow_external),
        banner_url=_image_url(body.banner_url, "banner", allow_external=allow_external),
        custom_status=_clearable_text(body.custom_status, "custom status", 128),
        bio=_clearable_text(body.bio, "bio", 500, allow="\n\t"),
        pronouns=_clearable_text(body.pronouns, "pronouns", 50),
    )


async def update_profile(ctx: Ctx, actor: Actor, body: ProfileIn) -> UserRow:
    """Applies the profile edit and tells everyone; returns the updated user."""
    allow_external = ctx.instance.values.allow_external_image_urls
    changes = _profile_changes(body, allow_external=allow_external)
    async with ctx.db.transaction("update_profile") as tx:
        return await _apply_profile_changes(tx, actor, changes)


async def _apply_profile_changes(tx: Tx, actor: Actor, changes: ProfileChanges) -> UserRow:
    """Inside the caller's transaction: update, re-read, emit user_profile_updated."""
    if not await accounts_repo.update_profile(tx.conn, actor.user_id, changes):
        raise NotFound("user not found")
    user = await users_repo.select_user(tx.conn, actor.user_id)
    if user is None:
        raise NotFound("user not found")
    tx.emit(profile_updated_event(user), to=EVERYONE)
    return user


# -- profile images ------------------------------------------------------------------------


def _url_changes(kind: images.ImageKind, url: str | None) -> ProfileChanges:
    if kind is images.AVATAR:
        return ProfileChanges(avatar_url=url)
    if kind is images.BANNER:
        return ProfileChanges(banner_url=url)
    return ProfileChanges(voice_background_url=url)


async def set_profile_image(
    ctx: Ctx, actor: Actor, kind: images.ImageKind, upload: images.ImageUpload | None
) -> UserRow:
    """Checks, cleans and stores the image, points the profile at it (with a ``?v=`` cache
    buster) and tells everyone. The user row stays locked while the file is replaced, so two
    concurrent uploads cannot leave the URL pointing at a removed file."""
    content_type, data = await images.prepare_image(kind, upload)
    async with ctx.db.transaction(f"set_{kind.field}") as tx:
        if await users_repo.select_user_for_update(tx.conn, actor.user_id) is None:
            raise NotFound("user not found")
        filename = await images.store_image(ctx, kind, actor.user_id, content_type, data)
        url = images.stored_image_url(kind, filename, ctx.clock.now())
        user = await _apply_profile_changes(tx, actor, _url_changes(kind, url))
        await images.remove_stale_images(ctx, kind, actor.user_id, keep=filename)
        return user


async def clear_voice_background(ctx: Ctx, actor: Actor) -> None:
    """Removes the voice-call background (URL and file) and tells everyone."""
    async with ctx.db.transaction("clear_voice_background") as tx:
        await _apply_profile_changes(tx, actor, ProfileChanges(voice_background_url=None))
    await images.remove_images(ctx, actor.user_id, (images.VOICE_BACKGROUND,))


# -- recovery code -------------------------------------------------------------------------


async def regenerate_recovery_code(ctx: Ctx, actor: Actor) -> str:
    """A new recovery code replaces the old one (shown once)."""
    code = codes.new_recovery_code()
    async with ctx.db.transaction("regenerate_recovery_code") as tx:
        if await users_repo.select_user_for_update(tx.conn, actor.user_id) is None:
            raise Unauthorized()
        await users_repo.update_recovery_code_hash(tx.conn, actor.user_id, codes.code_hash(code))
        await record_audit(
            tx.conn, "recovery_code_regenerated", user_id=actor.user_id, meta=actor.meta
        )
    return code


# -- preferences ---------------------------------------------------------------------------


async def get_preferences(ctx: Ctx, actor: Actor) -> dict[str, Any]:
    async with ctx.db.connection() as conn:
        stored = await preferences_repo.select_preferences(conn, actor.user_id)
    return stored if isinstance(stored, dict) else {}


def _check_json_value(value: Any) -> None:
    """No NUL characters (PostgreSQL cannot store them) and at most 32 levels of nesting."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_PREFERENCES_DEPTH:
            raise Invalid(f"preferences must not be nested more than {MAX_PREFERENCES_DEPTH} deep")
        if isinstance(item, str):
            if "\x00" in item:
                raise Invalid("preferences must not contain NUL characters")
        elif isinstance(item, dict):
            for key, child in item.items():
                if "\x00" in key:
                    raise Invalid("preferences must not contain NUL characters")
                pending.append((child, depth + 1))
        elif isinstance(item, list):
            pending.extend((child, depth + 1) for child in item)


async def update_preferences(ctx: Ctx, actor: Actor, preferences: Any) -> dict[str, Any]:
    """Shallow-merges ``preferences`` into the stored object; returns the merged object."""
    if len(msgspec.json.encode(preferences)) > MAX_PREFERENCES_BYTES:
        raise Invalid("preferences too large (max 16 KB)")
    if not isinstance(preferences, dict):
        raise Invalid("preferences must be a JSON object")
    _check_json_value(preferences)
    async with ctx.db.transaction("update_preferences") as tx:
        merged = await preferences_repo.upsert_preferences(tx.conn, actor.user_id, preferences)
        if merged.size > MAX_MERGED_PREFERENCES_BYTES:
            raise Invalid("preferences too large (max 64 KB in total)")
    result: dict[str, Any] = merged.preferences
    return result


# -- deleting the account ------------------------------------------------------------------


async def delete_account(ctx: Ctx, actor: Actor, password: str) -> None:
    """Deletes the caller's account for good, in one transaction (see module docstring)."""
    wrong = "password is incorrect"
    user = await _verify_password(ctx, actor, password, wrong)
    _refuse_instance_owner(user)
    async with ctx.db.transaction("delete_account") as tx:
        user = await _locked_unchanged_user(tx.conn, user, wrong)
        _refuse_instance_owner(user)
        if await accounts_repo.exists_owned_group(tx.conn, user.id):
            raise Invalid(
                "you must transfer or delete all groups you own before deleting your account"
            )
        if await accounts_repo.exists_owned_community(tx.conn, user.id):
            raise Invalid(
                "you must transfer or delete all communities you own before deleting your account"
            )
        await record_audit(
            tx.conn,
            "account_deleted",
            user_id=user.id,
            meta=actor.meta,
            metadata={"username": user.username},
        )
        channels = await memberships_repo.list_channel_ids_of_user(tx.conn, user.id)
        await accounts_repo.delete_orphan_dm_channels(tx.conn, user.id)
        await accounts_repo.delete_user(tx.conn, user.id)
        revoke_access(tx, user.id, channels, "deleted")
    await images.remove_images(ctx, user.id)


def _refuse_instance_owner(user: UserRow) -> None:
    if user.is_owner:
        raise Invalid("the instance owner cannot delete their account")
