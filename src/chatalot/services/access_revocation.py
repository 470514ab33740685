"""Emit ``AccessRevoked`` for users removed from channels (after commit, to every server
process): the one way services report lost access, so the realtime layer can drop those
subscriptions at once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from chatalot.db.database import Tx
from chatalot.ids import ChannelId, UserId
from chatalot.services.audience import SERVER_ONLY, AccessRevoked


def revoke_access(tx: Tx, user_id: UserId, channel_ids: Iterable[ChannelId], reason: str) -> None:
    channels = frozenset(channel_ids)
    if channels:
        tx.emit(AccessRevoked(user_id, channels, reason), to=SERVER_ONLY)


def revoke_access_pairs(tx: Tx, pairs: Iterable[tuple[UserId, ChannelId]], reason: str) -> None:
    """``pairs``: (user, channel) memberships that are gone (e.g. a group was deleted)."""
    by_user: dict[UserId, set[ChannelId]] = defaultdict(set)
    for user_id, channel_id in pairs:
        by_user[user_id].add(channel_id)
    for user_id, channels in by_user.items():
        revoke_access(tx, user_id, channels, reason)
