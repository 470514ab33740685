"""Announcements: POST/GET /api/admin/announcements, GET /api/announcements and
/api/account/announcements, POST .../{id}/dismiss on both paths: validation on every field,
the event, the audit entry, what each user sees, dismissing (idempotent, unknown id 404)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from chatalot.clock import FakeClock
from chatalot.context import Ctx
from chatalot.protocol import events
from chatalot.protocol.time import rfc3339
from chatalot.services.audience import EVERYONE
from tests.conftest import RecordingSink
from tests.support.auth import TestUser, make_user
from tests.support.spaces import sql

KEYS = {"id", "title", "body", "created_by", "created_at"}
LISTS = ("/api/announcements", "/api/account/announcements")


async def publish(
    client: httpx.AsyncClient, admin: TestUser, title: str = "Maintenance", body: str = "Tonight"
) -> httpx.Response:
    return await client.post(
        "/api/admin/announcements", json={"title": title, "body": body}, headers=admin.headers
    )


async def titles(client: httpx.AsyncClient, user: TestUser, path: str = LISTS[0]) -> list[str]:
    response = await client.get(path, headers=user.headers)
    assert response.status_code == 200
    return [a["title"] for a in response.json()]


async def test_publish_emits_audits_and_answers(
    ctx: Ctx, client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    admin = await make_user(ctx, is_admin=True)
    response = await publish(client, admin, "  Maintenance ", "Line one\nLine two\ttabbed")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == KEYS
    assert body["title"] == "  Maintenance " and body["body"] == "Line one\nLine two\ttabbed"
    assert body["created_by"] == str(admin.id)
    assert body["created_at"] == rfc3339(ctx.clock.now())
    [emitted] = sink.published
    assert emitted.audience == EVERYONE
    assert emitted.event == events.Announcement(
        id=body["id"],
        title=body["title"],
        body=body["body"],
        created_by=str(admin.id),
        created_at=body["created_at"],
    )
    [audit] = await sql(ctx, "SELECT user_id, action, metadata FROM audit_log")
    assert audit["user_id"] == admin.id and audit["action"] == "admin_create_announcement"
    assert audit["metadata"]["announcement_id"] == body["id"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"title": "", "body": "b"}, "title must be 1-200 characters"),
        ({"title": "   ", "body": "b"}, "title must be 1-200 characters"),
        ({"title": "t" * 201, "body": "b"}, "title must be 1-200 characters"),
        ({"title": "ü" * 101, "body": "b"}, "title must be 1-200 characters"),
        ({"title": "a\nb", "body": "b"}, "title must not contain control"),
        ({"title": "t", "body": ""}, "body must be 1-5000 characters"),
        ({"title": "t", "body": " \n "}, "body must be 1-5000 characters"),
        ({"title": "t", "body": "b" * 5001}, "body must be 1-5000 characters"),
        ({"title": "t", "body": "bad\x1b[31m"}, "body must not contain control"),
        ({"title": 1, "body": "b"}, ""),
        ({"title": "t", "body": None}, ""),
        ({"title": "t"}, ""),
        ({}, ""),
    ],
)
async def test_publish_refuses_bad_input(
    ctx: Ctx,
    client: httpx.AsyncClient,
    sink: RecordingSink,
    body: dict[str, Any],
    message: str,
) -> None:
    admin = await make_user(ctx, is_admin=True)
    response = await client.post("/api/admin/announcements", json=body, headers=admin.headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert response.json()["error"]["message"].startswith(message)
    assert await sql(ctx, "SELECT 1 FROM announcements") == []
    assert await sql(ctx, "SELECT 1 FROM audit_log") == []
    assert sink.published == []


async def test_publish_accepts_the_limits(ctx: Ctx, client: httpx.AsyncClient) -> None:
    admin = await make_user(ctx, is_admin=True)
    assert (await publish(client, admin, "t" * 200, "b" * 5000)).status_code == 200
    assert (await publish(client, admin, "ü" * 100, "€")).status_code == 200


async def test_only_admins_publish_and_list_all(ctx: Ctx, client: httpx.AsyncClient) -> None:
    user = await make_user(ctx)
    owner = await make_user(ctx, is_admin=True, is_owner=True)
    assert (await publish(client, user)).status_code == 403
    # a bad body from a plain user is still a 403
    assert (await publish(client, user, "")).status_code == 403
    listed = await client.get("/api/admin/announcements", headers=user.headers)
    assert listed.status_code == 403
    assert (await publish(client, owner)).status_code == 200
    assert await sql(ctx, "SELECT 1 FROM announcements") != []


async def test_lists_newest_first_and_dismissals(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Users see the ones they have not dismissed (both paths, newest first); the admin list
    ignores dismissals; dismissing twice is fine; another user is unaffected."""
    clock = ctx.clock
    assert isinstance(clock, FakeClock)
    admin = await make_user(ctx, is_admin=True)
    alice, bob = await make_user(ctx), await make_user(ctx)
    ids = []
    for title in ("first", "second", "third"):
        ids.append((await publish(client, admin, title)).json()["id"])
        clock.advance(1)
    for path in LISTS:
        assert await titles(client, alice, path) == ["third", "second", "first"]
        answer = (await client.get(path, headers=alice.headers)).json()
        assert all(set(a) == KEYS for a in answer)

    first = await client.post(f"/api/announcements/{ids[1]}/dismiss", headers=alice.headers)
    assert first.status_code == 200 and first.content == b""
    again = await client.post(
        f"/api/account/announcements/{ids[1]}/dismiss", json={}, headers=alice.headers
    )
    assert again.status_code == 200
    alias = await client.post(f"/api/account/announcements/{ids[0]}/dismiss", headers=alice.headers)
    assert alias.status_code == 200
    for path in LISTS:
        assert await titles(client, alice, path) == ["third"]
    assert await titles(client, bob) == ["third", "second", "first"]
    assert await titles(client, admin, "/api/admin/announcements") == [
        "third",
        "second",
        "first",
    ]
    rows = await sql(ctx, "SELECT 1 FROM announcement_dismissals WHERE user_id = $1", alice.id)
    assert len(rows) == 2


