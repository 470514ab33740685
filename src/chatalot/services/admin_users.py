"""Instance admins managing accounts: list, suspend, unsuspend, delete, grant/revoke admin,
reset a password.

Rules (ours where the original was weaker):
- every action re-checks the caller against the database (services/admin.py);
- nobody acts on the instance owner here (403 ``cannot act on the instance owner``): the
  original let an admin reset the owner's password;
- admins and owners cannot be suspended or deleted until their admin flag is revoked (400, as
  the original); resetting an admin's password needs the owner;
- a suspension, and a deletion, takes effect on every server process at once: the transaction
  sends a ``chatalot_suspension`` notification, and this process marks the user after commit,
  so their access tokens are refused everywhere until they expire (a deleted account's too).
"""

from __future__ import annotations

from dataclasses import dataclass

from chatalot.context import Ctx
from chatalot.db.database import Conn, Tx
from chatalot.errors import Forbidden, Invalid, NotFound
from chatalot.ids import UserId
from chatalot.repositories import admin_users as admin_users_repo
from chatalot.repositories import memberships as memberships_repo
from chatalot.repositories import users as users_repo
from chatalot.repositories.admin_users import AdminUserRow, MembershipRow
from chatalot.repositories.users import UserRow
from chatalot.services.access_revocation import revoke_access
from chatalot.services.actor import Actor
from chatalot.services.admin import (
    check_text,
    refuse_owner_target,
    require_admin,
    require_admin_claims,
    require_owner,
)
from chatalot.services.audit import record_audit
from chatalot.services.sessions import end_user_sessions
from chatalot.services.suspensions import notification_payload
from chatalot.services.validation import validate_password

MAX_SEARCH_BYTES = 256
MAX_SUSPEND_REASON_BYTES = 500


@dataclass(frozen=True, slots=True)
class AdminUserEntry:
    user: AdminUserRow
    groups: list[MembershipRow]
    communities: list[MembershipRow]


async def list_users(
    ctx: Ctx, actor: Actor, *, search: str | None, limit: int, offset: int
) -> list[AdminUserEntry]:
    """A page of accounts (newest first) with their group and community memberships."""
    query = (search or "").strip() or None
    async with ctx.db.transaction("admin_list_users") as tx:
        await require_admin(tx.conn, actor)
        if query is not None:
            check_text(
                query,
                field="search",
                limit=MAX_SEARCH_BYTES,
                message=f"search must be at most {MAX_SEARCH_BYTES} characters",
            )
        users = await admin_users_repo.list_admin_users(
            tx.conn, search=query, limit=limit, offset=offset
        )
        ids = [u.id for u in users]
        groups = await admin_users_repo.list_group_memberships(tx.conn, ids) if ids else []
        communities = await admin_users_repo.list_community_memberships(tx.conn, ids) if ids else []
    groups_by_user: dict[UserId, list[MembershipRow]] = {}
    for row in groups:
        groups_by_user.setdefault(row.user_id, []).append(row)
    communities_by_user: dict[UserId, list[MembershipRow]] = {}
    for row in communities:
        communities_by_user.setdefault(row.user_id, []).append(row)
    return [
        AdminUserEntry(u, groups_by_user.get(u.id, []), communities_by_user.get(u.id, []))
        for u in users
    ]


async def _target(conn: Conn, user_id: UserId) -> UserRow:
    """The target account, locked (SELECT ... FOR UPDATE) until the transaction ends."""
    target = await users_repo.select_user_for_update(conn, user_id)
    if target is None:
        raise NotFound("user not found")
    return target


def _announce_suspension(ctx: Ctx, tx: Tx, user_id: UserId, suspended: bool) -> None:
    """After commit: this process knows at once; other processes get the notification that
    the caller already queued in the transaction."""
    tx.on_commit(lambda: ctx.suspensions.mark(user_id, suspended))


async def suspend_user(ctx: Ctx, actor: Actor, user_id: UserId, reason: str | None) -> None:
    now = ctx.clock.now()
    async with ctx.db.transaction("admin_suspend_user") as tx:
        await require_admin(tx.conn, actor)
        if user_id == actor.user_id:
            raise Invalid("you cannot suspend yourself")
        target = await _target(tx.conn, user_id)
        refuse_owner_target(target)
        if target.is_admin:
            raise Invalid("cannot suspend an admin or owner")
        cleaned = (reason or "").strip() or None
        if cleaned is not None:
            check_text(
                cleaned,
                field="reason",
                limit=MAX_SUSPEND_REASON_BYTES,
                message=f"reason must be at most {MAX_SUSPEND_REASON_BYTES} characters",
            )
        await admin_users_repo.update_user_suspended(
            tx.conn, user_id, suspended_at=now, reason=cleaned
        )
        revoked = await end_user_sessions(ctx, tx, user_id, "suspended")
        await record_audit(
            tx.conn,
            "admin_suspend_user",
            user_id=actor.user_id,
            meta=actor.meta,
            metadata={"target_user_id": str(user_id), "sessions_revoked": revoked},
        )
        await admin_users_repo.notify_suspension(tx.conn, notification_payload(user_id, True))
        _announce_suspension(ctx, tx, user_id, True)


