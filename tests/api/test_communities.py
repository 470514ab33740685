"""/api/communities and one community: listing, creating, reading, editing (with the theme),
deleting, transferring ownership, leaving, and the member's views (groups, emoji)."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from chatalot.app import create_app
from chatalot.clock import SystemClock
from chatalot.config import PoolSettings, Settings
from chatalot.context import Ctx
from chatalot.db.database import Database
from chatalot.db.pool import open_pool
from chatalot.ids import ChannelId, CommunityId, UserId, uuid7
from chatalot.protocol import events
from chatalot.security.passwords import PasswordHasher
from chatalot.security.tokens import JwtKeys
from chatalot.services.audience import SERVER_ONLY, AccessRevoked, Users
from chatalot.services.instance_settings import InstanceValues
from tests.conftest import RecordingSink, build_ctx
from tests.support.auth import TestUser, make_user
from tests.support.pg import PgServer
from tests.support.spaces import (
    add_channel_member,
    add_community_member,
    add_group_member,
    make_channel,
    make_community,
    make_group,
)

COMMUNITY_KEYS = {
    "id",
    "name",
    "description",
    "icon_url",
    "owner_id",
    "created_at",
    "member_count",
    "who_can_create_groups",
    "who_can_create_invites",
    "discoverable",
    "banner_url",
    "community_theme",
}


def error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["error"]["message"])


def open_creation(ctx: Ctx) -> None:
    ctx.settings = dataclasses.replace(ctx.settings, community_creation_mode="open")


async def audit_rows(ctx: Ctx, action: str) -> list[dict[str, Any]]:
    async with ctx.db.transaction("test_audit") as tx:
        rows = await tx.conn.fetch(
            "SELECT user_id, metadata FROM audit_log WHERE action = $1", action
        )
    return [dict(r) for r in rows]


async def fetch_val(ctx: Ctx, sql: str, *args: Any) -> Any:
    async with ctx.db.transaction("test_fetch") as tx:
        return await tx.conn.fetchval(sql, *args)


@dataclasses.dataclass
class Space:
    owner: TestUser
    member: TestUser
    community: CommunityId
    channel: ChannelId


async def make_space(ctx: Ctx) -> Space:
    """A community (owner + one member) with a public group and a channel both are in."""
    owner = await make_user(ctx)
    member = await make_user(ctx)
    community = await make_community(ctx, owner.id, name="Space")
    await add_community_member(ctx, community, member.id)
    group = await make_group(ctx, community, owner.id)
    await add_group_member(ctx, group, member.id)
    channel = await make_channel(ctx, group, owner.id)
    await add_channel_member(ctx, channel, member.id)
    return Space(owner, member, community, channel)


# -- listing and creating --------------------------------------------------------------------


async def test_list_only_mine_by_name_with_shape(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """The caller's communities, by name, in the CommunityResponse shape."""
    me = await make_user(ctx)
    other = await make_user(ctx)
    b = await make_community(ctx, me.id, name="Bravo")
    a = await make_community(ctx, other.id, name="Alpha")
    await add_community_member(ctx, a, me.id)
    await make_community(ctx, other.id, name="Not mine")
    response = await client.get("/api/communities", headers=me.headers)
    assert response.status_code == 200
    body = response.json()
    assert [c["name"] for c in body] == ["Alpha", "Bravo"]
    assert set(body[0]) == COMMUNITY_KEYS  # welcome_message omitted when null
    assert body[0]["member_count"] == 2
    assert body[1]["id"] == str(b)
    assert body[1]["created_at"].endswith("+00:00")


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("limit=1", ["A"]),
        ("limit=0", ["A"]),
        ("limit=-5", ["A"]),
        ("limit=1&offset=1", ["B"]),
        ("offset=-3", ["A", "B", "C"]),
        ("limit=99999", ["A", "B", "C"]),
    ],
)
async def test_list_paging_is_clamped(
    client: httpx.AsyncClient, ctx: Ctx, query: str, names: list[str]
) -> None:
    """limit is clamped to 1..500 and offset to >= 0, as the original."""
    me = await make_user(ctx)
    for name in ("C", "A", "B"):
        await make_community(ctx, me.id, name=name)
    response = await client.get(f"/api/communities?{query}", headers=me.headers)
    assert [c["name"] for c in response.json()] == names