async def test_list_caps(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Users get at most 50, the admin list at most 100."""
    admin = await make_user(ctx, is_admin=True)
    await sql(
        ctx,
        "INSERT INTO announcements (id, title, body, created_by, created_at)"
        " SELECT gen_random_uuid(), 'a' || n, 'b', $1, now() - make_interval(secs => n)"
        " FROM generate_series(1, 120) n",
        admin.id,
    )
    user = await make_user(ctx)
    got = await titles(client, user)
    assert len(got) == 50 and got[:2] == ["a1", "a2"]
    assert len(await titles(client, admin, "/api/admin/announcements")) == 100


async def test_dismiss_unknown_or_bad_id(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """The original answered 500 for an unknown id (a foreign-key error): 404 here."""
    user = await make_user(ctx)
    for base in ("/api/announcements", "/api/account/announcements"):
        unknown = await client.post(f"{base}/{uuid.uuid4()}/dismiss", headers=user.headers)
        assert unknown.status_code == 404
        assert unknown.json()["error"] == {
            "code": "not_found",
            "message": "announcement not found",
        }
        bad = await client.post(f"{base}/nope/dismiss", headers=user.headers)
        assert bad.status_code == 400
        assert bad.json()["error"]["message"] == "invalid announcement id"
    assert await sql(ctx, "SELECT 1 FROM announcement_dismissals") == []


async def test_deleted_author_shows_null(ctx: Ctx, client: httpx.AsyncClient) -> None:
    admin = await make_user(ctx, is_admin=True)
    assert (await publish(client, admin)).status_code == 200
    await sql(ctx, "DELETE FROM users WHERE id = $1", admin.id)
    user = await make_user(ctx)
    [item] = (await client.get("/api/announcements", headers=user.headers)).json()
    assert item["created_by"] is None
