"""Bulk seeding of a large, realistic instance for bench/communities.py (COPY, seconds).

The shape (``Shape``; the full size by default, ``Shape.quick()`` for a smoke run):

- users ``bench00001`` ... (password ``BENCH_PASSWORD``, one precomputed Argon2id hash reused);
- communities: community 0 is the big one (``big_members`` members); the others form a long
  tail (size ~ ``tail_scale / rank``, at least 3); every user is in at most 40 communities, many
  in none. Each community's first member is its owner, a few are admins and moderators;
- per community ``groups_per_community`` groups, the last one private (only its owner), each
  with ``channels_per_group`` channels (the last one voice, the others text). As the server
  would have it, every community member is in the public groups and their channels;
- the heavy user (``HEAVY``) is in 40 communities including the big one; the light user
  (``LIGHT``) is in exactly one small community;
- DMs: the heavy user has ``heavy_dms`` DM partners; ``random_dms`` more between other users.

Ids are deterministic (md5 of a label), so a run can be inspected afterwards.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

BENCH_PASSWORD = "Bench-Pass-1"  # noqa: S105 - a throwaway benchmark account
HEAVY = 1  # user numbers
LIGHT = 2
MAX_COMMUNITIES_PER_USER = 40


@dataclass(frozen=True)
class Shape:
    users: int = 10_000
    communities: int = 100
    big_members: int = 5_000
    tail_scale: int = 1_500
    groups_per_community: int = 5
    channels_per_group: int = 4
    heavy_dms: int = 50
    random_dms: int = 2_000

    @classmethod
    def quick(cls) -> Shape:
        return cls(
            users=1_000,
            communities=20,
            big_members=500,
            tail_scale=150,
            heavy_dms=10,
            random_dms=200,
        )


@dataclass
class Seeded:
    """What the benchmark needs to know about the seeded instance."""

    shape: Shape
    heavy_username: str
    light_username: str
    heavy_id: uuid.UUID
    light_id: uuid.UUID
    big_community: uuid.UUID
    light_community: uuid.UUID
    counts: dict[str, int] = field(default_factory=dict)


def det_id(label: str) -> uuid.UUID:
    return uuid.UUID(bytes=hashlib.md5(label.encode()).digest(), version=4)  # noqa: S324 - ids


def username(n: int) -> str:
    return f"bench{n:05d}"


def user_id(n: int) -> uuid.UUID:
    return det_id(f"user-{n}")


def _memberships(shape: Shape, rng: random.Random) -> list[list[int]]:
    """Members (user numbers) of each community, the owner first."""
    per_user = dict.fromkeys(range(1, shape.users + 1), 0)
    members: list[list[int]] = []
    others = list(range(3, shape.users + 1))
    # The big one: the heavy user and the first big_members - 1 others (not the light user).
    big = [HEAVY, *others[: shape.big_members - 1]]
    members.append(big)
    for n in big:
        per_user[n] += 1
    for rank in range(1, shape.communities):
        size = max(3, shape.tail_scale // rank)
        chosen: list[int] = []
        for n in rng.sample(others, min(len(others), size * 2)):
            if len(chosen) == size:
                break
            if per_user[n] < MAX_COMMUNITIES_PER_USER - 1:  # leave room for the heavy user's
                chosen.append(n)
                per_user[n] += 1
        members.append(chosen)
    # The heavy user: 40 communities (the big one and 39 of the tail).
    for index in range(1, min(shape.communities, MAX_COMMUNITIES_PER_USER)):
        members[index].append(HEAVY)
    # The light user: the smallest community only.
    members[-1].append(LIGHT)
    return members


async def seed(conn: Any, shape: Shape, password_hash: str, *, seed_value: int = 42) -> Seeded:
    """Fill a migrated, empty database (``conn``: an asyncpg connection) in one transaction."""
    rng = random.Random(seed_value)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    users = [
        (
            user_id(n),
            username(n),
            f"Bench User {n}",
            f"{username(n)}@bench.invalid",
            password_hash,
            start + timedelta(minutes=n),
        )
        for n in range(1, shape.users + 1)
    ]
    members = _memberships(shape, rng)
    communities = []
    community_members = []
    groups = []
    group_members = []
    channels: list[
        tuple[uuid.UUID, str | None, str, uuid.UUID | None, uuid.UUID | None, datetime]
    ] = []
    channel_members = []
    roles = ("owner", "admin", "moderator", "moderator")
    for c, people in enumerate(members):
        cid = det_id(f"community-{c}")
        owner = user_id(people[0])
        created = start + timedelta(days=1, hours=c)
        communities.append(
            (cid, f"Bench Community {c:03d}", f"Community number {c}", owner, created)
        )
        for i, n in enumerate(people):
            community_members.append((cid, user_id(n), roles[i] if i < len(roles) else "member"))
        for g in range(shape.groups_per_community):
            gid = det_id(f"group-{c}-{g}")
            private = g == shape.groups_per_community - 1
            groups.append(
                (gid, f"Group {g}", owner, cid, "private" if private else "public", created)
            )
            in_group = people[:1] if private else people
            for i, n in enumerate(in_group):
                group_members.append((gid, user_id(n), "owner" if i == 0 else "member"))
            for k in range(shape.channels_per_group):
                chid = det_id(f"channel-{c}-{g}-{k}")
                voice = k == shape.channels_per_group - 1
                channels.append(
                    (chid, f"channel-{k}", "voice" if voice else "text", owner, gid, created)
                )
                for i, n in enumerate(in_group):
                    channel_members.append((chid, user_id(n), "owner" if i == 0 else "member"))
    dm_pairs = []
    pairs: set[tuple[int, int]] = set()
    for partner in range(3, 3 + shape.heavy_dms):
        pairs.add((HEAVY, partner))
    while len(pairs) < shape.heavy_dms + shape.random_dms:
        a, b = rng.sample(range(3, shape.users + 1), 2)
        pairs.add((min(a, b), max(a, b)))
    for a, b in sorted(pairs):
        ua, ub = sorted((user_id(a), user_id(b)))
        chid = det_id(f"dm-{a}-{b}")
        channels.append((chid, None, "dm", None, None, start))
        channel_members.extend([(chid, ua, "member"), (chid, ub, "member")])
        dm_pairs.append((ua, ub, chid))

    async with conn.transaction():
        await conn.copy_records_to_table(
            "users",
            records=users,
            columns=["id", "username", "display_name", "email", "password_hash", "created_at"],
        )
        await conn.copy_records_to_table(
            "communities",
            records=communities,
            columns=["id", "name", "description", "owner_id", "created_at"],
        )
        await conn.copy_records_to_table(
            "community_members",
            records=community_members,
            columns=["community_id", "user_id", "role"],
        )
        await conn.copy_records_to_table(
            "groups",
            records=groups,
            columns=["id", "name", "owner_id", "community_id", "visibility", "created_at"],
        )
        await conn.copy_records_to_table(
            "group_members", records=group_members, columns=["group_id", "user_id", "role"]
        )
        await conn.copy_records_to_table(
            "channels",
            records=channels,
            columns=["id", "name", "channel_type", "created_by", "group_id", "created_at"],
        )
        await conn.copy_records_to_table(
            "channel_members", records=channel_members, columns=["channel_id", "user_id", "role"]
        )
        await conn.copy_records_to_table(
            "dm_pairs", records=dm_pairs, columns=["user_a", "user_b", "channel_id"]
        )
    await conn.execute("ANALYZE")
    heavy_count = sum(1 for people in members if HEAVY in people)
    per_user = Counter(n for people in members for n in people)
    return Seeded(
        shape=shape,
        heavy_username=username(HEAVY),
        light_username=username(LIGHT),
        heavy_id=user_id(HEAVY),
        light_id=user_id(LIGHT),
        big_community=det_id("community-0"),
        light_community=det_id(f"community-{len(members) - 1}"),
        counts={
            "users": len(users),
            "communities": len(communities),
            "community_members": len(community_members),
            "groups": len(groups),
            "group_members": len(group_members),
            "community channels": len(channels) - len(dm_pairs),
            "channel_members": len(channel_members),
            "dm channels": len(dm_pairs),
            "heavy user's communities": heavy_count,
            "largest community": max(len(p) for p in members),
            "max communities per user": max(per_user.values()),
            "users in no community": shape.users - len(per_user),
        },
    )


# -- chat channels for the realtime benchmarks (bench/ws_load.py, idle_ws.py, history.py) ------

NO_LOGIN_HASH = "!bench-no-login"  # not an Argon2 hash: these users are given tokens, never log in


@dataclass(frozen=True)
class ChatChannel:
    """One seeded text channel and its members (the first one owns it)."""

    id: uuid.UUID
    members: list[tuple[uuid.UUID, str]]  # (user id, username)


def _users_rows(
    prefix: str, count: int, start: datetime
) -> list[tuple[uuid.UUID, str, str, str, str, datetime]]:
    rows = []
    for n in range(count):
        name = f"{prefix}{n:06d}"
        rows.append(
            (
                det_id(f"{prefix}-user-{n}"),
                name,
                f"Bench {prefix} {n}",
                f"{name}@bench.invalid",
                NO_LOGIN_HASH,
                start + timedelta(seconds=n),
            )
        )
    return rows


async def seed_chat_channels(
    conn: Any,
    *,
    channels: int,
    members: int,
    prefix: str = "ws",
    users: int | None = None,
) -> list[ChatChannel]:
    """``channels`` text channels of ``members`` members each, each in its own community
    (one public group); all members are plain ``member``s (the owner is the first member).
    By default every channel has its own users (``channels * members`` users); with ``users``,
    that many users, and channel ``k`` takes the ``members`` consecutive users from
    ``k * users // channels`` on (wrapping), so that each user is in about
    ``channels * members / users`` channels. One transaction of COPYs, then ANALYZE."""
    start = datetime(2025, 6, 1, tzinfo=UTC)
    total_users = channels * members if users is None else users
    user_rows = _users_rows(prefix, total_users, start)
    communities = []
    community_members = []
    groups = []
    group_members = []
    channel_rows = []
    channel_members = []
    seeded: list[ChatChannel] = []
    for k in range(channels):
        first = k * members if users is None else k * total_users // channels
        people = [user_rows[(first + i) % total_users] for i in range(members)]
        owner = people[0][0]
        cid = det_id(f"{prefix}-community-{k}")
        gid = det_id(f"{prefix}-group-{k}")
        chid = det_id(f"{prefix}-channel-{k}")
        communities.append((cid, f"{prefix} community {k}", None, owner, start))
        groups.append((gid, "General", owner, cid, "public", start))
        channel_rows.append((chid, "general", "text", owner, gid, start))
        for i, person in enumerate(people):
            role = "owner" if i == 0 else "member"
            community_members.append((cid, person[0], role))
            group_members.append((gid, person[0], role))
            channel_members.append((chid, person[0], role))
        seeded.append(ChatChannel(chid, [(p[0], p[1]) for p in people]))
    async with conn.transaction():
        await conn.copy_records_to_table(
            "users",
            records=user_rows,
            columns=["id", "username", "display_name", "email", "password_hash", "created_at"],
        )
        await conn.copy_records_to_table(
            "communities",
            records=communities,
            columns=["id", "name", "description", "owner_id", "created_at"],
        )
        await conn.copy_records_to_table(
            "community_members",
            records=community_members,
            columns=["community_id", "user_id", "role"],
        )
        await conn.copy_records_to_table(
            "groups",
            records=groups,
            columns=["id", "name", "owner_id", "community_id", "visibility", "created_at"],
        )
        await conn.copy_records_to_table(
            "group_members", records=group_members, columns=["group_id", "user_id", "role"]
        )
        await conn.copy_records_to_table(
            "channels",
            records=channel_rows,
            columns=["id", "name", "channel_type", "created_by", "group_id", "created_at"],
        )
        await conn.copy_records_to_table(
            "channel_members", records=channel_members, columns=["channel_id", "user_id", "role"]
        )
    await conn.execute("ANALYZE")
    return seeded


async def bulk_messages(
    conn: Any,
    channel_id: uuid.UUID,
    sender_ids: list[uuid.UUID],
    count: int,
    *,
    newest: datetime,
    spacing_seconds: float = 30.0,
    ciphertext_bytes: int = 96,
) -> None:
    """``count`` messages in one channel, in one INSERT ... SELECT generate_series (no round
    trip per row): the last one at ``newest``, each ``spacing_seconds`` before the next, the
    senders taking turns; ids are UUIDv7-shaped (millisecond time first, as the server makes
    them); ciphertext ``ciphertext_bytes`` bytes (a multiple of 16), nonce 12 bytes."""
    repeats = max(1, ciphertext_bytes // 16)
    await conn.execute(
        """
        INSERT INTO messages (id, channel_id, sender_id, ciphertext, nonce, message_type,
                              created_at)
        SELECT (lpad(to_hex((extract(epoch FROM t.at) * 1000)::bigint), 12, '0') || '7'
                || substr(t.h, 1, 3) || '8' || substr(t.h, 4, 15))::uuid,
               $1::uuid, ($2::uuid[])[1 + t.i % cardinality($2::uuid[])],
               decode(repeat(t.h, $6::int), 'hex'), decode(substr(t.h, 1, 24), 'hex'), 'text', t.at
          FROM (SELECT i, md5($1::uuid::text || i::text) AS h,
                       $4::timestamptz - make_interval(secs => ($3::int - 1 - i) * $5::float8) AS at
                  FROM generate_series(0, $3::int - 1) AS i) AS t
        """,
        channel_id,
        sender_ids,
        count,
        newest,
        spacing_seconds,
        repeats,
    )
