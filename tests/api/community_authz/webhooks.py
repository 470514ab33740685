"""Webhooks: managed by the channel's owner only (the stored role: in the world only
``community_owner`` owns {channel}; community admins and instance staff are not special:
403); executed by anyone holding the token (public); the overview /api/admin/webhooks for
instance staff."""

from __future__ import annotations

from chatalot.context import Ctx
from tests.api.authz import Case
from tests.api.community_authz import World, signed_in

HOOKS = "/api/channels/{channel_id:str}/webhooks"
HOOK = "/api/webhooks/{webhook_id:str}"
EXECUTE = "/api/webhooks/execute/{token:str}"

# The webhook ``with_webhook`` adds to {channel} (fixed: each case runs in its own world).
WEBHOOK = "0190f000-0000-7000-8000-0000000000a1"
TOKEN = "MatrixToken" + "0" * 53

ONLY_OWNER = {**signed_in(403), "community_owner": 200}
EVERYONE = dict.fromkeys(signed_in(200), 200)


async def with_webhook(ctx: Ctx, world: World) -> None:
    async with ctx.db.transaction("test_matrix_webhook") as tx:
        await tx.conn.execute(
            "INSERT INTO webhooks (id, channel_id, name, token, created_by)"
            " VALUES ($1::text::uuid, $2::text::uuid, 'Matrix', $3, $4)",
            WEBHOOK,
            world.ids["channel"],
            TOKEN,
            world.users["community_owner"].id,
        )


CASES = [
    Case("POST", HOOKS, "/api/channels/{channel}/webhooks", ONLY_OWNER, body={"name": "CI"}),
    Case(
        "POST",
        HOOKS,
        "/api/channels/{channel}/webhooks",
        {**ONLY_OWNER, "community_owner": 400},
        body={"name": ""},
        note="a bad name is a 400 for the owner, still a 403 for everyone else",
    ),
    Case(
        "POST",
        HOOKS,
        "/api/channels/{random}/webhooks",
        signed_in(403),
        body={"name": "CI"},
    ),
    Case(
        "POST",
        HOOKS,
        "/api/channels/{private_channel}/webhooks",
        ONLY_OWNER,
        body={"name": "CI"},
        note="the private group's channel: its owner only",
    ),
    Case("POST", HOOKS, "/api/channels/{dm_channel}/webhooks", signed_in(403), body={"name": "CI"}),
    Case("GET", HOOKS, "/api/channels/{channel}/webhooks", ONLY_OWNER),
    Case("GET", HOOKS, "/api/channels/not-a-uuid/webhooks", signed_in(400)),
    Case(
        "PATCH",
        HOOK,
        f"/api/webhooks/{WEBHOOK}",
        ONLY_OWNER,
        body={"active": False},
        setup=with_webhook,
    ),
    Case("PATCH", HOOK, "/api/webhooks/{random}", signed_in(404), body={"active": False}),
    Case("DELETE", HOOK, f"/api/webhooks/{WEBHOOK}", ONLY_OWNER, setup=with_webhook),
    Case("DELETE", HOOK, "/api/webhooks/{random}", signed_in(404)),
    Case(
        "POST",
        EXECUTE,
        f"/api/webhooks/execute/{TOKEN}",
        EVERYONE,
        body={"content": "deployed"},
        setup=with_webhook,
        note="public: the token is the credential",
    ),
    Case(
        "POST",
        EXECUTE,
        "/api/webhooks/execute/" + "N" * 64,
        dict.fromkeys(EVERYONE, 404),
        body={"content": "deployed"},
    ),
    Case(
        "GET",
        "/api/admin/webhooks",
        "/api/admin/webhooks",
        signed_in(403, instance_admin=200, instance_owner=200),
    ),
]