async def unsuspend_user(ctx: Ctx, actor: Actor, user_id: UserId) -> None:
    now = ctx.clock.now()
    async with ctx.db.transaction("admin_unsuspend_user") as tx:
        await require_admin(tx.conn, actor)
        await _target(tx.conn, user_id)
        await admin_users_repo.update_user_unsuspended(tx.conn, user_id, now=now)
        await record_audit(
            tx.conn,
            "admin_unsuspend_user",
            user_id=actor.user_id,
            meta=actor.meta,
            metadata={"target_user_id": str(user_id)},
        )
        await admin_users_repo.notify_suspension(tx.conn, notification_payload(user_id, False))
        _announce_suspension(ctx, tx, user_id, False)


async def delete_user(ctx: Ctx, actor: Actor, user_id: UserId) -> None:
    """Deletes an account in one transaction: its communities and groups go to the instance
    owner (or, on an instance without one, to the acting admin), its DM channels are deleted,
    and its access tokens stop working on every process."""
    async with ctx.db.transaction("admin_delete_user") as tx:
        await require_admin(tx.conn, actor)
        if user_id == actor.user_id:
            raise Invalid("you cannot delete yourself")
        target = await _target(tx.conn, user_id)
        refuse_owner_target(target)
        if target.is_admin:
            raise Invalid("cannot delete an admin user; revoke admin first")
        await record_audit(
            tx.conn,
            "admin_delete_user",
            user_id=actor.user_id,
            meta=actor.meta,
            metadata={"target_user_id": str(user_id), "target_username": target.username},
        )
        heir = await admin_users_repo.select_instance_owner_id(tx.conn) or actor.user_id
        await admin_users_repo.update_communities_owner(tx.conn, from_user=user_id, to_user=heir)
        await admin_users_repo.update_groups_owner(tx.conn, from_user=user_id, to_user=heir)
        channels = await memberships_repo.list_channel_ids_of_user(tx.conn, user_id)
        await admin_users_repo.delete_dm_channels_of_user(tx.conn, user_id)
        await admin_users_repo.delete_user(tx.conn, user_id)
        revoke_access(tx, user_id, channels, "deleted")
        await admin_users_repo.notify_suspension(tx.conn, notification_payload(user_id, True))
        _announce_suspension(ctx, tx, user_id, True)


async def set_admin(ctx: Ctx, actor: Actor, user_id: UserId, is_admin: bool) -> None:
    """Owner only. Takes effect at once for the admin API (which re-checks the database);
    the target's token claims change on their next refresh."""
    now = ctx.clock.now()
    async with ctx.db.transaction("admin_set_admin") as tx:
        await require_owner(tx.conn, actor)
        if user_id == actor.user_id:
            raise Invalid("you cannot change your own admin status")
        target = await _target(tx.conn, user_id)
        refuse_owner_target(target)
        await admin_users_repo.update_user_admin(tx.conn, user_id, is_admin=is_admin, now=now)
        await record_audit(
            tx.conn,
            "admin_grant_admin" if is_admin else "admin_revoke_admin",
            user_id=actor.user_id,
            meta=actor.meta,
            metadata={"target_user_id": str(user_id)},
        )


async def reset_password(ctx: Ctx, actor: Actor, user_id: UserId, new_password: str) -> None:
    """Sets a new password and ends all the target's sessions. Admins may reset plain users'
    passwords; an admin's needs the owner; the owner's cannot be reset here."""
    require_admin_claims(actor)
    if user_id == actor.user_id:
        raise Invalid("you cannot reset your own password here — use account settings")
    validate_password(new_password)
    password_hash = await ctx.passwords.hash(new_password)
    async with ctx.db.transaction("admin_reset_password") as tx:
        caller = await require_admin(tx.conn, actor)
        target = await _target(tx.conn, user_id)
        refuse_owner_target(target)
        if target.is_admin and not caller.is_owner:
            raise Forbidden("only the instance owner can reset an admin's password")
        await users_repo.update_password_hash(tx.conn, user_id, password_hash)
        revoked = await end_user_sessions(ctx, tx, user_id, "admin_password_reset")
        await record_audit(
            tx.conn,
            "admin_reset_password",
            user_id=actor.user_id,
            meta=actor.meta,
            metadata={"target_user_id": str(user_id), "sessions_revoked": revoked},
            raw_user_agent=True,
        )
