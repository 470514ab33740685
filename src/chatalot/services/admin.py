"""Who may use the instance-admin API, checked in one place.

The token's ``is_admin``/``is_owner`` claims are only a first filter: every admin service
re-reads the caller's row inside its own transaction and refuses (403) unless the account still
exists, is not suspended and still holds the flag. An admin who is demoted therefore loses the
admin API at once, not when their access token expires.

Also here: the rules for acting on another account, shared by the user-management services.
"""

from __future__ import annotations

from chatalot.db.database import Conn
from chatalot.errors import Forbidden, Invalid
from chatalot.repositories import users as users_repo
from chatalot.repositories.users import UserRow
from chatalot.services.actor import Actor

OWNER_PROTECTED = "cannot act on the instance owner"


def require_admin_claims(actor: Actor) -> None:
    """The first filter only (the token's claims, no database): 403 for plain users. Services
    that must do slow work before their transaction call this first, then require_admin."""
    if not (actor.is_admin or actor.is_owner):
        raise Forbidden()


async def require_admin(conn: Conn, actor: Actor) -> UserRow:
    """The caller's current row if they are (still) an instance admin or owner, else 403."""
    require_admin_claims(actor)
    row = await users_repo.select_user(conn, actor.user_id)
    if row is None or row.suspended_at is not None or not (row.is_admin or row.is_owner):
        raise Forbidden()
    return row


async def require_owner(conn: Conn, actor: Actor) -> UserRow:
    """The caller's current row if they are (still) the instance owner, else 403."""
    if not actor.is_owner:
        raise Forbidden()
    row = await require_admin(conn, actor)
    if not row.is_owner:
        raise Forbidden()
    return row


def refuse_owner_target(target: UserRow) -> None:
    """Nobody changes the instance owner's account through the admin API."""
    if target.is_owner:
        raise Forbidden(OWNER_PROTECTED)


def check_text(value: str, *, field: str, limit: int, message: str) -> str:
    """A free-text field: at most ``limit`` UTF-8 bytes (else Invalid(message)) and no NUL
    characters, which PostgreSQL text cannot hold (else Invalid naming ``field``)."""
    if len(value.encode()) > limit:
        raise Invalid(message)
    if "\x00" in value:
        raise Invalid(f"{field} must not contain NUL characters")
    return value
