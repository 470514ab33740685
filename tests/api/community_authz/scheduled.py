"""/api/messages/schedule (members of the channel: instance staff who are not members 403, as
for sending; a timeout is checked at delivery, not here), /api/messages/scheduled (any user,
their own) and /api/messages/scheduled/{id} (the caller's own; anyone else's is 404)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chatalot.context import Ctx
from tests.api.authz import Case
from tests.api.community_authz import World, signed_in

SCHEDULE = "/api/messages/schedule"
LIST = "/api/messages/scheduled"
ONE = "/api/messages/scheduled/{scheduled_id:str}"

# The scheduled message of ``member`` that ``with_scheduled`` adds (fixed id: each case runs in
# its own rolled-back world).
MEMBERS_ROW = "0190f000-0000-7000-8000-0000000000a1"


async def with_scheduled(ctx: Ctx, world: World) -> None:
    async with ctx.db.transaction("test_matrix_scheduled") as tx:
        await tx.conn.execute(
            "INSERT INTO scheduled_messages (id, channel_id, user_id, ciphertext, nonce,"
            " scheduled_for) VALUES ($1::text::uuid, $2::text::uuid, $3, '[1]', '[2]', $4)",
            MEMBERS_ROW,
            world.ids["channel"],
            world.users["member"].id,
            ctx.clock.now() + timedelta(hours=1),
        )


def schedule_body(channel: str, *, scheduled_for: str | None = None) -> Any:
    def build(ids: dict[str, str]) -> dict[str, Any]:
        later = datetime.now(UTC) + timedelta(hours=1)
        return {
            "channel_id": ids.get(channel, channel),
            "ciphertext": "[104,105]",
            "nonce": "[1,2,3]",
            "scheduled_for": scheduled_for or later.isoformat(),
        }

    return build


CHANNEL_MEMBERS = signed_in(200, outsider=403, banned=403, instance_admin=403, instance_owner=403)
MEMBERS_400 = {r: (400 if s == 200 else s) for r, s in CHANNEL_MEMBERS.items()}

CASES = [
    Case("POST", SCHEDULE, SCHEDULE, CHANNEL_MEMBERS, body=schedule_body("channel")),
    Case(
        "POST",
        SCHEDULE,
        SCHEDULE,
        {**signed_in(403), "community_owner": 200},
        body=schedule_body("private_channel"),
        note="private",
    ),
    Case(
        "POST",
        SCHEDULE,
        SCHEDULE,
        {**signed_in(403), "member": 200},
        body=schedule_body("dm_channel"),
        note="DM",
    ),
    Case(
        "POST",
        SCHEDULE,
        SCHEDULE,
        signed_in(403),
        body=schedule_body("random"),
        note="unknown channel",
    ),
    Case(
        "POST",
        SCHEDULE,
        SCHEDULE,
        signed_in(400),
        body=schedule_body("bad"),
        note="bad channel id",
    ),
    Case(
        "POST",
        SCHEDULE,
        SCHEDULE,
        MEMBERS_400,
        body=schedule_body("channel", scheduled_for="2020-01-01T00:00:00Z"),
        note="in the past (checked after membership)",
    ),
    Case("GET", LIST, LIST, signed_in(200)),
    Case("GET", LIST, LIST, signed_in(200), note="with a row of member", setup=with_scheduled),
    Case(
        "DELETE",
        ONE,
        f"{LIST}/{MEMBERS_ROW}",
        {**signed_in(404), "member": 200},
        note="member's own",
        setup=with_scheduled,
    ),
    Case("DELETE", ONE, f"{LIST}/{{random}}", signed_in(404), note="unknown"),
    Case("DELETE", ONE, f"{LIST}/bad", signed_in(400), note="bad id"),
]
