"""/api/channels/{channel_id}/polls and /api/polls/...: channel members only (instance staff
who are not members: 403, as for every read of a channel's messages). Closing: the poll's
creator or the channel's stored owner (instance flags are not considered, as in the original;
in the world the channel's owner is ``community_owner``)."""

from __future__ import annotations

from chatalot.context import Ctx
from tests.api.authz import Case
from tests.api.community_authz import World, signed_in

CHANNEL_POLLS = "/api/channels/{channel_id:str}/polls"
POLL = "/api/polls/{poll_id:str}"
VOTE = "/api/polls/{poll_id:str}/vote"
UNVOTE = "/api/polls/{poll_id:str}/vote/{option_index:str}"
CLOSE = "/api/polls/{poll_id:str}/close"

# Polls that ``with_polls`` adds (fixed ids: each case runs in its own rolled-back world): an
# open poll of {channel} created by ``member`` (``target`` voted for option 0), a closed one,
# and one in {dm_channel}.
OPEN = "0190f000-0000-7000-8000-0000000000a1"
CLOSED = "0190f000-0000-7000-8000-0000000000a2"
IN_DM = "0190f000-0000-7000-8000-0000000000a3"


async def with_polls(ctx: Ctx, world: World) -> None:
    channel, dm = world.ids["channel"], world.ids["dm_channel"]
    member = world.users["member"].id
    rows = [(OPEN, channel, False), (CLOSED, channel, True), (IN_DM, dm, False)]
    async with ctx.db.transaction("test_matrix_polls") as tx:
        for poll_id, channel_id, closed in rows:
            await tx.conn.execute(
                "INSERT INTO polls (id, channel_id, created_by, question, options, closed)"
                " VALUES ($1::text::uuid, $2::text::uuid, $3, 'Q?', '[\"a\", \"b\"]', $4)",
                poll_id,
                channel_id,
                member,
                closed,
            )
        await tx.conn.execute(
            "INSERT INTO poll_votes (id, poll_id, user_id, option_index)"
            " VALUES (gen_random_uuid(), $1::text::uuid, $2, 0)",
            OPEN,
            world.users["target"].id,
        )


CHANNEL_MEMBERS = signed_in(200, outsider=403, banned=403, instance_admin=403, instance_owner=403)
ONLY_OWNER = {**signed_in(403), "community_owner": 200}
DM_MEMBERS = {**signed_in(403), "member": 200}
BODY = {"question": "Lunch?", "options": ["Pizza", "Sushi"]}

CASES = [
    Case("POST", CHANNEL_POLLS, "/api/channels/{channel}/polls", CHANNEL_MEMBERS, body=BODY),
    Case(
        "POST",
        CHANNEL_POLLS,
        "/api/channels/{channel}/polls",
        {**CHANNEL_MEMBERS, **{r: 400 for r, s in CHANNEL_MEMBERS.items() if s == 200}},
        body={"question": "Lunch?", "options": ["only one"]},
        note="bad body: 400 for members, 403 for the others (membership first)",
    ),
    Case(
        "POST",
        CHANNEL_POLLS,
        "/api/channels/{private_channel}/polls",
        ONLY_OWNER,
        body=BODY,
        note="private",
    ),
    Case(
        "POST", CHANNEL_POLLS, "/api/channels/{dm_channel}/polls", DM_MEMBERS, body=BODY, note="DM"
    ),
    Case(
        "POST",
        CHANNEL_POLLS,
        "/api/channels/{random}/polls",
        signed_in(403),
        body=BODY,
        note="unknown channel",
    ),
    Case(
        "POST", CHANNEL_POLLS, "/api/channels/bad/polls", signed_in(400), body=BODY, note="bad id"
    ),
    Case("GET", CHANNEL_POLLS, "/api/channels/{channel}/polls", CHANNEL_MEMBERS, setup=with_polls),
    Case(
        "GET",
        CHANNEL_POLLS,
        "/api/channels/{private_channel}/polls",
        ONLY_OWNER,
        note="private",
    ),
    Case("GET", CHANNEL_POLLS, "/api/channels/{dm_channel}/polls", DM_MEMBERS, note="DM"),
    Case("GET", CHANNEL_POLLS, "/api/channels/{random}/polls", signed_in(403), note="unknown"),
    Case("GET", CHANNEL_POLLS, "/api/channels/bad/polls", signed_in(400), note="bad id"),
    Case("GET", POLL, "/api/polls/" + OPEN, CHANNEL_MEMBERS, setup=with_polls),
    Case("GET", POLL, "/api/polls/" + IN_DM, DM_MEMBERS, note="DM", setup=with_polls),
    Case("GET", POLL, "/api/polls/{random}", signed_in(404), note="unknown: 404 first"),
    Case("GET", POLL, "/api/polls/bad", signed_in(400), note="bad id"),
    Case(
        "POST",
        VOTE,
        "/api/polls/" + OPEN + "/vote",
        CHANNEL_MEMBERS,
        body={"option_index": 1},
        setup=with_polls,
    ),
    Case(
        "POST",
        VOTE,
        "/api/polls/" + OPEN + "/vote",
        {r: (400 if s == 200 else s) for r, s in CHANNEL_MEMBERS.items()},
        body={"option_index": 2},
        note="option out of range (after membership)",
        setup=with_polls,
    ),
    Case(
        "POST",
        VOTE,
        "/api/polls/" + CLOSED + "/vote",
        signed_in(400),
        body={"option_index": 0},
        note="closed (before membership, as in the original)",
        setup=with_polls,
    ),
    Case(
        "POST",
        VOTE,
        "/api/polls/" + IN_DM + "/vote",
        DM_MEMBERS,
        body={"option_index": 0},
        note="DM",
        setup=with_polls,
    ),
    Case(
        "POST",
        VOTE,
        "/api/polls/{random}/vote",
        signed_in(404),
        body={"option_index": 0},
        note="unknown",
    ),
    Case(
        "POST", VOTE, "/api/polls/bad/vote", signed_in(400), body={"option_index": 0}, note="bad id"
    ),
    Case("DELETE", UNVOTE, "/api/polls/" + OPEN + "/vote/0", CHANNEL_MEMBERS, setup=with_polls),
    Case(
        "DELETE",
        UNVOTE,
        "/api/polls/" + CLOSED + "/vote/0",
        signed_in(400),
        note="closed",
        setup=with_polls,
    ),
    Case("DELETE", UNVOTE, "/api/polls/{random}/vote/0", signed_in(404), note="unknown"),
    Case("DELETE", UNVOTE, "/api/polls/bad/vote/0", signed_in(400), note="bad poll id"),
    Case(
        "DELETE",
        UNVOTE,
        "/api/polls/" + OPEN + "/vote/one",
        signed_in(400),
        note="bad index",
        setup=with_polls,
    ),
    Case(
        "POST",
        CLOSE,
        "/api/polls/" + OPEN + "/close",
        {**signed_in(403), "member": 200, "community_owner": 200},
        note="the creator and the channel's owner",
        setup=with_polls,
    ),
    Case(
        "POST",
        CLOSE,
        "/api/polls/" + IN_DM + "/close",
        {**signed_in(403), "member": 200},
        note="DM: only the creator",
        setup=with_polls,
    ),
    Case("POST", CLOSE, "/api/polls/{random}/close", signed_in(404), note="unknown"),
    Case("POST", CLOSE, "/api/polls/bad/close", signed_in(400), note="bad id"),
]
