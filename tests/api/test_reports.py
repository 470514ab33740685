"""POST /api/reports (any user) and the admin report endpoints: shape, validation, the
duplicate and hourly limits, listing and review."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from chatalot.clock import FakeClock
from chatalot.context import Ctx
from chatalot.protocol.time import rfc3339
from tests.support.auth import TestUser, make_user

REPORT_KEYS = {
    "id",
    "reporter_id",
    "report_type",
    "target_id",
    "reason",
    "status",
    "reviewed_by",
    "reviewed_at",
    "admin_notes",
    "created_at",
}


def error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["error"]["message"])


async def make_target(ctx: Ctx, report_type: str = "user") -> uuid.UUID:
    """A user, a message (in a new channel) or a file that exists, made with SQL."""
    target = uuid.uuid4()
    async with ctx.db.transaction("test_make_target") as tx:
        if report_type == "user":
            await tx.conn.execute(
                "INSERT INTO users (id, username, display_name, email, password_hash)"
                " VALUES ($1, $2::text, 'Target', $2::text || '@example.com', 'x')",
                target,
                f"t{target.hex[:20]}",
            )
        elif report_type == "message":
            channel = uuid.uuid4()
            await tx.conn.execute(
                "INSERT INTO channels (id, name, channel_type) VALUES ($1, 'general', 'text')",
                channel,
            )
            await tx.conn.execute(
                "INSERT INTO messages (id, channel_id, ciphertext, nonce)"
                " VALUES ($1, $2, '\\x00', '\\x00')",
                target,
                channel,
            )
        else:
            await tx.conn.execute(
                "INSERT INTO files (id, encrypted_name, size_bytes, storage_path, checksum)"
                " VALUES ($1, 'name', 1, 'path', 'sum')",
                target,
            )
    return target


async def report(
    client: httpx.AsyncClient,
    user: TestUser,
    target: Any,
    *,
    report_type: str = "user",
    reason: str = "spam",
) -> httpx.Response:
    return await client.post(
        "/api/reports",
        json={"report_type": report_type, "target_id": str(target), "reason": reason},
        headers=user.headers,
    )


async def report_count(ctx: Ctx) -> int:
    async with ctx.db.connection() as conn:
        return int(await conn.fetchval("SELECT count(*) FROM reports"))


async def test_create_report_shape_and_audit(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A report starts pending with null review fields; the reason is trimmed; it is audited."""
    alice = await make_user(ctx, "alice")
    bob = await make_user(ctx, "bob")
    response = await report(client, alice, bob.id, reason="  rude messages \n")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == REPORT_KEYS
    assert body["reporter_id"] == str(alice.id)
    assert body["report_type"] == "user"
    assert body["target_id"] == str(bob.id)
    assert body["reason"] == "rude messages"
    assert body["status"] == "pending"
    assert body["reviewed_by"] is None and body["reviewed_at"] is None
    assert body["admin_notes"] is None
    assert body["created_at"] == rfc3339(ctx.clock.now())
    async with ctx.db.connection() as conn:
        row = await conn.fetchrow(
            "SELECT user_id, metadata FROM audit_log WHERE action = 'report_created'"
        )
    assert row["user_id"] == alice.id
    assert row["metadata"] == {
        "report_id": body["id"],
        "report_type": "user",
        "target_id": str(bob.id),
    }


@pytest.mark.parametrize("report_type", ["message", "user", "file"])
async def test_every_report_type_is_accepted(
    client: httpx.AsyncClient, ctx: Ctx, report_type: str
) -> None:
    """message, user and file reports of existing targets are accepted."""
    alice = await make_user(ctx, "alice")
    target = await make_target(ctx, report_type)
    response = await report(client, alice, target, report_type=report_type)
    assert response.status_code == 200, response.text
    assert response.json()["report_type"] == report_type
    assert response.json()["target_id"] == str(target)


@pytest.mark.parametrize(
    ("report_type", "message"),
    [("user", "user not found"), ("message", "message not found"), ("file", "file not found")],
)
async def test_report_of_a_missing_target_is_404(
    client: httpx.AsyncClient, ctx: Ctx, report_type: str, message: str
) -> None:
    """A report naming a user, message or file that does not exist is 404 and stores nothing;
    a target of another type with that id does not count."""
    alice = await make_user(ctx, "alice")
    response = await report(client, alice, uuid.uuid4(), report_type=report_type)
    assert error(response, 404) == message
    assert response.json()["error"]["code"] == "not_found"
    other_type = "file" if report_type == "user" else "user"
    elsewhere = await make_target(ctx, other_type)
    response = await report(client, alice, elsewhere, report_type=report_type)
    assert error(response, 404) == message
    assert await report_count(ctx) == 0


