"""/api/users/search and /api/users/{user_id}: who can find and see whom."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from chatalot.context import Ctx
from chatalot.ids import uuid7
from tests.support.auth import TestUser, make_user


async def execute(ctx: Ctx, sql: str, *args: Any) -> None:
    async with ctx.db.connection() as conn:
        await conn.execute(sql, *args)


async def make_community(ctx: Ctx, *members: TestUser) -> uuid.UUID:
    """A community (owned by the first member) with those members."""
    community_id = uuid7()
    await execute(
        ctx,
        "INSERT INTO communities (id, name, owner_id) VALUES ($1, 'community', $2)",
        community_id,
        members[0].id,
    )
    for member in members:
        await execute(
            ctx,
            "INSERT INTO community_members (community_id, user_id) VALUES ($1, $2)",
            community_id,
            member.id,
        )
    return community_id


async def set_display_name(ctx: Ctx, user: TestUser, name: str) -> None:
    await execute(ctx, "UPDATE users SET display_name = $2 WHERE id = $1", user.id, name)


def names(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [u["username"] for u in response.json()]


# -- search --------------------------------------------------------------------------------


async def test_search_finds_community_peers_only(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A plain user finds users sharing a community (by username or display name, any case),
    never strangers and never themselves."""
    me = await make_user(ctx, "searcher_me")
    peer = await make_user(ctx, "zed_peer")
    await set_display_name(ctx, peer, "Searcher Friend")
    stranger = await make_user(ctx, "searcher_stranger")
    other_peer = await make_user(ctx, "SEARCHER_two")
    await make_community(ctx, me, peer, other_peer)
    await make_community(ctx, stranger)
    response = await client.get("/api/users/search", params={"q": "searcher"}, headers=me.headers)
    assert names(response) == ["SEARCHER_two", "zed_peer"]
    body = response.json()[1]
    assert body["display_name"] == "Searcher Friend"
    assert set(body) >= {"id", "username", "display_name", "avatar_url", "is_admin", "created_at"}
    assert "email" not in body


