"""/api/channels/{channel_id}/messages, .../messages/{message_id}/history and
.../threads/{message_id}: channel members only (instance staff who are not members: 403, as for
every read of messages). .../pins: members and instance staff may list them (as the channel's
details); pinning and unpinning need a channel moderator or above, instance staff included
(in the world only ``community_owner`` is one: the channel's owner; DM members are plain
``member``s, so only instance staff can pin in a DM)."""

from __future__ import annotations

import uuid

from chatalot.context import Ctx
from tests.api.authz import Case
from tests.api.community_authz import World, gate, signed_in

LIST = "/api/channels/{channel_id:str}/messages"
HISTORY = "/api/channels/{channel_id:str}/messages/{message_id:str}/history"
THREAD = "/api/channels/{channel_id:str}/threads/{message_id:str}"
PINS = "/api/channels/{channel_id:str}/pins"
PIN = "/api/channels/{channel_id:str}/pins/{message_id:str}"

# Messages that ``with_messages`` adds to the world (fixed ids: each case runs in its own
# rolled-back world): a thread root in {channel} with one reply, a message of {channel} that is
# already pinned, and a message of {dm_channel}.
ROOT = "0190f000-0000-7000-8000-000000000001"
PINNED = "0190f000-0000-7000-8000-000000000002"
DM_MESSAGE = "0190f000-0000-7000-8000-000000000003"


async def with_messages(ctx: Ctx, world: World) -> None:
    channel, dm = world.ids["channel"], world.ids["dm_channel"]
    owner, member = world.users["community_owner"].id, world.users["member"].id
    rows = [
        (ROOT, channel, owner, None),
        (str(uuid.uuid4()), channel, member, ROOT),
        (PINNED, channel, owner, None),
        (DM_MESSAGE, dm, member, None),
    ]
    async with ctx.db.transaction("test_matrix_messages") as tx:
        for message_id, channel_id, sender, thread in rows:
            await tx.conn.execute(
                "INSERT INTO messages (id, channel_id, sender_id, ciphertext, nonce, thread_id)"
                " VALUES ($1::text::uuid, $2::text::uuid, $3, '\\x01', '\\x02',"
                " $4::text::uuid)",
                message_id,
                channel_id,
                sender,
                thread,
            )
        await tx.conn.execute(
            "INSERT INTO pinned_messages (message_id, channel_id, pinned_by)"
            " VALUES ($1::text::uuid, $2::text::uuid, $3)",
            PINNED,
            channel,
            owner,
        )


CHANNEL_MEMBERS = signed_in(200, outsider=403, banned=403, instance_admin=403, instance_owner=403)
ONLY_OWNER = {**signed_in(403), "community_owner": 200}
DM_MEMBERS = {**signed_in(403), "member": 200}  # the DM is between member and target
MEMBERS_404 = {r: (404 if s == 200 else s) for r, s in CHANNEL_MEMBERS.items()}


def channel_mods(status: int) -> dict[str, int]:
    """ch-mod+ in {channel} (its owner and the instance staff) get ``status``, everyone else
    403."""
    return signed_in(403, community_owner=status, instance_admin=status, instance_owner=status)


