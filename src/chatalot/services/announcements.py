"""Instance announcements (spec rest-api 2.18 and the admin part of 2.19).

Instance admins publish them (``POST /api/admin/announcements``: title 1-200 and body 1-5000
UTF-8 bytes, stored as sent; ``announcement`` to every connected session after commit; audit
``admin_create_announcement``) and list the latest 100. Every user lists the latest 50 they
have not dismissed, newest first, and dismisses them one by one (again: no change).

Unlike the original: dismissing an announcement that does not exist is 404 ``announcement not
found`` (the original's foreign key made it a 500); a title or body of only white space is
refused like an empty one, and control characters are refused (newlines and tabs are allowed
in the body); creating one is written to the audit log.
"""

from __future__ import annotations

import uuid

from chatalot.context import Ctx
from chatalot.errors import Invalid, NotFound
from chatalot.ids import uuid7
from chatalot.protocol import events
from chatalot.protocol.time import rfc3339
from chatalot.repositories import announcements as announcements_repo
from chatalot.repositories.announcements import AnnouncementRow
from chatalot.services.actor import Actor
from chatalot.services.admin import require_admin, require_admin_claims
from chatalot.services.audience import EVERYONE
from chatalot.services.audit import record_audit
from chatalot.services.validation import check_plain_text

MAX_TITLE_BYTES = 200
MAX_BODY_BYTES = 5000
USER_LIST_LIMIT = 50
ADMIN_LIST_LIMIT = 100
AUDIT_CREATED = "admin_create_announcement"


def _check(value: str, field: str, limit: int, *, allow: str = "") -> None:
    message = f"{field} must be 1-{limit} characters"
    if not value.strip() or len(value.encode()) > limit:
        raise Invalid(message)
    check_plain_text(value, field, allow=allow)


def validate_announcement(title: str, body: str) -> None:
    _check(title, "title", MAX_TITLE_BYTES)
    _check(body, "body", MAX_BODY_BYTES, allow="\n\r\t")


async def create_announcement(ctx: Ctx, actor: Actor, *, title: str, body: str) -> AnnouncementRow:
    require_admin_claims(actor)
    validate_announcement(title, body)
    now = ctx.clock.now()
    async with ctx.db.transaction("create_announcement") as tx:
        await require_admin(tx.conn, actor)
        row = await announcements_repo.insert_announcement(
            tx.conn,
            announcement_id=uuid7(),
            title=title,
            body=body,
            created_by=actor.user_id,
            created_at=now,
        )
        await record_audit(
            tx.conn,
            AUDIT_CREATED,
            user_id=actor.user_id,
            meta=actor.meta,
            metadata={"announcement_id": str(row.id), "title": title},
        )
        tx.emit(
            events.Announcement(
                id=str(row.id),
                title=row.title,
                body=row.body,
                created_by=str(actor.user_id),
                created_at=rfc3339(row.created_at),
            ),
            to=EVERYONE,
        )
    return row


async def list_all_announcements(ctx: Ctx, actor: Actor) -> list[AnnouncementRow]:
    """For instance admins: the latest 100, newest first, dismissals ignored."""
    require_admin_claims(actor)
    async with ctx.db.transaction("admin_list_announcements") as tx:
        await require_admin(tx.conn, actor)
        return await announcements_repo.list_announcements(tx.conn, limit=ADMIN_LIST_LIMIT)


async def list_my_announcements(ctx: Ctx, actor: Actor) -> list[AnnouncementRow]:
    """The latest 50 the caller has not dismissed, newest first."""
    async with ctx.db.connection() as conn:
        return await announcements_repo.list_undismissed_announcements(
            conn, actor.user_id, limit=USER_LIST_LIMIT
        )


async def dismiss_announcement(ctx: Ctx, actor: Actor, announcement_id: uuid.UUID) -> None:
    async with ctx.db.transaction("dismiss_announcement") as tx:
        recorded = await announcements_repo.insert_dismissal(
            tx.conn,
            user_id=actor.user_id,
            announcement_id=announcement_id,
            dismissed_at=ctx.clock.now(),
        )
    if recorded is None:
        raise NotFound("announcement not found")
