"""The authorization matrix of communities, groups, channels and DMs: every endpoint x
{anonymous, outsider, member, moderator, community admin, community owner, instance admin,
instance owner, banned, timed-out} -> expected status, one table per area (a module here
exporting ``CASES`` of ``tests.api.authz.Case``).

``tests/api/test_community_matrix.py`` builds the world below for every case and runs it for
every role; ``tests/api/test_authorization_matrix.py`` fails when an /api route has no case in
either matrix.

The world (``build_world``): community C owned by ``community_owner``, with ``community_admin``
(admin), ``moderator``, ``member``, ``timed_out`` (member, timed out in the channel) and
``target`` (a plain member, the one actions are aimed at) as members; ``banned`` is banned from
it; ``outsider`` and the instance admin and owner are not members. C has a public group G
(owned by ``community_owner``, every member in it) with a text channel (every member in it) and
a private group PG with its own channel (only ``community_owner``). There are a community invite
of C and a group invite of G; ``member`` and ``target`` share a DM channel.

Placeholders in paths and string values of bodies: {community}, {group}, {channel},
{private_group}, {private_channel}, {dm_channel}, {community_invite_id},
{community_invite_code}, {group_invite_id}, {group_invite_code}, {random} (an id that exists
nowhere), {me} (the caller's own id; {random} for anonymous), and every user's id by role name
({member}, {target}, {moderator}, {community_owner}, ...).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from chatalot.context import Ctx
from tests.support.auth import TestUser, make_user
from tests.support.spaces import (
    add_channel_member,
    add_community_member,
    add_group_member,
    ban_from_community,
    make_channel,
    make_community,
    make_community_invite,
    make_group,
    make_group_invite,
    time_out,
)

ROLES = (
    "anonymous",
    "outsider",
    "member",
    "moderator",
    "community_admin",
    "community_owner",
    "instance_admin",
    "instance_owner",
    "banned",
    "timed_out",
)

# The community role each member role holds (rank order).
_RANK = {"member": 0, "timed_out": 0, "moderator": 1, "community_admin": 2, "community_owner": 3}
_REQUIRED = {"member": 0, "moderator": 1, "admin": 2, "owner": 3}


def gate(
    status: int,
    *,
    at_least: str = "member",
    denied: int = 403,
    staff: int | None = None,
    **overrides: int,
) -> dict[str, int]:
    """A /api/communities/{cid}/... route: members whose community role is at least
    ``at_least`` (member, moderator, admin, owner) get ``status``, lower members ``denied``;
    outsiders and banned users 403 (the gate); instance staff ``staff`` (default ``status``).
    ``overrides`` replace single roles."""
    required = _REQUIRED[at_least]
    expect = {"anonymous": 401, "outsider": 403, "banned": 403}
    for role, rank in _RANK.items():
        expect[role] = status if rank >= required else denied
    expect["instance_admin"] = status if staff is None else staff
    expect["instance_owner"] = status if staff is None else staff
    expect.update(overrides)
    return expect


def signed_in(status: int, **overrides: int) -> dict[str, int]:
    """Any signed-in user gets ``status`` (anonymous 401); ``overrides`` replace single
    roles."""
    return {**dict.fromkeys(ROLES, status), "anonymous": 401, **overrides}


@dataclass
class World:
    users: dict[str, TestUser]
    ids: dict[str, str]


async def build_world(ctx: Ctx) -> World:
    users = {
        "community_owner": await make_user(ctx, "cowner"),
        "community_admin": await make_user(ctx, "cadmin"),
        "moderator": await make_user(ctx, "cmod"),
        "member": await make_user(ctx, "cmember"),
        "timed_out": await make_user(ctx, "ctimedout"),
        "target": await make_user(ctx, "ctarget"),
        "outsider": await make_user(ctx, "coutsider"),
        "banned": await make_user(ctx, "cbanned"),
        "instance_admin": await make_user(ctx, "iadmin", is_admin=True),
        "instance_owner": await make_user(ctx, "iowner", is_admin=True, is_owner=True),
    }
    owner = users["community_owner"].id
    community = await make_community(ctx, owner, name="Matrix")
    roles = {
        "community_admin": "admin",
        "moderator": "moderator",
        "member": "member",
        "timed_out": "member",
        "target": "member",
    }
    for name, role in roles.items():
        await add_community_member(ctx, community, users[name].id, role)
    await ban_from_community(ctx, community, users["banned"].id, by=owner)

    group = await make_group(ctx, community, owner, name="Public")
    channel = await make_channel(ctx, group, owner)
    for name in roles:
        await add_group_member(ctx, group, users[name].id)
        await add_channel_member(ctx, channel, users[name].id)
    await time_out(ctx, channel, users["timed_out"].id, by=owner)

    private_group = await make_group(
        ctx, community, owner, name="Private", visibility="private", discoverable=False
    )
    private_channel = await make_channel(ctx, private_group, owner)

    dm_channel = await make_channel(ctx, None, None, name=None, channel_type="dm")
    a, b = sorted([users["member"].id, users["target"].id])
    await add_channel_member(ctx, dm_channel, a)
    await add_channel_member(ctx, dm_channel, b)
    async with ctx.db.transaction("test_dm_pair") as tx:
        await tx.conn.execute(
            "INSERT INTO dm_pairs (user_a, user_b, channel_id) VALUES ($1, $2, $3)",
            a,
            b,
            dm_channel,
        )

    community_invite_id, community_invite_code = await make_community_invite(ctx, community, owner)
    group_invite_id, group_invite_code = await make_group_invite(ctx, group, owner)
    ids = {name: str(user.id) for name, user in users.items()} | {
        "community": str(community),
        "group": str(group),
        "channel": str(channel),
        "private_group": str(private_group),
        "private_channel": str(private_channel),
        "dm_channel": str(dm_channel),
        "community_invite_id": community_invite_id,
        "community_invite_code": community_invite_code,
        "group_invite_id": group_invite_id,
        "group_invite_code": group_invite_code,
        "random": str(uuid.uuid4()),
    }
    return World(users, ids)