async def test_search_shared_through_any_community(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Sharing two communities lists the user once."""
    me = await make_user(ctx, "dup_me")
    peer = await make_user(ctx, "dup_peer")
    await make_community(ctx, me, peer)
    await make_community(ctx, peer, me)
    response = await client.get("/api/users/search", params={"q": "dup_"}, headers=me.headers)
    assert names(response) == ["dup_peer"]


async def test_owner_searches_everyone_including_self(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """The instance owner sees every matching user (suspended ones too), themselves included,
    ordered by username."""
    owner = await make_user(ctx, "all_owner", is_admin=True, is_owner=True)
    await make_user(ctx, "all_b")
    await make_user(ctx, "all_a", suspended=True)
    response = await client.get("/api/users/search", params={"q": "all_"}, headers=owner.headers)
    assert names(response) == ["all_a", "all_b", "all_owner"]


async def test_admin_gets_no_search_bypass(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """An instance admin (not owner) only sees community peers."""
    admin = await make_user(ctx, "adm_admin", is_admin=True)
    await make_user(ctx, "adm_stranger")
    response = await client.get("/api/users/search", params={"q": "adm_"}, headers=admin.headers)
    assert names(response) == []


async def test_search_wildcards_are_literal(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """%, _ and backslash match themselves, for the owner and for everyone else."""
    owner = await make_user(ctx, "wild_owner", is_admin=True, is_owner=True)
    me = await make_user(ctx, "wildme")
    under = await make_user(ctx, "x_y_user")
    plain = await make_user(ctx, "xzyauser")
    pct = await make_user(ctx, "pctuser")
    await set_display_name(ctx, pct, "100% real \\o/")
    await make_community(ctx, me, under, plain, pct)
    for caller in (owner, me):
        response = await client.get(
            "/api/users/search", params={"q": "x_y"}, headers=caller.headers
        )
        assert names(response) == ["x_y_user"]
        response = await client.get("/api/users/search", params={"q": "0%"}, headers=caller.headers)
        assert names(response) == ["pctuser"]
        response = await client.get("/api/users/search", params={"q": "%%"}, headers=caller.headers)
        assert names(response) == []
        response = await client.get(
            "/api/users/search", params={"q": "\\o"}, headers=caller.headers
        )
        assert names(response) == ["pctuser"]


async def test_search_returns_at_most_20(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """No more than 20 results, the first 20 by username."""
    owner = await make_user(ctx, "many_owner", is_admin=True, is_owner=True)
    for i in range(25):
        await make_user(ctx, f"many_{i:02d}")
    response = await client.get("/api/users/search", params={"q": "many_"}, headers=owner.headers)
    assert names(response) == [f"many_{i:02d}" for i in range(20)]


@pytest.mark.parametrize("query", [None, "", "a", "x" * 257, "é" * 129])
async def test_search_query_length(client: httpx.AsyncClient, ctx: Ctx, query: str | None) -> None:
    """q is required and 2-256 bytes."""
    user = await make_user(ctx)
    params = {} if query is None else {"q": query}
    response = await client.get("/api/users/search", params=params, headers=user.headers)
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "validation_error",
        "message": "search query must be 2-256 characters",
    }


async def test_search_odd_queries_never_fail(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """SQL metacharacters and 256-byte queries give 200 with no match; a NUL is a 400 (the
    edge refuses %00 in any URL)."""
    owner = await make_user(ctx, "odd_owner", is_admin=True, is_owner=True)
    for query in ["'; DROP TABLE users; --", "x" * 256, "ü" * 128, "🦊🦊"]:
        response = await client.get("/api/users/search", params={"q": query}, headers=owner.headers)
        assert names(response) == [], query
    for query in ["\x00\x00", "a\x00"]:
        response = await client.get("/api/users/search", params={"q": query}, headers=owner.headers)
        assert response.status_code == 400, query
        assert response.json()["error"]["code"] == "validation_error"


async def test_search_needs_a_token(client: httpx.AsyncClient) -> None:
    """Anonymous search is 401."""
    response = await client.get("/api/users/search", params={"q": "abc"})
    assert response.status_code == 401


# -- lookup --------------------------------------------------------------------------------


async def test_get_user_visibility(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Self and community peers are visible; a stranger is 404 user not found, even for an
    instance admin; the instance owner sees everyone."""
    me = await make_user(ctx, "look_me")
    peer = await make_user(ctx, "look_peer")
    stranger = await make_user(ctx, "look_stranger")
    admin = await make_user(ctx, "look_admin", is_admin=True)
    owner = await make_user(ctx, "look_owner", is_admin=True, is_owner=True)
    await make_community(ctx, me, peer)

    async def get(caller: TestUser, target: TestUser) -> httpx.Response:
        return await client.get(f"/api/users/{target.id}", headers=caller.headers)

    own = await get(me, me)
    assert own.status_code == 200 and own.json()["username"] == "look_me"
    seen = await get(me, peer)
    assert seen.status_code == 200
    assert seen.json()["id"] == str(peer.id)
    assert seen.json()["display_name"] == "Look_peer"
    for caller, target in [(me, stranger), (admin, me), (stranger, peer)]:
        hidden = await get(caller, target)
        assert hidden.status_code == 404
        assert hidden.json()["error"] == {"code": "not_found", "message": "user not found"}
    assert (await get(owner, stranger)).status_code == 200


async def test_get_user_unknown_and_malformed_ids(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """An unknown id is 404 user not found; a malformed id is 400."""
    owner = await make_user(ctx, is_admin=True, is_owner=True)
    unknown = await client.get(f"/api/users/{uuid.uuid4()}", headers=owner.headers)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"] == "user not found"
    for bad in ["not-a-uuid", "1234", "'%20OR%201=1", "%00"]:
        response = await client.get(f"/api/users/{bad}", headers=owner.headers)
        assert response.status_code == 400, bad
        assert response.json()["error"]["code"] == "validation_error"


async def test_get_user_accepts_simple_uuid_form(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """The 32-hex form of an id works like the hyphenated one (as the original's parser)."""
    user = await make_user(ctx)
    response = await client.get(f"/api/users/{user.id.hex}", headers=user.headers)
    assert response.status_code == 200
    assert response.json()["id"] == str(user.id)
