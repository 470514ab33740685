"""/api/users: search, lookup and blocks (reports are in reports.py)."""

from __future__ import annotations

from typing import Any

from chatalot.context import Ctx
from tests.api.authz import Case, any_user
from tests.support.auth import TestUser


async def _everyone_blocks_other(ctx: Ctx, callers: dict[str, TestUser]) -> None:
    """Every caller except "other" has blocked "other"."""
    async with ctx.db.connection() as conn:
        for name, user in callers.items():
            if name != "other":
                await conn.execute(
                    "INSERT INTO user_blocks (blocker_id, blocked_id) VALUES ($1, $2)",
                    user.id,
                    callers["other"].id,
                )


def _block_other(ids: dict[str, str]) -> dict[str, Any]:
    return {"user_id": ids["other"]}


CASES = [
    Case(
        "GET",
        "/api/users/search",
        "/api/users/search?q=otheruser",
        any_user(200),
    ),
    Case(
        "GET",
        "/api/users/{user_id:str}",
        "/api/users/{other}",
        {**any_user(404), "other": 200, "owner": 200},
        note="no shared community: only the user themselves and the instance owner see them",
    ),
    Case(
        "POST",
        "/api/users/block",
        "/api/users/block",
        {**any_user(200), "other": 400},
        body=_block_other,
        note="blocking yourself is refused",
    ),
    Case(
        "POST",
        "/api/users/unblock/{user_id:str}",
        "/api/users/unblock/{other}",
        {**any_user(200), "other": 404},
        body={},
        setup=_everyone_blocks_other,
        note="everyone but other has a block to remove",
    ),
    Case("GET", "/api/users/blocked", "/api/users/blocked", any_user(200)),
]
