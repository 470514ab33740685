"""Who receives an event: the ``to=`` of ``tx.emit(event, to=...)``.

Services name the audience; the realtime layer resolves it to sockets on every server process.
Audiences that depend on membership (a community's members) are resolved by the service inside
its transaction, so an event about a deletion still reaches the people who could see the thing.

- ``Everyone``: every live session (profile changes).
- ``Users``: every session of these users (community members, one user).
- ``ChannelSubscribers``: sessions subscribed to the channel (the original's channel broadcast).
- ``ServerOnly``: no client receives it; the realtime layer acts on it (``AccessRevoked``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from chatalot.ids import ChannelId, UserId


@dataclass(frozen=True, slots=True)
class Everyone:
    pass


@dataclass(frozen=True, slots=True)
class Users:
    user_ids: frozenset[UserId]

    @classmethod
    def of(cls, user_ids: Iterable[UserId]) -> Users:
        return cls(frozenset(user_ids))


@dataclass(frozen=True, slots=True)
class ChannelSubscribers:
    """``except_session``: one WebSocket session left out (the one that sent a message gets
    ``message_sent`` instead of its own ``new_message``)."""

    channel_id: ChannelId
    except_session: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class ServerOnly:
    pass


EVERYONE = Everyone()
SERVER_ONLY = ServerOnly()

Audience = Everyone | Users | ChannelSubscribers | ServerOnly


@dataclass(frozen=True, slots=True)
class AccessRevoked:
    """A user lost access to these channels (kick, ban, leave, removal, deletion). Emitted after
    commit with ``to=SERVER_ONLY`` so that every server process drops the user's subscriptions
    to them at once (the original kept delivering until the client unsubscribed).

    ``channel_ids`` lists every channel the user can no longer read; empty when nothing was
    removed (then nothing is emitted)."""

    user_id: UserId
    channel_ids: frozenset[ChannelId]
    reason: str  # "kicked", "banned", "left", "removed", "deleted"
