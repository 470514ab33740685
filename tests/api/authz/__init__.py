"""The authorization matrix: every /api endpoint x {anonymous, user, other, admin, owner,
suspended} -> expected status, one table per area (a module here exporting ``CASES``).

``tests/api/test_authorization_matrix.py`` runs every case for every role and also fails when
the app has an /api route that no case covers, so a new endpoint cannot be forgotten.

Placeholders in ``path`` and in string values of ``body``: {user}, {other}, {admin}, {owner},
{suspended} (those users' ids) and {random} (an id that exists nowhere). "user" is the caller
for role "user"; "other" is a second plain user (for actions aimed at someone else).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ROLES = ("anonymous", "user", "other", "admin", "owner", "suspended")


@dataclass(frozen=True)
class Case:
    method: str
    route: str  # the route template as registered, e.g. "/api/admin/users/{user_id:str}"
    path: str  # the concrete path with placeholders, e.g. "/api/admin/users/{other}"
    expect: dict[str, int]
    body: Any = None  # JSON body (dict/list), or a callable(ids) -> body, or None
    files: dict[str, tuple[str, bytes, str]] | None = None  # multipart uploads
    data: dict[str, str] | None = None  # multipart text fields
    note: str = ""
    setup: Callable[..., Any] | None = field(default=None, compare=False)


def public(status: int) -> dict[str, int]:
    """No authentication involved: every caller gets the same answer."""
    return dict.fromkeys(ROLES, status)


def any_user(status: int) -> dict[str, int]:
    """Any signed-in, non-suspended user."""
    return {**dict.fromkeys(ROLES, status), "anonymous": 401, "suspended": 401}


def admin_only(
    status: int, *, admin: int | None = None, owner: int | None = None
) -> dict[str, int]:
    """Instance admins and the owner; plain users get 403."""
    return {
        "anonymous": 401,
        "user": 403,
        "other": 403,
        "admin": status if admin is None else admin,
        "owner": status if owner is None else owner,
        "suspended": 401,
    }


def owner_only(status: int) -> dict[str, int]:
    return {**admin_only(status), "admin": 403}
