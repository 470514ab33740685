"""`/api/channels/{id}/polls` (create, list), `/api/polls/{id}` (read), `.../vote`,
`.../vote/{option_index}` and `.../close`."""

from __future__ import annotations

from typing import Annotated

from litestar import Response, delete, get, post
from litestar.params import FromPath, JSONBody

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import described_path, errors
from chatalot.api.params import parse_int, parse_uuid
from chatalot.api.responses import empty
from chatalot.ids import ChannelId
from chatalot.protocol.api.polls import (
    INT32_MAX,
    INT32_MIN,
    CreatePollIn,
    PollOut,
    PollVotesOut,
    VoteIn,
)
from chatalot.protocol.time import rfc3339, rfc3339_or_none
from chatalot.services import polls as polls_service
from chatalot.services.polls import PollView


def _poll_out(view: PollView) -> PollOut:
    poll = view.poll
    return PollOut(
        id=str(poll.id),
        channel_id=str(poll.channel_id),
        created_by=str(poll.created_by) if poll.created_by is not None else None,
        question=poll.question,
        options=list(poll.options),
        multi_select=poll.multi_select,
        anonymous=poll.anonymous,
        closed=poll.closed,
        expires_at=rfc3339_or_none(poll.expires_at),
        created_at=rfc3339(poll.created_at),
        votes=[
            PollVotesOut(
                option_index=v.option_index,
                count=v.count,
                voter_ids=None if poll.anonymous else [str(u) for u in v.voter_ids],
            )
            for v in view.votes
        ],
    )


@post("/api/channels/{channel_id:str}/polls", status_code=200, responses=errors(403))
async def post_poll(
    ctx: CtxDep, actor: ActorDep, channel_id: FromPath[str], data: JSONBody[CreatePollIn]
) -> PollOut:
    view = await polls_service.create_poll(
        ctx,
        actor,
        ChannelId(parse_uuid(channel_id, "channel id")),
        question=data.question,
        options=data.options,
        multi_select=data.multi_select,
        anonymous=data.anonymous,
        expires_in_minutes=data.expires_in_minutes,
    )
    return _poll_out(view)


@get("/api/channels/{channel_id:str}/polls", responses=errors(403))
async def list_polls(ctx: CtxDep, actor: ActorDep, channel_id: FromPath[str]) -> list[PollOut]:
    """Every poll of the channel (closed and expired ones too), newest first."""
    views = await polls_service.list_polls(
        ctx, actor, ChannelId(parse_uuid(channel_id, "channel id"))
    )
    return [_poll_out(v) for v in views]


@get("/api/polls/{poll_id:str}", responses=errors(403, 404))
async def get_poll(ctx: CtxDep, actor: ActorDep, poll_id: FromPath[str]) -> PollOut:
    return _poll_out(await polls_service.get_poll(ctx, actor, parse_uuid(poll_id, "poll id")))


@post("/api/polls/{poll_id:str}/vote", status_code=200, responses=errors(403, 404))
async def post_vote(
    ctx: CtxDep, actor: ActorDep, poll_id: FromPath[str], data: JSONBody[VoteIn]
) -> Response[bytes]:
    await polls_service.vote(ctx, actor, parse_uuid(poll_id, "poll id"), data.option_index)
    return empty()


@delete(
    "/api/polls/{poll_id:str}/vote/{option_index:str}",
    status_code=200,
    responses=errors(403, 404),
)
async def delete_vote(
    ctx: CtxDep,
    actor: ActorDep,
    poll_id: FromPath[str],
    option_index: Annotated[
        str,
        described_path(
            "The option whose vote to remove (a 32-bit integer).",
            type="integer",
            minimum=INT32_MIN,
            maximum=INT32_MAX,
        ),
    ],
) -> Response[bytes]:
    poll = parse_uuid(poll_id, "poll id")
    index = parse_int(option_index, "option index", default=0, low=INT32_MIN, high=INT32_MAX)
    await polls_service.remove_vote(ctx, actor, poll, index)
    return empty()


@post("/api/polls/{poll_id:str}/close", status_code=200, responses=errors(403, 404))
async def post_close(ctx: CtxDep, actor: ActorDep, poll_id: FromPath[str]) -> Response[bytes]:
    """The body, if any, is ignored (the web client sends ``{}``)."""
    await polls_service.close_poll(ctx, actor, parse_uuid(poll_id, "poll id"))
    return empty()


HANDLERS = [post_poll, list_polls, get_poll, post_vote, delete_vote, post_close]
