"""Registration invites (instance admins): create, list, delete.

Ours beyond the original: ``max_uses``, when given, must be 1..1,000,000 (the original stored
any i32, so 0 or a negative number made an invite that could never be used).
"""

from __future__ import annotations

import secrets
import string
import uuid
from datetime import timedelta

from chatalot.context import Ctx
from chatalot.db.errors import on_unique_violation
from chatalot.errors import Invalid, NotFound
from chatalot.ids import uuid7
from chatalot.repositories import invites as invites_repo
from chatalot.repositories.invites import RegistrationInviteRow
from chatalot.services.actor import Actor
from chatalot.services.admin import require_admin
from chatalot.services.audit import record_audit

CODE_ALPHABET = string.ascii_letters + string.digits
CODE_LENGTH = 12
LIST_LIMIT = 500
MAX_USES = 1_000_000
MAX_EXPIRES_HOURS = 8760


def new_invite_code() -> str:
    """12 characters from [A-Za-z0-9], from the OS's secure random source."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


async def create_invite(
    ctx: Ctx, actor: Actor, *, max_uses: int | None, expires_in_hours: int | None
) -> RegistrationInviteRow:
    now = ctx.clock.now()
    async with ctx.db.transaction("admin_create_invite") as tx:
        await require_admin(tx.conn, actor)
        if max_uses is not None and not 1 <= max_uses <= MAX_USES:
            raise Invalid(f"max_uses must be between 1 and {MAX_USES}")
        if expires_in_hours is not None and not 1 <= expires_in_hours <= MAX_EXPIRES_HOURS:
            raise Invalid(f"expires_in_hours must be between 1 and {MAX_EXPIRES_HOURS}")
        expires_at = now + timedelta(hours=expires_in_hours) if expires_in_hours else None
        with on_unique_violation("invite code collision, please try again"):
            invite = await invites_repo.insert_registration_invite(
                tx.conn,
                invite_id=uuid7(),
                code=new_invite_code(),
                created_by=actor.user_id,
                max_uses=max_uses,
                expires_at=expires_at,
            )
        await record_audit(
            tx.conn,
            "admin_create_invite",
            user_id=actor.user_id,
            meta=actor.meta,
            metadata={
                "invite_id": str(invite.id),
                "max_uses": max_uses,
                "expires_in_hours": expires_in_hours,
            },
        )
    return invite


async def list_invites(ctx: Ctx, actor: Actor) -> list[RegistrationInviteRow]:
    """The newest 500 invites, newest first."""
    async with ctx.db.transaction("admin_list_invites") as tx:
        await require_admin(tx.conn, actor)
        return await invites_repo.list_registration_invites(tx.conn, LIST_LIMIT)


async def delete_invite(ctx: Ctx, actor: Actor, invite_id: uuid.UUID) -> None:
    async with ctx.db.transaction("admin_delete_invite") as tx:
        await require_admin(tx.conn, actor)
        if not await invites_repo.delete_registration_invite(tx.conn, invite_id):
            raise NotFound("invite not found")
        await record_audit(
            tx.conn,
            "admin_delete_invite",
            user_id=actor.user_id,
            meta=actor.meta,
            metadata={"invite_id": str(invite_id)},
        )
