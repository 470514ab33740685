"""/api/channels and /api/channels/{id}/...: channel routes and channel membership.

In the world every community member is a channel ``member`` of {channel}; only
``community_owner`` is its ``owner`` (so a community moderator is NOT a channel moderator),
and the instance staff are not members (they act through the instance roles)."""

from __future__ import annotations

import uuid
from typing import Any

from chatalot.context import Ctx
from chatalot.ids import ChannelId
from tests.api.authz import Case
from tests.api.community_authz import World, gate, signed_in
from tests.support.spaces import add_channel_member

CHANNEL = "/api/channels/{channel_id:str}"
MEMBER = "/api/channels/{channel_id:str}/members/{user_id:str}"


async def instance_owner_in_channel(ctx: Ctx, world: World) -> None:
    channel = ChannelId(uuid.UUID(world.ids["channel"]))
    await add_channel_member(ctx, channel, world.users["instance_owner"].id)


async def target_banned(ctx: Ctx, world: World) -> None:
    async with ctx.db.transaction("test_channel_ban") as tx:
        await tx.conn.execute(
            "INSERT INTO channel_bans (channel_id, user_id) VALUES ($1::text::uuid, $2)",
            world.ids["channel"],
            world.users["target"].id,
        )


def _new(**extra: Any) -> dict[str, Any]:
    return {"name": "new", "channel_type": "text", **extra}


CASES = [
    Case("GET", "/api/channels", "/api/channels", signed_in(200)),
    Case("POST", "/api/channels", "/api/channels", signed_in(200), body=_new(), note="standalone"),
    Case(
        "POST",
        "/api/channels",
        "/api/channels",
        gate(200, staff=403),
        body=_new(group_id="{group}"),
        note="in a group: community members only (banned users are not members)",
    ),
    Case(
        "POST",
        "/api/channels",
        "/api/channels",
        signed_in(404),
        body=_new(group_id="{random}"),
        note="unknown group",
    ),
    Case(
        "POST",
        "/api/channels",
        "/api/channels",
        signed_in(400),
        body=_new(channel_type="dm"),
        note="dm is not a creatable type",
    ),
    Case("GET", CHANNEL, "/api/channels/{channel}", gate(200)),
    Case("GET", CHANNEL, "/api/channels/{private_channel}", gate(200, at_least="owner")),
    Case(
        "GET",
        CHANNEL,
        "/api/channels/{dm_channel}",
        signed_in(403, member=200, instance_admin=200, instance_owner=200),
    ),
    Case(
        "GET",
        CHANNEL,
        "/api/channels/{random}",
        signed_in(403, instance_admin=404, instance_owner=404),
        note="unknown: 403 unless instance staff",
    ),
    Case("GET", CHANNEL, "/api/channels/not-a-uuid", signed_in(400), note="malformed id"),
    Case(
        "PATCH",
        CHANNEL,
        "/api/channels/{channel}",
        gate(200, at_least="owner"),
        body={"topic": "t"},
    ),
    Case(
        "PATCH",
        CHANNEL,
        "/api/channels/{channel}",
        gate(400, at_least="owner"),
        body={"slow_mode_seconds": -1},
        note="bad value: 400 for the owner, still 403 for everyone else",
    ),
    Case(
        "PATCH",
        CHANNEL,
        "/api/channels/{random}",
        signed_in(403, instance_admin=404, instance_owner=404),
        body={"name": "x"},
    ),
    Case(
        "POST",
        f"{CHANNEL}/join",
        "/api/channels/{channel}/join",
        gate(200, staff=403),
        note="group channel: community members (instance staff are not)",
    ),
    Case(
        "POST",
        f"{CHANNEL}/join",
        "/api/channels/{private_channel}/join",
        gate(403, community_owner=200),
        note="a private group's channel: only its group's members (the original let any "
        "community member join by id)",
    ),
    Case(
        "POST",
        f"{CHANNEL}/join",
        "/api/channels/{dm_channel}/join",
        signed_in(403),
        note="DMs cannot be joined",
    ),
    Case("POST", f"{CHANNEL}/join", "/api/channels/{random}/join", signed_in(404)),
    Case(
        "POST",
        f"{CHANNEL}/leave",
        "/api/channels/{channel}/leave",
        signed_in(200, community_owner=400),
        note="the channel owner cannot leave; non-members may (no-op)",
    ),
    Case("POST", f"{CHANNEL}/leave", "/api/channels/bad/leave", signed_in(400)),
    Case("GET", f"{CHANNEL}/members", "/api/channels/{channel}/members", gate(200)),
    Case(
        "GET",
        f"{CHANNEL}/members",
        "/api/channels/{private_channel}/members",
        gate(200, at_least="owner"),
    ),
    Case("GET", f"{CHANNEL}/members", "/api/channels/{random}/members", signed_in(404)),
    Case(
        "PATCH",
        f"{MEMBER}/role",
        "/api/channels/{channel}/members/{target}/role",
        gate(200, at_least="owner"),
        body={"role": "moderator"},
    ),
    Case(
        "PATCH",
        f"{MEMBER}/role",
        "/api/channels/{channel}/members/{target}/role",
        gate(400, at_least="owner"),
        body={"role": "owner"},
        note="bad role",
    ),
    Case(
        "PATCH",
        f"{MEMBER}/role",
        "/api/channels/{channel}/members/{me}/role",
        gate(400, at_least="owner"),
        body={"role": "member"},
        note="own role",
    ),
    Case(
        "POST",
        f"{MEMBER}/kick",
        "/api/channels/{channel}/members/{target}/kick",
        gate(200, at_least="owner"),
        note="community moderators are channel members: 403",
    ),
    Case(
        "POST",
        f"{MEMBER}/kick",
        "/api/channels/{channel}/members/{random}/kick",
        signed_in(404),
        note="not a member: 404 before the permission check",
    ),
    Case(
        "POST",
        f"{MEMBER}/kick",
        "/api/channels/{channel}/members/{community_owner}/kick",
        signed_in(403, instance_admin=200, instance_owner=200),
        note="the channel owner: only instance staff",
    ),
    Case(
        "POST",
        f"{MEMBER}/kick",
        "/api/channels/{channel}/members/{instance_owner}/kick",
        signed_in(403),
        note="nobody kicks the instance owner",
        setup=instance_owner_in_channel,
    ),
    Case(
        "POST",
        f"{MEMBER}/ban",
        "/api/channels/{channel}/members/{target}/ban",
        gate(200, at_least="owner"),
        body={"reason": "spam"},
    ),
    Case(
        "POST",
        f"{MEMBER}/ban",
        "/api/channels/{channel}/members/{target}/ban",
        signed_in(400),
        body={"reason": "r" * 501},
        note="reason too long: checked first",
    ),
    Case(
        "POST",
        f"{MEMBER}/unban",
        "/api/channels/{channel}/members/{target}/unban",
        gate(404, at_least="owner"),
        note="no ban",
    ),
    Case(
        "POST",
        f"{MEMBER}/unban",
        "/api/channels/{channel}/members/{target}/unban",
        gate(200, at_least="owner"),
        note="banned target",
        setup=target_banned,
    ),
    Case(
        "POST",
        f"{CHANNEL}/transfer-ownership",
        "/api/channels/{channel}/transfer-ownership",
        gate(200, at_least="owner"),
        body={"new_owner_id": "{target}"},
    ),
    Case(
        "POST",
        f"{CHANNEL}/transfer-ownership",
        "/api/channels/{channel}/transfer-ownership",
        gate(400, at_least="owner"),
        body={"new_owner_id": "{outsider}"},
        note="target not a channel member",
    ),
]
