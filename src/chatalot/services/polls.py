"""Polls (spec rest-api 2.14): creating and listing a channel's polls, reading one, voting,
removing a vote, closing.

Who: channel members (the stored membership; instance staff who are not members get 403, as for
every read of a channel's messages). Closing: the poll's creator (even after leaving the
channel) or the channel's stored owner (instance flags are not considered, as in the original).

Checks in the original's order, with its messages. Creating: membership (403), then question
(trimmed, 1-500 bytes), number of options (2-10), each option (trimmed, 1-200 bytes),
``expires_in_minutes`` (1-10080). Voting and removing a vote: the poll exists (404), is not
closed (400 ``poll is closed``), has not expired (400 ``poll has expired``), the caller is a
member of its channel (403), then, for a vote, the option exists (400 ``invalid option
index``). Reading one: 404, then 403.

Votes of one user on one poll are serialised (a transaction-scoped lock on poll + user), so a
single-select poll never holds two votes of one user, however many requests race; the poll row
is share-locked while voting, so a vote never lands after the poll was closed.

Events go to the channel's subscribers after commit; ``voter_id`` is null for anonymous polls,
and PollResponse never shows an anonymous poll's voters.

Unlike the original (which sent events for changes that did not happen, so that clients
counting votes from the events drifted): voting again for the option one already holds sends
nothing and changes nothing (also on single-select polls), and removing a vote one does not hold
sends no ``poll_vote_removed``. Question and options refuse control and invisible formatting
characters (the question may hold line breaks and tabs).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from chatalot.context import Ctx
from chatalot.db.database import Conn
from chatalot.errors import Forbidden, Invalid, NotFound
from chatalot.ids import ChannelId, UserId, uuid7
from chatalot.protocol import events
from chatalot.repositories import channels as channels_repo
from chatalot.repositories import polls as polls_repo
from chatalot.repositories.polls import PollRow
from chatalot.services.actor import Actor
from chatalot.services.audience import ChannelSubscribers
from chatalot.services.validation import check_plain_text, check_size

QUESTION_MESSAGE = "question must be 1-500 characters"
OPTIONS_MESSAGE = "polls must have 2-10 options"
OPTION_MESSAGE = "each option must be 1-200 characters"
EXPIRY_MESSAGE = "expires_in_minutes must be 1-10080"
MAX_QUESTION = 500
MAX_OPTION = 200
MIN_OPTIONS, MAX_OPTIONS = 2, 10
MAX_EXPIRY_MINUTES = 10_080


@dataclass(frozen=True, slots=True)
class OptionTally:
    option_index: int
    count: int
    voter_ids: list[UserId]  # empty for anonymous polls


@dataclass(frozen=True, slots=True)
class PollView:
    """A poll with one tally per option, in option order."""

    poll: PollRow
    votes: list[OptionTally]


def validate_question(question: str) -> str:
    value = question.strip()
    if not value:
        raise Invalid(QUESTION_MESSAGE)
    check_size(value, "question", MAX_QUESTION, QUESTION_MESSAGE)
    check_plain_text(value, "question", allow="\r\n\t")
    return value


def validate_options(options: list[str]) -> list[str]:
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        raise Invalid(OPTIONS_MESSAGE)
    cleaned = []
    for option in options:
        value = option.strip()
        if not value:
            raise Invalid(OPTION_MESSAGE)
        check_size(value, "option", MAX_OPTION, OPTION_MESSAGE)
        check_plain_text(value, "option")
        cleaned.append(value)
    return cleaned


def validate_expiry(minutes: int | None) -> int | None:
    if minutes is not None and not 1 <= minutes <= MAX_EXPIRY_MINUTES:
        raise Invalid(EXPIRY_MESSAGE)
    return minutes


async def _require_member(conn: Conn, actor: Actor, channel_id: ChannelId) -> None:
    if await channels_repo.select_channel_role(conn, channel_id, actor.user_id) is None:
        raise Forbidden()


async def _views(conn: Conn, polls: list[PollRow]) -> list[PollView]:
    if not polls:
        return []
    tallies = await polls_repo.list_option_votes(conn, [p.id for p in polls])
    by_key = {(t.poll_id, t.option_index): t for t in tallies}
    views = []
    for poll in polls:
        votes = []
        for index in range(len(poll.options)):
            tally = by_key.get((poll.id, index))
            count = tally.count if tally else 0
            voters = tally.voter_ids if tally and not poll.anonymous else []
            votes.append(OptionTally(index, count, voters))
        views.append(PollView(poll, votes))
    return views


async def create_poll(
    ctx: Ctx,
    actor: Actor,
    channel_id: ChannelId,
    *,
    question: str,
    options: list[str],
    multi_select: bool,
    anonymous: bool,
    expires_in_minutes: int | None,
) -> PollView:
    now = ctx.clock.now()
    async with ctx.db.transaction("create_poll") as tx:
        await _require_member(tx.conn, actor, channel_id)
        question = validate_question(question)
        options = validate_options(options)
        minutes = validate_expiry(expires_in_minutes)
        poll = await polls_repo.insert_poll(
            tx.conn,
            poll_id=uuid7(),
            channel_id=channel_id,
            created_by=actor.user_id,
            question=question,
            options=options,
            multi_select=multi_select,
            anonymous=anonymous,
            expires_at=now + timedelta(minutes=minutes) if minutes is not None else None,
            created_at=now,
        )
        tx.emit(
            events.PollCreated(
                poll_id=str(poll.id),
                channel_id=str(channel_id),
                created_by=str(actor.user_id),
                question=poll.question,
            ),
            to=ChannelSubscribers(channel_id),
        )
    return PollView(poll, [OptionTally(i, 0, []) for i in range(len(options))])


async def list_polls(ctx: Ctx, actor: Actor, channel_id: ChannelId) -> list[PollView]:
    """Every poll of the channel (expired and closed ones included), newest first."""
    async with ctx.db.connection() as conn:
        await _require_member(conn, actor, channel_id)
        return await _views(conn, await polls_repo.list_channel_polls(conn, channel_id))


async def get_poll(ctx: Ctx, actor: Actor, poll_id: uuid.UUID) -> PollView:
    async with ctx.db.connection() as conn:
        poll = await polls_repo.select_poll(conn, poll_id)
        if poll is None:
            raise NotFound("poll not found")
        await _require_member(conn, actor, poll.channel_id)
        [view] = await _views(conn, [poll])
        return view


async def _open_poll_for_voter(ctx: Ctx, conn: Conn, actor: Actor, poll_id: uuid.UUID) -> PollRow:
    """The poll, share-locked, when the caller may vote on it now (the original's checks, in
    its order); then the caller's votes on it are locked for this transaction."""
    poll = await polls_repo.select_poll(conn, poll_id, lock="share")
    if poll is None:
        raise NotFound("poll not found")
    if poll.closed:
        raise Invalid("poll is closed")
    if poll.expires_at is not None and poll.expires_at <= ctx.clock.now():
        raise Invalid("poll has expired")
    await _require_member(conn, actor, poll.channel_id)
    return poll


