"""GET /api/admin/communities: instance admins see every community with its owner and sizes."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from chatalot.context import Ctx
from chatalot.protocol.time import rfc3339
from tests.support.auth import make_user
from tests.support.spaces import (
    add_community_member,
    make_channel,
    make_community,
    make_group,
)

KEYS = {
    "id",
    "name",
    "description",
    "owner_id",
    "owner_username",
    "member_count",
    "group_count",
    "channel_count",
    "discoverable",
    "created_at",
}


def error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["error"]["message"])


async def set_created_at(ctx: Ctx, community_id: object, when: datetime) -> None:
    async with ctx.db.transaction("test_set_created_at") as tx:
        await tx.conn.execute(
            "UPDATE communities SET created_at = $2 WHERE id = $1", community_id, when
        )


async def test_item_shape_and_counts(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Each item has exactly the documented keys, with live member/group/channel counts."""
    admin = await make_user(ctx, "adm", is_admin=True)
    owner = await make_user(ctx, "cowner")
    member = await make_user(ctx, "cmember")
    community = await make_community(ctx, owner.id, name="Counted", discoverable=False)
    await add_community_member(ctx, community, member.id)
    g1 = await make_group(ctx, community, owner.id)
    g2 = await make_group(ctx, community, owner.id)
    await make_channel(ctx, g1, owner.id)
    await make_channel(ctx, g1, owner.id, name="voice", channel_type="voice")
    await make_channel(ctx, g2, owner.id)
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    await set_created_at(ctx, community, when)

    response = await client.get("/api/admin/communities", headers=admin.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"communities", "total"}
    assert body["total"] == 1
    [item] = body["communities"]
    assert set(item) == KEYS
    assert item == {
        "id": str(community),
        "name": "Counted",
        "description": "",
        "owner_id": str(owner.id),
        "owner_username": "cowner",
        "member_count": 2,
        "group_count": 2,
        "channel_count": 3,
        "discoverable": False,
        "created_at": rfc3339(when),
    }


async def test_owner_gone_is_null(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """A community whose owner was deleted shows owner_id and owner_username null."""
    admin = await make_user(ctx, "adm", is_admin=True)
    await make_community(ctx, None, name="Orphan")
    response = await client.get("/api/admin/communities", headers=admin.headers)
    [item] = response.json()["communities"]
    assert item["owner_id"] is None
    assert item["owner_username"] is None
    assert item["member_count"] == 0
    assert item["group_count"] == 0
    assert item["channel_count"] == 0


async def test_newest_first_and_paging(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Ordered by created_at descending; limit/offset page; total counts all matches."""
    owner = await make_user(ctx, "iowner", is_admin=True, is_owner=True)
    ids = []
    for day in range(1, 6):
        community = await make_community(ctx, owner.id, name=f"C{day}")
        await set_created_at(ctx, community, datetime(2026, 1, day, tzinfo=UTC))
        ids.append(str(community))
    newest_first = list(reversed(ids))

    r = await client.get("/api/admin/communities", headers=owner.headers)
    assert [c["id"] for c in r.json()["communities"]] == newest_first
    r = await client.get("/api/admin/communities?limit=2&offset=1", headers=owner.headers)
    body = r.json()
    assert [c["id"] for c in body["communities"]] == newest_first[1:3]
    assert body["total"] == 5
    r = await client.get("/api/admin/communities?offset=50", headers=owner.headers)
    assert r.json() == {"communities": [], "total": 5}


async def test_search_is_literal_and_case_insensitive(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """search matches names containing it, ignoring case; % and _ match only themselves."""
    admin = await make_user(ctx, "adm", is_admin=True)
    await make_community(ctx, None, name="Rust Fans")
    await make_community(ctx, None, name="100% rusty")
    await make_community(ctx, None, name="Python_Club")
    await make_community(ctx, None, name="PythonXClub")

    async def names(query: str) -> list[str]:
        r = await client.get(
            "/api/admin/communities", params={"search": query}, headers=admin.headers
        )
        assert r.status_code == 200, r.text
        assert r.json()["total"] == len(r.json()["communities"])
        return sorted(c["name"] for c in r.json()["communities"])

    assert await names("RUST") == ["100% rusty", "Rust Fans"]
    assert await names("%") == ["100% rusty"]
    assert await names("n_C") == ["Python_Club"]
    assert await names("   ") == ["100% rusty", "PythonXClub", "Python_Club", "Rust Fans"]
    assert await names("nothing") == []


async def test_bad_input(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Out-of-range or non-numeric limit/offset and over-long or NUL search are 400s."""
    admin = await make_user(ctx, "adm", is_admin=True)
    cases = {
        "limit=0": "limit must be between 1 and 100",
        "limit=101": "limit must be between 1 and 100",
        "limit=abc": "limit must be a whole number between 1 and 100",
        "offset=-1": "offset must be between 0 and 1000000000",
    }
    for query, message in cases.items():
        r = await client.get(f"/api/admin/communities?{query}", headers=admin.headers)
        assert error(r, 400) == message, query
    r = await client.get(
        "/api/admin/communities", params={"search": "x" * 257}, headers=admin.headers
    )
    assert error(r, 400) == "search must be at most 256 characters"
    r = await client.get(
        "/api/admin/communities", params={"search": "a\x00b"}, headers=admin.headers
    )
    assert r.status_code == 400


async def test_not_for_plain_users(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Plain users (even community owners) get 403; anonymous 401."""
    user = await make_user(ctx, "plain")
    await make_community(ctx, user.id)
    assert error(await client.get("/api/admin/communities", headers=user.headers), 403) == (
        "forbidden"
    )
    assert (await client.get("/api/admin/communities")).status_code == 401


async def test_demoted_admin_loses_access(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """An admin whose flag was removed is refused although the token still says admin."""
    admin = await make_user(ctx, "adm", is_admin=True)
    async with ctx.db.transaction("test_demote") as tx:
        await tx.conn.execute("UPDATE users SET is_admin = false WHERE id = $1", admin.id)
    r = await client.get("/api/admin/communities", headers=admin.headers)
    assert error(r, 403) == "forbidden"
