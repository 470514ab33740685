"""What a WebSocket session may subscribe to: the channels the user is a member of, checked at
subscribe time (access removed later is dropped through ``AccessRevoked``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from chatalot.context import Ctx
from chatalot.ids import ChannelId, UserId
from chatalot.repositories import channels as channels_repo


async def member_channel_ids(
    ctx: Ctx, user_id: uuid.UUID, channel_ids: Sequence[uuid.UUID]
) -> set[ChannelId]:
    async with ctx.db.connection() as conn:
        return await channels_repo.select_member_channel_ids(
            conn, UserId(user_id), [ChannelId(c) for c in channel_ids]
        )