def _voter(poll: PollRow, actor: Actor) -> str | None:
    return None if poll.anonymous else str(actor.user_id)


async def vote(ctx: Ctx, actor: Actor, poll_id: uuid.UUID, option_index: int) -> None:
    """Multi-select: adds the vote. Single-select: the vote replaces the caller's other vote(s)
    (``poll_vote_removed`` for each, then ``poll_voted``). Voting again for an option already
    held changes nothing and sends nothing."""
    now = ctx.clock.now()
    async with ctx.db.transaction("poll_vote") as tx:
        conn = tx.conn
        poll = await _open_poll_for_voter(ctx, conn, actor, poll_id)
        if not 0 <= option_index < len(poll.options):
            raise Invalid("invalid option index")
        await polls_repo.lock_voter(conn, poll.id, actor.user_id)
        audience = ChannelSubscribers(poll.channel_id)
        removed: list[int] = []
        if not poll.multi_select:
            held = await polls_repo.list_voter_options(conn, poll.id, actor.user_id)
            others = [i for i in held if i != option_index]
            if others:
                removed = await polls_repo.delete_votes(conn, poll.id, actor.user_id, others)
        added = await polls_repo.insert_vote(
            conn,
            vote_id=uuid7(),
            poll_id=poll.id,
            user_id=actor.user_id,
            option_index=option_index,
            created_at=now,
        )
        voter = _voter(poll, actor)
        for index in removed:
            tx.emit(
                events.PollVoteRemoved(
                    poll_id=str(poll.id),
                    channel_id=str(poll.channel_id),
                    option_index=index,
                    voter_id=voter,
                ),
                to=audience,
            )
        if added:
            tx.emit(
                events.PollVoted(
                    poll_id=str(poll.id),
                    channel_id=str(poll.channel_id),
                    option_index=option_index,
                    voter_id=voter,
                ),
                to=audience,
            )


async def remove_vote(ctx: Ctx, actor: Actor, poll_id: uuid.UUID, option_index: int) -> None:
    """No range check (as in the original): removing a vote one does not hold answers 200 and
    sends nothing."""
    async with ctx.db.transaction("poll_remove_vote") as tx:
        poll = await _open_poll_for_voter(ctx, tx.conn, actor, poll_id)
        await polls_repo.lock_voter(tx.conn, poll.id, actor.user_id)
        removed = await polls_repo.delete_votes(tx.conn, poll.id, actor.user_id, [option_index])
        if removed:
            tx.emit(
                events.PollVoteRemoved(
                    poll_id=str(poll.id),
                    channel_id=str(poll.channel_id),
                    option_index=option_index,
                    voter_id=_voter(poll, actor),
                ),
                to=ChannelSubscribers(poll.channel_id),
            )


async def close_poll(ctx: Ctx, actor: Actor, poll_id: uuid.UUID) -> None:
    """Idempotent; ``poll_closed`` is sent every time (as in the original)."""
    async with ctx.db.transaction("poll_close") as tx:
        poll = await polls_repo.select_poll(tx.conn, poll_id, lock="update")
        if poll is None:
            raise NotFound("poll not found")
        if poll.created_by != actor.user_id:
            role = await channels_repo.select_channel_role(tx.conn, poll.channel_id, actor.user_id)
            if role != "owner":
                raise Forbidden()
        await polls_repo.update_poll_closed(tx.conn, poll.id)
        tx.emit(
            events.PollClosed(poll_id=str(poll.id), channel_id=str(poll.channel_id)),
            to=ChannelSubscribers(poll.channel_id),
        )
