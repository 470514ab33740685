"""Community invite shapes (spec rest-api 2.5). The invite itself is ``CommunityInviteOut``
(protocol/api/communities.py)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from chatalot.protocol.api.constraints import documented


class CreateCommunityInviteIn(msgspec.Struct):
    max_uses: Annotated[int, documented(minimum=1, maximum=2_147_483_647)] | None = None
    expires_in_hours: Annotated[int, documented(minimum=1, maximum=8760)] | None = None


class CommunityInviteInfoOut(msgspec.Struct):
    """``GET /api/community-invites/{code}``: a community that is not discoverable shows as
    ``Private Community`` with no description."""

    community_name: str
    community_description: str | None
    member_count: int
    code: str


class AcceptCommunityInviteOut(msgspec.Struct):
    community_id: str
    community_name: str
