"""/api/bookmarks: every signed-in user has their own. Adding needs membership of the
message's channel (instance staff who are not members: 403); deleting only one's own (404
otherwise)."""

from __future__ import annotations

from chatalot.context import Ctx
from tests.api.authz import Case
from tests.api.community_authz import World, signed_in
from tests.api.community_authz.messages import DM_MESSAGE, ROOT, with_messages

BOOKMARKS = "/api/bookmarks"
BOOKMARK = "/api/bookmarks/{bookmark_id:str}"

MEMBERS_BOOKMARK = "0190f000-0000-7000-8000-0000000000b1"  # ``member``'s bookmark of ROOT


async def with_bookmark(ctx: Ctx, world: World) -> None:
    await with_messages(ctx, world)
    async with ctx.db.transaction("test_matrix_bookmarks") as tx:
        await tx.conn.execute(
            "INSERT INTO bookmarks (id, user_id, message_id)"
            " VALUES ($1::text::uuid, $2, $3::text::uuid)",
            MEMBERS_BOOKMARK,
            world.users["member"].id,
            ROOT,
        )


CHANNEL_MEMBERS = signed_in(200, outsider=403, banned=403, instance_admin=403, instance_owner=403)

CASES = [
    Case(
        "POST",
        BOOKMARKS,
        BOOKMARKS,
        CHANNEL_MEMBERS,
        body={"message_id": ROOT, "note": None},
        setup=with_messages,
    ),
    Case(
        "POST",
        BOOKMARKS,
        BOOKMARKS,
        {**signed_in(403), "member": 200},
        body={"message_id": DM_MESSAGE},
        note="DM message",
        setup=with_messages,
    ),
    Case(
        "POST",
        BOOKMARKS,
        BOOKMARKS,
        {**CHANNEL_MEMBERS, "member": 409},
        body={"message_id": ROOT},
        note="already bookmarked by member",
        setup=with_bookmark,
    ),
    Case(
        "POST",
        BOOKMARKS,
        BOOKMARKS,
        signed_in(404),
        body={"message_id": "{random}"},
        note="unknown message",
    ),
    Case(
        "POST",
        BOOKMARKS,
        BOOKMARKS,
        signed_in(400),
        body={"message_id": "bad"},
        note="bad message id",
    ),
    Case("GET", BOOKMARKS, BOOKMARKS, signed_in(200), setup=with_bookmark),
    Case("GET", BOOKMARKS, BOOKMARKS + "?offset=-1", signed_in(400), note="negative offset"),
    Case(
        "DELETE",
        BOOKMARK,
        "/api/bookmarks/" + MEMBERS_BOOKMARK,
        signed_in(404, member=200),
        note="only its owner",
        setup=with_bookmark,
    ),
    Case("DELETE", BOOKMARK, "/api/bookmarks/{random}", signed_in(404), note="unknown"),
    Case("DELETE", BOOKMARK, "/api/bookmarks/bad", signed_in(400), note="bad id"),
]
