"""/api/users/block, /api/users/unblock/{id}, /api/users/blocked."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from chatalot.clock import FakeClock
from chatalot.context import Ctx
from chatalot.ids import UserId
from chatalot.repositories import blocks as blocks_repo
from tests.conftest import RecordingSink
from tests.support.auth import make_user


async def fetchval(ctx: Ctx, sql: str, *args: Any) -> Any:
    async with ctx.db.connection() as conn:
        return await conn.fetchval(sql, *args)


async def test_block_list_unblock(client: httpx.AsyncClient, ctx: Ctx, sink: RecordingSink) -> None:
    """Blocking answers 200 empty and lists the block; unblocking removes it; no events."""
    me, target = await make_user(ctx), await make_user(ctx)
    response = await client.post(
        "/api/users/block", headers=me.headers, json={"user_id": str(target.id)}
    )
    assert response.status_code == 200
    assert response.content == b""
    listed = await client.get("/api/users/blocked", headers=me.headers)
    assert listed.status_code == 200
    [entry] = listed.json()
    assert set(entry) == {"blocked_id", "created_at"}
    assert entry["blocked_id"] == str(target.id)
    assert entry["created_at"].endswith("+00:00")
    unblock = await client.post(f"/api/users/unblock/{target.id}", headers=me.headers, json={})
    assert unblock.status_code == 200
    assert unblock.content == b""
    assert (await client.get("/api/users/blocked", headers=me.headers)).json() == []
    assert sink.published == []


async def test_block_is_idempotent_and_one_directional(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Blocking twice keeps one row; the blocked user's own list stays empty."""
    me, target = await make_user(ctx), await make_user(ctx)
    for _ in range(2):
        response = await client.post(
            "/api/users/block", headers=me.headers, json={"user_id": str(target.id)}
        )
        assert response.status_code == 200
    count = await fetchval(ctx, "SELECT count(*) FROM user_blocks WHERE blocker_id = $1", me.id)
    assert count == 1
    assert (await client.get("/api/users/blocked", headers=target.headers)).json() == []
    async with ctx.db.connection() as conn:
        assert await blocks_repo.exists_block_between(conn, user_a=target.id, user_b=me.id)
        assert not await blocks_repo.exists_block_between(
            conn, user_a=target.id, user_b=UserId(uuid.uuid4())
        )


async def test_blocked_list_newest_first(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """The blocked list is ordered newest first."""
    me = await make_user(ctx)
    targets = [await make_user(ctx) for _ in range(3)]
    assert isinstance(ctx.clock, FakeClock)
    for i, target in enumerate(targets):
        await client.post("/api/users/block", headers=me.headers, json={"user_id": str(target.id)})
        async with ctx.db.connection() as conn:  # the test transaction freezes now()
            await conn.execute(
                "UPDATE user_blocks SET created_at = now() + make_interval(secs => $3)"
                " WHERE blocker_id = $1 AND blocked_id = $2",
                me.id,
                target.id,
                float(i),
            )
    listed = await client.get("/api/users/blocked", headers=me.headers)
    assert [b["blocked_id"] for b in listed.json()] == [str(t.id) for t in reversed(targets)]


async def test_cannot_block_yourself(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Self-blocks are 400 cannot block yourself."""
    me = await make_user(ctx)
    response = await client.post(
        "/api/users/block", headers=me.headers, json={"user_id": str(me.id)}
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "validation_error",
        "message": "cannot block yourself",
    }


async def test_block_unknown_user(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Blocking an id that is nobody's is 404 user not found."""
    me = await make_user(ctx)
    response = await client.post(
        "/api/users/block", headers=me.headers, json={"user_id": str(uuid.uuid4())}
    )
    assert response.status_code == 404
    assert response.json()["error"] == {"code": "not_found", "message": "user not found"}


@pytest.mark.parametrize(
    "body",
    [{}, {"user_id": None}, {"user_id": 12}, {"user_id": "nope"}, {"user_id": "' OR 1=1 --"}, []],
)
async def test_block_bad_bodies(client: httpx.AsyncClient, ctx: Ctx, body: Any) -> None:
    """Missing, mistyped or malformed user ids are a 400 validation_error."""
    me = await make_user(ctx)
    response = await client.post("/api/users/block", headers=me.headers, json=body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


async def test_block_from_deleted_account(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A token whose account is gone cannot write a block (404, not a foreign-key 500)."""
    me, target = await make_user(ctx), await make_user(ctx)
    await client.get("/api/account/sessions", headers=me.headers)  # token seen: cached
    async with ctx.db.connection() as conn:
        await conn.execute("DELETE FROM users WHERE id = $1", me.id)
    response = await client.post(
        "/api/users/block", headers=me.headers, json={"user_id": str(target.id)}
    )
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "user not found"


async def test_unblock_without_block(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Unblocking someone not blocked (or an unknown id) is 404 block not found."""
    me, other = await make_user(ctx), await make_user(ctx)
    for target in (other.id, uuid.uuid4()):
        response = await client.post(f"/api/users/unblock/{target}", headers=me.headers)
        assert response.status_code == 404
        assert response.json()["error"] == {"code": "not_found", "message": "block not found"}


async def test_unblock_only_removes_own_block(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Another user's block of the same target is untouched by my unblock."""
    me, other, target = await make_user(ctx), await make_user(ctx), await make_user(ctx)
    await client.post("/api/users/block", headers=other.headers, json={"user_id": str(target.id)})
    response = await client.post(f"/api/users/unblock/{target.id}", headers=me.headers)
    assert response.status_code == 404
    assert len((await client.get("/api/users/blocked", headers=other.headers)).json()) == 1


async def test_unblock_malformed_id(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A malformed id in the path is 400."""
    me = await make_user(ctx)
    response = await client.post("/api/users/unblock/not-a-uuid", headers=me.headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
