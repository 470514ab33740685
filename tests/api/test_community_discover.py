"""GET /api/communities/discover: discoverable communities, biggest first, bans hidden."""

from __future__ import annotations

import httpx

from chatalot.context import Ctx
from tests.support.auth import make_user
from tests.support.spaces import add_community_member, ban_from_community, make_community

KEYS = {"id", "name", "description", "icon_url", "banner_url", "member_count", "is_member"}


async def test_shape_order_and_membership(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Only discoverable ones; by member count descending, then name; is_member per caller."""
    me = await make_user(ctx, "me")
    others = [await make_user(ctx, f"other{i}") for i in range(3)]
    big = await make_community(ctx, others[0].id, name="Big")
    for user in others[1:]:
        await add_community_member(ctx, big, user.id)
    beta = await make_community(ctx, others[1].id, name="beta")
    alpha = await make_community(ctx, others[2].id, name="Alpha")
    mine = await make_community(ctx, me.id, name="Mine")
    await add_community_member(ctx, mine, others[0].id)
    await make_community(ctx, others[0].id, name="Hidden", discoverable=False)

    r = await client.get("/api/communities/discover", headers=me.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert isinstance(body, list)
    for item in body:
        assert set(item) == KEYS
    assert [(c["name"], c["member_count"], c["is_member"]) for c in body] == [
        ("Big", 3, False),
        ("Mine", 2, True),
        ("Alpha", 1, False),
        ("beta", 1, False),
    ]
    assert body[0] == {
        "id": str(big),
        "name": "Big",
        "description": "",
        "icon_url": None,
        "banner_url": None,
        "member_count": 3,
        "is_member": False,
    }
    assert {c["id"] for c in body[2:]} == {str(alpha), str(beta)}


async def test_banned_community_is_hidden(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """A community the caller is banned from is left out (others still see it)."""
    me = await make_user(ctx, "me")
    other = await make_user(ctx, "other")
    community = await make_community(ctx, other.id, name="Banned Here")
    await ban_from_community(ctx, community, me.id, by=other.id)
    assert (await client.get("/api/communities/discover", headers=me.headers)).json() == []
    seen = (await client.get("/api/communities/discover", headers=other.headers)).json()
    assert [c["name"] for c in seen] == ["Banned Here"]


async def test_paging(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """limit and offset page through the same order."""
    me = await make_user(ctx, "me")
    for name in ("a", "b", "c", "d"):
        await make_community(ctx, None, name=name)
    r = await client.get("/api/communities/discover?limit=2&offset=1", headers=me.headers)
    assert [c["name"] for c in r.json()] == ["b", "c"]
    r = await client.get("/api/communities/discover?offset=10", headers=me.headers)
    assert r.json() == []


async def test_bad_input_and_anonymous(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Bad limit/offset are 400 with the range; anonymous callers 401."""
    me = await make_user(ctx, "me")
    cases = {
        "limit=0": "limit must be between 1 and 100",
        "limit=101": "limit must be between 1 and 100",
        "limit=x": "limit must be a whole number between 1 and 100",
        "offset=-5": "offset must be between 0 and 1000000000",
    }
    for query, message in cases.items():
        r = await client.get(f"/api/communities/discover?{query}", headers=me.headers)
        assert r.status_code == 400, query
        assert r.json()["error"]["message"] == message
    assert (await client.get("/api/communities/discover")).status_code == 401