async def test_a_deleted_message_can_still_be_reported(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A message its sender deleted (soft delete) can still be reported."""
    alice = await make_user(ctx, "alice")
    target = await make_target(ctx, "message")
    async with ctx.db.transaction("test_delete_message") as tx:
        await tx.conn.execute("UPDATE messages SET deleted_at = now() WHERE id = $1", target)
    response = await report(client, alice, target, report_type="message")
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"report_type": "channel", "target_id": "{t}", "reason": "x"},
            "report_type must be 'message', 'user', or 'file'",
        ),
        (
            {"report_type": "USER", "target_id": "{t}", "reason": "x"},
            "report_type must be 'message', 'user', or 'file'",
        ),
        (
            {"report_type": "user", "target_id": "{t}", "reason": ""},
            "reason must be 1-2000 characters",
        ),
        (
            {"report_type": "user", "target_id": "{t}", "reason": " \t\n"},
            "reason must be 1-2000 characters",
        ),
        (
            {"report_type": "user", "target_id": "{t}", "reason": "x" * 2001},
            "reason must be 1-2000 characters",
        ),
        (
            {"report_type": "user", "target_id": "{t}", "reason": "é" * 1001},
            "reason must be 1-2000 characters",
        ),
        # refused at the edge (any JSON string); the service's own message is pinned in
        # tests/services/test_text_checks.py
        ({"report_type": "user", "target_id": "{t}", "reason": "a\u0000b"}, None),
        ({"report_type": "user", "target_id": "not-a-uuid", "reason": "x"}, "invalid target_id"),
        ({"report_type": "user", "target_id": "' OR 1=1 --", "reason": "x"}, "invalid target_id"),
        ({"report_type": "user", "target_id": 5, "reason": "x"}, None),
        ({"report_type": "user", "reason": "x"}, "target_id is required"),
        ({"target_id": "{t}", "reason": "x"}, "report_type is required"),
        ({"report_type": "user", "target_id": "{t}"}, "reason is required"),
        ({"report_type": "user", "target_id": "{t}", "reason": ["x"]}, None),
        ([], None),
    ],
)
async def test_create_report_bad_input(
    client: httpx.AsyncClient, ctx: Ctx, body: Any, message: str | None
) -> None:
    """Bad types, values and lengths (in bytes) are 400s and store nothing."""
    alice = await make_user(ctx, "alice")
    if isinstance(body, dict):
        body = {
            k: v.replace("{t}", str(uuid.uuid4())) if isinstance(v, str) else v
            for k, v in body.items()
        }
    response = await client.post("/api/reports", json=body, headers=alice.headers)
    text = error(response, 400)
    assert response.json()["error"]["code"] == "validation_error"
    if message is not None:
        assert text == message
    assert await report_count(ctx) == 0


async def test_reason_limits_are_bytes_and_inclusive(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """2000 bytes is accepted (1000 two-byte characters); SQL text is stored as-is."""
    alice = await make_user(ctx, "alice")
    assert (await report(client, alice, alice.id, reason="é" * 1000)).status_code == 200
    sql = "'); DROP TABLE reports; --"
    response = await report(client, alice, await make_target(ctx), reason=sql)
    assert response.status_code == 200 and response.json()["reason"] == sql
    assert await report_count(ctx) == 2


async def test_malformed_json_is_400(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Broken JSON is a validation error, not a 500."""
    alice = await make_user(ctx, "alice")
    response = await client.post(
        "/api/reports",
        content=b'{"report_type": "user",',
        headers={**alice.headers, "Content-Type": "application/json"},
    )
    error(response, 400)


async def test_duplicate_pending_report_is_409(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """The same reporter cannot report the same target again while the first report is
    pending; other reporters, other targets and reviewed reports are fine."""
    await make_user(ctx, "boss", is_admin=True, is_owner=True)
    admin = await make_user(ctx, "helper", is_admin=True)
    alice = await make_user(ctx, "alice")
    bob = await make_user(ctx, "bob")
    target = await make_target(ctx, "message")
    async with ctx.db.transaction("test_file_with_same_id") as tx:
        await tx.conn.execute(
            "INSERT INTO files (id, encrypted_name, size_bytes, storage_path, checksum)"
            " VALUES ($1, 'name', 1, 'path', 'sum')",
            target,
        )
    first = await report(client, alice, target, report_type="message")
    assert first.status_code == 200
    again = await report(client, alice, target, report_type="message", reason="really")
    assert error(again, 409) == "you already reported this"
    assert again.json()["error"]["code"] == "conflict"
    assert (await report(client, bob, target, report_type="message")).status_code == 200
    assert (await report(client, alice, target, report_type="file")).status_code == 200
    review = await client.post(
        f"/api/admin/reports/{first.json()['id']}/review",
        json={"status": "dismissed"},
        headers=admin.headers,
    )
    assert review.status_code == 200
    assert (await report(client, alice, target, report_type="message")).status_code == 200
    assert await report_count(ctx) == 4


async def test_twenty_reports_per_hour(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """The 21st report within an hour is 429 with Retry-After; once the oldest report is an
    hour old, reporting works again."""
    alice = await make_user(ctx, "alice")
    bob = await make_user(ctx, "bob")
    assert isinstance(ctx.clock, FakeClock)
    targets = [await make_target(ctx) for _ in range(23)]
    for target in targets[:20]:
        assert (await report(client, alice, target)).status_code == 200
        ctx.clock.advance(30)
    limited = await report(client, alice, targets[20])
    assert error(limited, 429).startswith("too many reports")
    assert limited.json()["error"]["code"] == "rate_limited"
    # the first report was filed 10 minutes ago: it leaves the window in 50 minutes
    assert limited.headers["retry-after"] == str(50 * 60)
    assert await report_count(ctx) == 20
    assert (await report(client, bob, targets[20])).status_code == 200  # the limit is per user
    ctx.clock.advance(50 * 60 + 1)
    alice.token = ctx.tokens.issue_access_token(
        user_id=alice.id, username="alice", is_admin=False, is_owner=False
    )  # the old one expired meanwhile
    assert (await report(client, alice, targets[21])).status_code == 200
    assert error(await report(client, alice, targets[22]), 429).startswith("too many reports")


async def seed_reports(client: httpx.AsyncClient, ctx: Ctx) -> tuple[TestUser, list[str]]:
    await make_user(ctx, "boss", is_admin=True, is_owner=True)
    admin = await make_user(ctx, "helper", is_admin=True)
    alice = await make_user(ctx, "alice")
    assert isinstance(ctx.clock, FakeClock)
    ids = []
    for n in range(4):
        response = await report(client, alice, await make_target(ctx), reason=f"reason {n}")
        ids.append(response.json()["id"])
        ctx.clock.advance(10)
    return admin, ids


async def test_admin_lists_reports_newest_first(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """The list is {reports, total, page, per_page}, newest first, with a status filter and
    paging."""
    admin, ids = await seed_reports(client, ctx)
    await client.post(
        f"/api/admin/reports/{ids[1]}/review", json={"status": "resolved"}, headers=admin.headers
    )
    response = await client.get("/api/admin/reports", headers=admin.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"reports", "total", "page", "per_page"}
    assert body["total"] == 4 and body["page"] == 1 and body["per_page"] == 50
    assert [r["id"] for r in body["reports"]] == ids[::-1]
    assert set(body["reports"][0]) == REPORT_KEYS
    pending = (await client.get("/api/admin/reports?status=pending", headers=admin.headers)).json()
    assert pending["total"] == 3
    assert [r["id"] for r in pending["reports"]] == [ids[3], ids[2], ids[0]]
    resolved = (
        await client.get("/api/admin/reports?status=resolved", headers=admin.headers)
    ).json()
    assert [r["id"] for r in resolved["reports"]] == [ids[1]]
    page = (await client.get("/api/admin/reports?page=2&per_page=3", headers=admin.headers)).json()
    assert [r["id"] for r in page["reports"]] == [ids[0]]
    assert page["total"] == 4 and page["page"] == 2 and page["per_page"] == 3


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=open", "status must be 'pending', 'reviewed', 'resolved', or 'dismissed'"),
        (
            "status=%27%20OR%201%3D1",
            "status must be 'pending', 'reviewed', 'resolved', or 'dismissed'",
        ),
        ("page=0", "page must be between 1 and 10000"),
        ("page=x", "page must be a whole number between 1 and 10000"),
        ("per_page=-1", "per_page must be between 1 and 100"),
        ("per_page=101", "per_page must be between 1 and 100"),
    ],
)
async def test_admin_list_bad_query_is_400(
    client: httpx.AsyncClient, ctx: Ctx, query: str, message: str
) -> None:
    """Unknown statuses and out-of-range paging are 400s."""
    admin, _ids = await seed_reports(client, ctx)
    response = await client.get(f"/api/admin/reports?{query}", headers=admin.headers)
    assert error(response, 400) == message


async def test_review_sets_fields_and_audits(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A review stores status, reviewer, time and notes; null notes clear them; audited."""
    admin, ids = await seed_reports(client, ctx)
    response = await client.post(
        f"/api/admin/reports/{ids[0]}/review",
        json={"status": "reviewed", "admin_notes": "looking into it"},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == REPORT_KEYS
    assert body["status"] == "reviewed"
    assert body["reviewed_by"] == str(admin.id)
    assert body["reviewed_at"] == rfc3339(ctx.clock.now())
    assert body["admin_notes"] == "looking into it"
    assert body["reason"] == "reason 0"
    cleared = await client.post(
        f"/api/admin/reports/{ids[0]}/review",
        json={"status": "resolved", "admin_notes": None},
        headers=admin.headers,
    )
    assert cleared.json()["status"] == "resolved" and cleared.json()["admin_notes"] is None
    async with ctx.db.connection() as conn:
        rows = await conn.fetch(
            "SELECT user_id, metadata FROM audit_log WHERE action = 'report_reviewed'"
        )
    assert sorted(r["metadata"]["new_status"] for r in rows) == ["resolved", "reviewed"]
    assert {r["user_id"] for r in rows} == {admin.id}
    assert {r["metadata"]["report_id"] for r in rows} == {ids[0]}


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"status": "pending"}, 400, "status must be 'reviewed', 'resolved', or 'dismissed'"),
        ({"status": "Resolved"}, 400, "status must be 'reviewed', 'resolved', or 'dismissed'"),
        (
            {"status": "resolved", "admin_notes": "n" * 5001},
            400,
            "admin notes must be at most 5000 characters",
        ),
        (
            {"status": "resolved", "admin_notes": "é" * 2501},
            400,
            "admin notes must be at most 5000 characters",
        ),
        ({"status": "resolved", "admin_notes": "a\u0000"}, 400, None),
        ({"status": 3}, 400, None),
        ({}, 400, "status is required"),
        ({"status": "resolved", "admin_notes": 7}, 400, None),
    ],
)
async def test_review_bad_input(
    client: httpx.AsyncClient, ctx: Ctx, body: Any, status: int, message: str | None
) -> None:
    """Invalid statuses, over-long notes (bytes) and wrong types are 400s; nothing changes."""
    admin, ids = await seed_reports(client, ctx)
    response = await client.post(
        f"/api/admin/reports/{ids[0]}/review", json=body, headers=admin.headers
    )
    text = error(response, status)
    if message is not None:
        assert text == message
    async with ctx.db.connection() as conn:
        assert (
            await conn.fetchval("SELECT status FROM reports WHERE id = $1", uuid.UUID(ids[0]))
            == "pending"
        )


async def test_review_unknown_or_malformed_id(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """An unknown report is 404 report not found; a malformed id is 400."""
    admin, _ids = await seed_reports(client, ctx)
    response = await client.post(
        f"/api/admin/reports/{uuid.uuid4()}/review",
        json={"status": "resolved"},
        headers=admin.headers,
    )
    assert error(response, 404) == "report not found"
    response = await client.post(
        "/api/admin/reports/nope/review", json={"status": "resolved"}, headers=admin.headers
    )
    assert error(response, 400) == "invalid report id"


async def test_plain_users_cannot_see_or_review(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Listing and reviewing are for instance admins; a plain user gets 403."""
    _admin, ids = await seed_reports(client, ctx)
    plain = await make_user(ctx, "plain")
    assert error(await client.get("/api/admin/reports", headers=plain.headers), 403) == "forbidden"
    response = await client.post(
        f"/api/admin/reports/{ids[0]}/review", json={"status": "resolved"}, headers=plain.headers
    )
    assert error(response, 403) == "forbidden"