async def test_list_non_numeric_limit(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A limit that is not a number is a 400."""
    me = await make_user(ctx)
    response = await client.get("/api/communities?limit=ten", headers=me.headers)
    assert "limit" in error(response, 400)


async def test_create_admin_only_by_default(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """COMMUNITY_CREATION_MODE=admin_only: plain users 403, instance admins 200."""
    user = await make_user(ctx)
    admin = await make_user(ctx, is_admin=True)
    body = {"name": "Club"}
    assert error(await client.post("/api/communities", json=body, headers=user.headers), 403)
    response = await client.post("/api/communities", json=body, headers=admin.headers)
    assert response.status_code == 200


async def test_create_open_shape_and_defaults(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Open mode: anyone creates; the creator is the owner member; defaults as the original."""
    open_creation(ctx)
    user = await make_user(ctx)
    response = await client.post(
        "/api/communities",
        json={"name": "  Club  ", "description": "  hi  "},
        headers=user.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == COMMUNITY_KEYS
    assert body["name"] == "Club"
    assert body["description"] == "hi"
    assert body["owner_id"] == str(user.id)
    assert body["member_count"] == 1
    assert body["who_can_create_groups"] == "admin"
    assert body["who_can_create_invites"] == "admin"
    assert body["discoverable"] is True
    assert body["icon_url"] is None and body["banner_url"] is None
    assert body["community_theme"] is None
    role = await fetch_val(
        ctx,
        "SELECT role FROM community_members WHERE community_id = $1 AND user_id = $2",
        uuid.UUID(body["id"]),
        user.id,
    )
    assert role == "owner"
    assert uuid.UUID(body["id"]).version == 7


async def test_create_blank_description_is_empty_string(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """A blank description is stored as "" on create (the original); none gives null."""
    open_creation(ctx)
    user = await make_user(ctx)
    blank = await client.post(
        "/api/communities", json={"name": "A", "description": "   "}, headers=user.headers
    )
    assert blank.json()["description"] == ""
    missing = await client.post(
        "/api/communities", json={"name": "B", "description": None}, headers=user.headers
    )
    assert missing.json()["description"] is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": ""}, "community name must be 1-64 characters"),
        ({"name": "   "}, "community name must be 1-64 characters"),
        ({"name": "n" * 65}, "community name must be 1-64 characters"),
        ({"name": "é" * 33}, None),
        ({"name": "a\u202eb"}, None),
        ({"name": "x", "description": "d" * 2049}, "description must be at most 2048 characters"),
        ({"name": "x", "description": "bad\x07bell"}, None),
    ],
)
async def test_create_validation(
    client: httpx.AsyncClient, ctx: Ctx, body: dict[str, Any], message: str | None
) -> None:
    """Names and descriptions: trimmed byte limits, no control characters (400)."""
    open_creation(ctx)
    user = await make_user(ctx)
    text = error(await client.post("/api/communities", json=body, headers=user.headers), 400)
    if message is not None:
        assert text == message


async def test_create_wrong_types(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A missing name or a wrong type is a 4xx in the error shape, never a 500."""
    open_creation(ctx)
    user = await make_user(ctx)
    for body in ({}, {"name": 5}, {"name": "x", "description": ["a"]}):
        response = await client.post("/api/communities", json=body, headers=user.headers)
        assert 400 <= response.status_code < 500, response.text
        assert response.json()["error"]["code"]


# -- one community -------------------------------------------------------------------------


async def test_get_community(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Members read it; outsiders 403; instance staff get 404 for a missing one."""
    space = await make_space(ctx)
    response = await client.get(f"/api/communities/{space.community}", headers=space.member.headers)
    assert response.status_code == 200
    assert response.json()["id"] == str(space.community)
    assert response.json()["member_count"] == 2
    outsider = await make_user(ctx)
    assert error(
        await client.get(f"/api/communities/{space.community}", headers=outsider.headers), 403
    )
    admin = await make_user(ctx, is_admin=True)
    missing = await client.get(f"/api/communities/{uuid.uuid4()}", headers=admin.headers)
    assert error(missing, 404) == "community not found"
    bad = await client.get("/api/communities/nope", headers=admin.headers)
    assert error(bad, 400) == "invalid community ID"


async def test_patch_every_field_and_event(
    client: httpx.AsyncClient, ctx: Ctx, sink: RecordingSink
) -> None:
    """A manager edits every field; all members are told with community_updated."""
    space = await make_space(ctx)
    icon = f"/api/community-assets/{space.community}_icon.png?v=1"
    banner = "https://example.com/banner.png"
    body: dict[str, Any] = {
        "name": " Renamed ",
        "description": "About us",
        "icon_url": icon,
        "banner_url": banner,
        "who_can_create_groups": "everyone",
        "who_can_create_invites": "moderator",
        "discoverable": False,
        "community_theme": {"accent": "#ff0000", "customCss": ".a{color:red}"},
        "welcome_message": "  Welcome!\nBe nice.",
    }
    response = await client.patch(
        f"/api/communities/{space.community}", json=body, headers=space.owner.headers
    )
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["name"] == "Renamed"
    assert out["description"] == "About us"
    assert out["icon_url"] == body["icon_url"]
    assert out["banner_url"] == body["banner_url"]
    assert out["who_can_create_groups"] == "everyone"
    assert out["who_can_create_invites"] == "moderator"
    assert out["discoverable"] is False
    assert out["community_theme"] == {"accent": "#ff0000", "customCss": ".a { color: red }"}
    assert out["welcome_message"] == "  Welcome!\nBe nice."
    [emitted] = sink.published
    assert emitted.event == events.CommunityUpdated(
        community_id=str(space.community),
        name="Renamed",
        description="About us",
        icon_url=icon,
        banner_url=banner,
        community_theme={"accent": "#ff0000", "customCss": ".a { color: red }"},
        welcome_message="  Welcome!\nBe nice.",
    )
    assert emitted.audience == Users.of([space.owner.id, space.member.id])


async def test_patch_clearing(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """ "" clears description/icon/banner/welcome; theme null clears, absent keeps, {} stores
    an empty object."""
    space = await make_space(ctx)
    url = f"/api/communities/{space.community}"
    headers = space.owner.headers
    await client.patch(
        url,
        json={
            "description": "d",
            "icon_url": "https://example.com/i.png",
            "banner_url": "https://example.com/b.png",
            "welcome_message": "w",
            "community_theme": {"accent": "#fff"},
        },
        headers=headers,
    )
    kept = (await client.patch(url, json={"name": "Same"}, headers=headers)).json()
    assert kept["community_theme"] == {"accent": "#fff"}
    assert kept["description"] == "d"
    nulls = (
        await client.patch(url, json={"description": None, "icon_url": None}, headers=headers)
    ).json()
    assert nulls["description"] == "d" and nulls["icon_url"] is not None
    cleared = (
        await client.patch(
            url,
            json={
                "description": "",
                "icon_url": "",
                "banner_url": "",
                "welcome_message": "",
                "community_theme": None,
            },
            headers=headers,
        )
    ).json()
    assert cleared["description"] is None
    assert cleared["icon_url"] is None
    assert cleared["banner_url"] is None
    assert "welcome_message" not in cleared
    assert cleared["community_theme"] is None
    empty = (await client.patch(url, json={"community_theme": {}}, headers=headers)).json()
    assert empty["community_theme"] == {}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": ""}, "community name must be 1-64 characters"),
        ({"name": "x" * 65}, "community name must be 1-64 characters"),
        ({"name": "a\x00b"}, None),
        ({"description": "d" * 2049}, "description must be at most 2048 characters"),
        (
            {"who_can_create_groups": "owner"},
            "who_can_create_groups must be 'everyone', 'moderator', or 'admin'",
        ),
        (
            {"who_can_create_invites": ""},
            "who_can_create_invites must be 'everyone', 'moderator', or 'admin'",
        ),
        ({"welcome_message": "w" * 2001}, "welcome_message must be at most 2000 characters"),
        ({"community_theme": "dark"}, "community_theme must be a JSON object"),
        ({"community_theme": [1]}, "community_theme must be a JSON object"),
        ({"community_theme": {"x": "#fff"}}, "unknown theme key: x"),
        ({"community_theme": {"accent": "#ggg"}}, "accent must be a hex color (e.g. #ff0000)"),
        ({"community_theme": {"bgPrimary": 1}}, "bgPrimary must be a string"),
        ({"community_theme": {"customCss": ["a"]}}, "customCss must be a string"),
        (
            {"community_theme": {"customCss": "a { background: url(http://x) }"}},
            "customCss: url() is only allowed for /api/ paths",
        ),
        (
            {"community_theme": {"customCss": "x" * 5000}},
            "customCss: CSS too large (max 4096 bytes)",
        ),
        ({"community_theme": {"accent": "#" + "f" * 9000}}, "community_theme too large (max 8KB)"),
        ({"icon_url": "ftp://x/y.png"}, "icon URL must be an HTTP(S) URL or /api/ path"),
        ({"banner_url": "/api/users/me"}, None),
    ],
)
async def test_patch_validation(
    client: httpx.AsyncClient,
    ctx: Ctx,
    sink: RecordingSink,
    body: dict[str, Any],
    message: str | None,
) -> None:
    """Every rule has its message; nothing is changed or announced."""
    space = await make_space(ctx)
    response = await client.patch(
        f"/api/communities/{space.community}", json=body, headers=space.owner.headers
    )
    text = error(response, 400)
    if message is not None:
        assert text == message
    assert sink.published == []


async def test_patch_external_images_can_be_refused(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """With allow_external_image_urls off, icons must be uploaded here."""
    space = await make_space(ctx)
    ctx.instance.values = InstanceValues(allow_external_image_urls=False)
    response = await client.patch(
        f"/api/communities/{space.community}",
        json={"icon_url": "https://example.com/i.png"},
        headers=space.owner.headers,
    )
    assert "icon URL" in error(response, 400)


async def test_patch_needs_manager(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Moderators and members get 403, even with a bad body."""
    space = await make_space(ctx)
    mod = await make_user(ctx)
    await add_community_member(ctx, space.community, mod.id, "moderator")
    for user in (space.member, mod):
        for body in ({"name": "x"}, {"community_theme": 5}):
            response = await client.patch(
                f"/api/communities/{space.community}", json=body, headers=user.headers
            )
            assert error(response, 403) == "forbidden"


async def test_delete_community(client: httpx.AsyncClient, ctx: Ctx, sink: RecordingSink) -> None:
    """The owner deletes it; every channel member loses access at once; no audit."""
    space = await make_space(ctx)
    admin = await make_user(ctx)
    await add_community_member(ctx, space.community, admin.id, "admin")
    denied = await client.delete(f"/api/communities/{space.community}", headers=admin.headers)
    assert error(denied, 403)
    response = await client.delete(
        f"/api/communities/{space.community}", headers=space.owner.headers
    )
    assert response.status_code == 200
    assert response.content == b""
    assert (
        await fetch_val(ctx, "SELECT count(*) FROM communities WHERE id = $1", space.community) == 0
    )
    assert all(e.audience == SERVER_ONLY for e in sink.published)
    assert {e.event for e in sink.published} == {
        AccessRevoked(user, frozenset([space.channel]), "deleted")
        for user in (space.owner.id, space.member.id)
    }
    assert await audit_rows(ctx, "admin_delete_community") == []


async def test_staff_delete_is_audited(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """An instance admin deleting someone else's community is written to the audit log."""
    space = await make_space(ctx)
    admin = await make_user(ctx, is_admin=True)
    response = await client.delete(f"/api/communities/{space.community}", headers=admin.headers)
    assert response.status_code == 200
    [row] = await audit_rows(ctx, "admin_delete_community")
    assert row["user_id"] == admin.id
    assert row["metadata"] == {"community_id": str(space.community), "community_name": "Space"}
    again = await client.delete(f"/api/communities/{space.community}", headers=admin.headers)
    assert error(again, 404) == "community not found"


# -- ownership, leaving ----------------------------------------------------------------------


async def roles_of(ctx: Ctx, community: CommunityId) -> dict[UserId, str]:
    async with ctx.db.transaction("test_roles") as tx:
        rows = await tx.conn.fetch(
            "SELECT user_id, role FROM community_members WHERE community_id = $1", community
        )
    return {r["user_id"]: r["role"] for r in rows}


async def test_transfer_ownership(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """The target becomes owner (row and role); the old owner becomes admin."""
    space = await make_space(ctx)
    response = await client.post(
        f"/api/communities/{space.community}/transfer-ownership",
        json={"new_owner_id": str(space.member.id)},
        headers=space.owner.headers,
    )
    assert response.status_code == 200
    assert response.content == b""
    assert await roles_of(ctx, space.community) == {
        space.owner.id: "admin",
        space.member.id: "owner",
    }
    owner_id = await fetch_val(
        ctx, "SELECT owner_id FROM communities WHERE id = $1", space.community
    )
    assert owner_id == space.member.id
    # the old owner is no longer allowed to transfer
    again = await client.post(
        f"/api/communities/{space.community}/transfer-ownership",
        json={"new_owner_id": str(space.owner.id)},
        headers=space.owner.headers,
    )
    assert error(again, 403)


async def test_staff_transfer_leaves_one_owner(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """An instance admin (not a member) transferring: the previous owner becomes admin (the
    original left two owners)."""
    space = await make_space(ctx)
    admin = await make_user(ctx, is_admin=True)
    response = await client.post(
        f"/api/communities/{space.community}/transfer-ownership",
        json={"new_owner_id": str(space.member.id)},
        headers=admin.headers,
    )
    assert response.status_code == 200
    assert await roles_of(ctx, space.community) == {
        space.owner.id: "admin",
        space.member.id: "owner",
    }


async def test_transfer_errors(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A non-member target is a 400 with the original's message; a bad id a 400."""
    space = await make_space(ctx)
    outsider = await make_user(ctx)
    url = f"/api/communities/{space.community}/transfer-ownership"
    response = await client.post(
        url, json={"new_owner_id": str(outsider.id)}, headers=space.owner.headers
    )
    assert error(response, 400) == "target user must be a member of this community"
    bad = await client.post(url, json={"new_owner_id": "x"}, headers=space.owner.headers)
    assert error(bad, 400) == "invalid new_owner_id"
    denied = await client.post(
        url, json={"new_owner_id": str(space.member.id)}, headers=space.member.headers
    )
    assert error(denied, 403)


async def test_leave(client: httpx.AsyncClient, ctx: Ctx, sink: RecordingSink) -> None:
    """A member leaves the community, its groups and channels; access ends at once; no key
    rotation (as the original)."""
    space = await make_space(ctx)
    response = await client.post(
        f"/api/communities/{space.community}/leave", headers=space.member.headers
    )
    assert response.status_code == 200
    assert response.content == b""
    assert space.member.id not in await roles_of(ctx, space.community)
    count = await fetch_val(
        ctx,
        "SELECT count(*) FROM group_members gm JOIN groups g ON g.id = gm.group_id"
        " WHERE g.community_id = $1 AND gm.user_id = $2",
        space.community,
        space.member.id,
    )
    assert count == 0
    assert [(e.event, e.audience) for e in sink.published] == [
        (AccessRevoked(space.member.id, frozenset([space.channel]), "left"), SERVER_ONLY),
        (
            events.CommunityMemberRemoved(
                community_id=str(space.community), user_id=str(space.member.id), reason="left"
            ),
            Users.of([space.member.id]),
        ),
    ]
    again = await client.post(
        f"/api/communities/{space.community}/leave", headers=space.member.headers
    )
    assert error(again, 403)


async def test_owner_cannot_leave(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """The owner (also when they are instance staff) must transfer or delete first."""
    message = "owner cannot leave; transfer ownership or delete the community instead"
    space = await make_space(ctx)
    response = await client.post(
        f"/api/communities/{space.community}/leave", headers=space.owner.headers
    )
    assert error(response, 400) == message
    admin = await make_user(ctx, is_admin=True)
    community = await make_community(ctx, admin.id)
    response = await client.post(f"/api/communities/{community}/leave", headers=admin.headers)
    assert error(response, 400) == message


# -- groups and emoji ------------------------------------------------------------------------


async def test_groups_are_the_callers(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Only the groups the caller is in, by name, in the GroupResponse shape."""
    space = await make_space(ctx)
    await make_group(ctx, space.community, space.owner.id, name="Owner only", visibility="private")
    mine = await client.get(
        f"/api/communities/{space.community}/groups", headers=space.member.headers
    )
    assert [g["community_id"] for g in mine.json()] == [str(space.community)]
    owner = await client.get(
        f"/api/communities/{space.community}/groups", headers=space.owner.headers
    )
    assert len(owner.json()) == 2
    assert set(owner.json()[0]) == {
        "id",
        "name",
        "description",
        "owner_id",
        "community_id",
        "created_at",
        "member_count",
        "visibility",
        "discoverable",
        "assigned_member_id",
        "allow_invites",
        "icon_url",
        "banner_url",
        "accent_color",
    }
    admin = await make_user(ctx, is_admin=True)
    staff = await client.get(f"/api/communities/{space.community}/groups", headers=admin.headers)
    assert staff.json() == []


async def test_emojis_list(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Custom emoji by shortcode, in the CustomEmojiResponse shape."""
    space = await make_space(ctx)
    ids = []
    async with ctx.db.transaction("test_emoji") as tx:
        for code in ("zebra", "apple"):
            emoji_id = uuid7()
            ids.append(emoji_id)
            await tx.conn.execute(
                "INSERT INTO custom_emojis (id, community_id, shortcode, file_path, content_type,"
                " uploaded_by) VALUES ($1, $2, $3, 'emojis/x.png', 'image/png', $4)",
                emoji_id,
                space.community,
                code,
                space.owner.id,
            )
    response = await client.get(
        f"/api/communities/{space.community}/emojis", headers=space.member.headers
    )
    body = response.json()
    assert [e["shortcode"] for e in body] == ["apple", "zebra"]
    assert body[0] == {
        "id": str(ids[1]),
        "community_id": str(space.community),
        "shortcode": "apple",
        "url": f"/api/emojis/{ids[1]}",
        "content_type": "image/png",
        "uploaded_by": str(space.owner.id),
        "created_at": body[0]["created_at"],
    }
    assert body[0]["created_at"].endswith("+00:00")


# -- races (real commits) --------------------------------------------------------------------


@pytest.fixture
async def pooled(
    pg: PgServer, fresh_db: str, settings: Settings, passwords: PasswordHasher, jwt_keys: JwtKeys
) -> AsyncIterator[tuple[Any, Ctx, httpx.AsyncClient]]:
    pool = await open_pool(pg.url(fresh_db), PoolSettings(max_connections=10, min_connections=2))
    ctx = build_ctx(
        Database(pool, acquire_timeout=5), settings, passwords, jwt_keys, clock=SystemClock()
    )
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=30) as client:
        yield pool, ctx, client
    await pool.close()


async def test_concurrent_transfers_leave_one_owner(
    pooled: tuple[Any, Ctx, httpx.AsyncClient],
) -> None:
    """The owner hands the community to five members at once: exactly one transfer wins, the
    others are refused (the caller is no longer the owner), and there is one owner."""
    pool, ctx, client = pooled
    owner = await make_user(ctx)
    community = await make_community(ctx, owner.id)
    members = [await make_user(ctx) for _ in range(5)]
    for member in members:
        await add_community_member(ctx, community, member.id)
    responses = await asyncio.gather(
        *(
            client.post(
                f"/api/communities/{community}/transfer-ownership",
                json={"new_owner_id": str(m.id)},
                headers=owner.headers,
            )
            for m in members
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 403, 403, 403, 403]
    async with pool.acquire() as conn:
        owners = await conn.fetch(
            "SELECT user_id FROM community_members WHERE community_id = $1 AND role = 'owner'",
            community,
        )
        owner_id = await conn.fetchval("SELECT owner_id FROM communities WHERE id = $1", community)
    assert [r["user_id"] for r in owners] == [owner_id]