CASES = [
    Case("GET", LIST, "/api/channels/{channel}/messages", CHANNEL_MEMBERS),
    Case("GET", LIST, "/api/channels/{private_channel}/messages", ONLY_OWNER, note="private"),
    Case("GET", LIST, "/api/channels/{dm_channel}/messages", DM_MEMBERS, note="DM"),
    Case("GET", LIST, "/api/channels/{random}/messages", signed_in(403), note="unknown channel"),
    Case("GET", LIST, "/api/channels/bad/messages", signed_in(400), note="bad channel id"),
    Case(
        "GET",
        LIST,
        "/api/channels/{channel}/messages?before={random}&limit=10",
        CHANNEL_MEMBERS,
        note="unknown before: empty page",
    ),
    Case(
        "GET",
        LIST,
        "/api/channels/{channel}/messages?before=nope",
        signed_in(400),
        note="bad before id (checked before membership)",
    ),
    Case(
        "GET",
        LIST,
        "/api/channels/{channel}/messages?limit=-1",
        signed_in(400),
        note="bad limit (checked before membership)",
    ),
    Case(
        "GET",
        HISTORY,
        "/api/channels/{channel}/messages/{random}/history",
        MEMBERS_404,
        note="unknown message: 404 for members",
    ),
    Case(
        "GET",
        HISTORY,
        "/api/channels/{dm_channel}/messages/{random}/history",
        {**signed_in(403), "member": 404},
        note="DM",
    ),
    Case(
        "GET",
        HISTORY,
        "/api/channels/bad/messages/{random}/history",
        signed_in(400),
        note="bad channel id",
    ),
    Case(
        "GET",
        HISTORY,
        "/api/channels/{channel}/messages/bad/history",
        signed_in(400),
        note="bad message id",
    ),
    Case(
        "GET",
        THREAD,
        "/api/channels/{channel}/threads/" + ROOT,
        CHANNEL_MEMBERS,
        setup=with_messages,
    ),
    Case(
        "GET",
        THREAD,
        "/api/channels/{channel}/threads/" + ROOT + "?before={random}&limit=100",
        CHANNEL_MEMBERS,
        note="unknown before: empty page",
        setup=with_messages,
    ),
    Case(
        "GET",
        THREAD,
        "/api/channels/{channel}/threads/{random}",
        MEMBERS_404,
        note="unknown root: 404 for members",
    ),
    Case(
        "GET",
        THREAD,
        "/api/channels/{channel}/threads/" + DM_MESSAGE,
        MEMBERS_404,
        note="root in another channel",
        setup=with_messages,
    ),
    Case(
        "GET",
        THREAD,
        "/api/channels/{dm_channel}/threads/" + DM_MESSAGE,
        DM_MEMBERS,
        note="DM",
        setup=with_messages,
    ),
    Case(
        "GET",
        THREAD,
        "/api/channels/{random}/threads/{random}",
        signed_in(403),
        note="unknown channel",
    ),
    Case("GET", THREAD, "/api/channels/bad/threads/{random}", signed_in(400), note="bad channel"),
    Case("GET", THREAD, "/api/channels/{channel}/threads/bad", signed_in(400), note="bad root"),
    Case(
        "GET",
        THREAD,
        "/api/channels/{channel}/threads/{random}?limit=0",
        signed_in(400),
        note="bad limit (checked before membership)",
    ),
    Case(
        "GET",
        THREAD,
        "/api/channels/{channel}/threads/{random}?before=nope",
        signed_in(400),
        note="bad before id (checked before membership)",
    ),
    Case("GET", PINS, "/api/channels/{channel}/pins", gate(200), setup=with_messages),
    Case(
        "GET",
        PINS,
        "/api/channels/{private_channel}/pins",
        gate(200, at_least="owner"),
        note="private",
    ),
    Case(
        "GET",
        PINS,
        "/api/channels/{dm_channel}/pins",
        signed_in(403, member=200, instance_admin=200, instance_owner=200),
        note="DM",
    ),
    Case(
        "GET",
        PINS,
        "/api/channels/{random}/pins",
        signed_in(403, instance_admin=404, instance_owner=404),
        note="unknown: 403 unless instance staff",
    ),
    Case("GET", PINS, "/api/channels/bad/pins", signed_in(400), note="bad channel id"),
    Case(
        "POST",
        PIN,
        "/api/channels/{channel}/pins/" + ROOT,
        channel_mods(200),
        setup=with_messages,
    ),
    Case(
        "POST",
        PIN,
        "/api/channels/{channel}/pins/{random}",
        channel_mods(404),
        note="unknown message",
    ),
    Case(
        "POST",
        PIN,
        "/api/channels/{channel}/pins/" + DM_MESSAGE,
        channel_mods(400),
        note="message of another channel",
        setup=with_messages,
    ),
    Case(
        "POST",
        PIN,
        "/api/channels/{channel}/pins/" + PINNED,
        channel_mods(409),
        note="already pinned",
        setup=with_messages,
    ),
    Case(
        "POST",
        PIN,
        "/api/channels/{dm_channel}/pins/" + DM_MESSAGE,
        signed_in(403, instance_admin=200, instance_owner=200),
        note="DM: its members are plain members",
        setup=with_messages,
    ),
    Case(
        "POST",
        PIN,
        "/api/channels/{random}/pins/" + ROOT,
        signed_in(403, instance_admin=404, instance_owner=404),
        note="unknown channel: 403 unless instance staff",
        setup=with_messages,
    ),
    Case("POST", PIN, "/api/channels/bad/pins/{random}", signed_in(400), note="bad channel id"),
    Case("POST", PIN, "/api/channels/{channel}/pins/bad", signed_in(400), note="bad message id"),
    Case(
        "DELETE",
        PIN,
        "/api/channels/{channel}/pins/" + PINNED,
        channel_mods(200),
        setup=with_messages,
    ),
    Case(
        "DELETE",
        PIN,
        "/api/channels/{channel}/pins/" + ROOT,
        channel_mods(404),
        note="not pinned",
        setup=with_messages,
    ),
    Case(
        "DELETE",
        PIN,
        "/api/channels/{private_channel}/pins/" + PINNED,
        signed_in(403, community_owner=404, instance_admin=404, instance_owner=404),
        note="a pin of another channel: 404 (the original removed it)",
        setup=with_messages,
    ),
    Case(
        "DELETE",
        PIN,
        "/api/channels/{dm_channel}/pins/" + DM_MESSAGE,
        signed_in(403, instance_admin=404, instance_owner=404),
        note="DM: its members are plain members",
        setup=with_messages,
    ),
    Case("DELETE", PIN, "/api/channels/bad/pins/{random}", signed_in(400), note="bad channel"),
    Case("DELETE", PIN, "/api/channels/{channel}/pins/bad", signed_in(400), note="bad message"),
]
