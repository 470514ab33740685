"""The instance admin's content tools: purges, the file list and its filters, file and
message quarantine, storage statistics and the hash blocklist, with bad input for each."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from chatalot.context import Ctx
from chatalot.ids import ChannelId, uuid7
from chatalot.protocol import events
from chatalot.services import admin_content
from chatalot.services.audience import ChannelSubscribers
from tests.api.test_pins import insert, sql
from tests.conftest import RecordingSink
from tests.support.auth import TestUser, make_user
from tests.support.responses import error
from tests.support.spaces import add_channel_member, make_channel


async def add_file(
    ctx: Ctx,
    uploader: Any,
    *,
    channel: ChannelId | None = None,
    name: str = "photo.png",
    content: bytes = b"file content",
    content_type: str = "image/png",
    thumbnail: bool = True,
    created_at: datetime | None = None,
) -> uuid.UUID:
    """A stored file (blob, optional thumbnail and row), counted in the uploader's quota."""
    file_id = uuid7()
    key = f"{str(file_id)[:2]}/{file_id}"
    await ctx.storage.put_bytes(key, content)
    if thumbnail:
        await ctx.storage.put_bytes(f"{key}_thumb", b"\xff\xd8\xff")
    await sql(
        ctx,
        "INSERT INTO files (id, uploader_id, encrypted_name, size_bytes, content_type,"
        " storage_path, checksum, channel_id, thumbnail_path, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, COALESCE($10, now()))",
        file_id,
        uploader,
        name,
        len(content),
        content_type,
        key,
        hashlib.sha256(content).hexdigest(),
        channel,
        f"{key}_thumb" if thumbnail else None,
        created_at,
    )
    if uploader is not None:
        await sql(
            ctx,
            "UPDATE users SET upload_bytes_used = upload_bytes_used + $2 WHERE id = $1",
            uploader,
            len(content),
        )
    return file_id


def key_of(file_id: uuid.UUID) -> str:
    return f"{str(file_id)[:2]}/{file_id}"


async def quota(ctx: Ctx, user: Any) -> int:
    [row] = await sql(ctx, "SELECT upload_bytes_used FROM users WHERE id = $1", user)
    return int(row["upload_bytes_used"])


async def audit(ctx: Ctx, action: str) -> list[dict[str, Any]]:
    rows = await sql(
        ctx, "SELECT metadata FROM audit_log WHERE action = $1 ORDER BY created_at", action
    )
    return [dict(r["metadata"]) for r in rows]


async def count(ctx: Ctx, query: str, *args: Any) -> int:
    [row] = await sql(ctx, query, *args)
    return int(row[0])


@pytest.fixture
async def admin(ctx: Ctx) -> TestUser:
    return await make_user(ctx, is_admin=True)


# --- purge one message ------------------------------------------------------------------------


async def test_purging_a_message_others_replied_to_keeps_the_replies(
    client: httpx.AsyncClient, ctx: Ctx, admin: TestUser, sink: RecordingSink
) -> None:
    author = await make_user(ctx)
    channel = await make_channel(ctx, None, author.id)
    root = await insert(ctx, channel, author.id)
    reply = await insert(ctx, channel, author.id, reply_to_id=root)
    in_thread = await insert(ctx, channel, author.id, thread_id=root)
    await sql(
        ctx,
        "INSERT INTO reactions (id, message_id, user_id, emoji) VALUES ($1, $2, $3, 'x')",
        uuid7(),
        root,
        author.id,
    )
    sink.published.clear()

    response = await client.post(f"/api/admin/purge/message/{root}", headers=admin.headers)

    assert response.status_code == 200, response.text
    assert response.json() == {"messages_deleted": 1, "files_deleted": 0, "hashes_blocked": 0}
    assert await count(ctx, "SELECT count(*) FROM messages WHERE id = $1", root) == 0
    rows = await sql(
        ctx,
        "SELECT reply_to_id, thread_id FROM messages WHERE id = ANY($1::uuid[]) ORDER BY id",
        [reply, in_thread],
    )
    assert [(r["reply_to_id"], r["thread_id"]) for r in rows] == [(None, None), (None, None)]
    assert await count(ctx, "SELECT count(*) FROM reactions WHERE message_id = $1", root) == 0
    [emitted] = sink.published
    assert emitted.event == events.MessageDeleted(message_id=str(root))
    assert emitted.audience == ChannelSubscribers(channel)
    assert await audit(ctx, "admin_purge_message") == [
        {"message_id": str(root), "channel_id": str(channel), "block_hashes": False}
    ]


async def test_purging_a_message_twice_or_an_unknown_one_is_404(
    client: httpx.AsyncClient, ctx: Ctx, admin: TestUser
) -> None:
    author = await make_user(ctx)
    message = await insert(ctx, await make_channel(ctx, None, author.id), author.id)
    url = f"/api/admin/purge/message/{message}"
    assert (await client.post(url, headers=admin.headers)).status_code == 200
    assert error(await client.post(url, headers=admin.headers)) == (404, "message not found")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/api/admin/purge/message/nope", "invalid message id"),
        ("/api/admin/purge/message/{id}?block_hashes=yes", "block_hashes must be true or false"),
        ("/api/admin/purge/user/12/messages", "invalid user id"),
        ("/api/admin/purge/channel/{id}?block_hashes=1", "block_hashes must be true or false"),
    ],
)
async def test_purge_bad_input_is_400(
    client: httpx.AsyncClient, admin: TestUser, path: str, message: str
) -> None:
    response = await client.post(path.format(id=uuid.uuid4()), headers=admin.headers)
    assert error(response) == (400, message)


# --- purge a user's messages / a channel ------------------------------------------------------


async def test_purging_a_user_removes_their_messages_files_and_thumbnails(
    client: httpx.AsyncClient,
    ctx: Ctx,
    admin: TestUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(admin_content, "PURGE_BATCH", 2)  # several batches
    spammer, bystander = await make_user(ctx), await make_user(ctx)
    channel = await make_channel(ctx, None, spammer.id)
    await add_channel_member(ctx, channel, bystander.id)
    for _ in range(5):
        await insert(ctx, channel, spammer.id)
    kept = await insert(ctx, channel, bystander.id)
    first = await add_file(ctx, spammer.id, content=b"spam one")
    second = await add_file(ctx, spammer.id, content=b"spam two", thumbnail=False)
    other = await add_file(ctx, bystander.id, content=b"holiday")

    response = await client.post(
        f"/api/admin/purge/user/{spammer.id}/messages?block_hashes=true", headers=admin.headers
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"messages_deleted": 5, "files_deleted": 2, "hashes_blocked": 2}
    assert await count(ctx, "SELECT count(*) FROM messages WHERE channel_id = $1", channel) == 1
    assert await count(ctx, "SELECT count(*) FROM messages WHERE id = $1", kept) == 1
    for gone in (first, second):
        assert await ctx.storage.stat(key_of(gone)) is None
    assert await ctx.storage.stat(key_of(first) + "_thumb") is None
    assert await ctx.storage.stat(key_of(other)) is not None
    assert await count(ctx, "SELECT count(*) FROM files WHERE uploader_id = $1", spammer.id) == 0
    assert await quota(ctx, spammer.id) == 0
    assert await quota(ctx, bystander.id) == len(b"holiday")
    blocked = await sql(ctx, "SELECT hash, reason FROM blocked_hashes ORDER BY hash")
    assert sorted(r["hash"] for r in blocked) == sorted(
        hashlib.sha256(c).hexdigest() for c in (b"spam one", b"spam two")
    )
    assert {r["reason"] for r in blocked} == {"auto-blocked via admin purge"}
    assert await audit(ctx, "admin_purge_user_messages") == [
        {
            "target_user_id": str(spammer.id),
            "messages_deleted": 5,
            "files_deleted": 2,
            "hashes_blocked": 2,
        }
    ]


async def test_purging_without_block_hashes_blocks_nothing(
    client: httpx.AsyncClient, ctx: Ctx, admin: TestUser
) -> None:
    user = await make_user(ctx)
    await add_file(ctx, user.id)
    response = await client.post(f"/api/admin/purge/user/{user.id}/messages", headers=admin.headers)
    assert response.json() == {"messages_deleted": 0, "files_deleted": 1, "hashes_blocked": 0}
    assert await count(ctx, "SELECT count(*) FROM blocked_hashes") == 0


async def test_purging_an_unknown_user_is_404(client: httpx.AsyncClient, admin: TestUser) -> None:
    response = await client.post(
        f"/api/admin/purge/user/{uuid.uuid4()}/messages", headers=admin.headers
    )
    assert error(response) == (404, "user not found")


async def test_purging_a_channel_keeps_the_channel_and_other_channels(
    client: httpx.AsyncClient,
    ctx: Ctx,
    admin: TestUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(admin_content, "PURGE_BATCH", 3)
    owner = await make_user(ctx)
    channel = await make_channel(ctx, None, owner.id)
    elsewhere = await make_channel(ctx, None, owner.id, name="other")
    for _ in range(7):
        await insert(ctx, channel, owner.id)
    survivor = await insert(ctx, elsewhere, owner.id)
    shared = await add_file(ctx, owner.id, channel=channel)
    private = await add_file(ctx, owner.id, content=b"private")

    response = await client.post(f"/api/admin/purge/channel/{channel}", headers=admin.headers)

    assert response.json() == {"messages_deleted": 7, "files_deleted": 1, "hashes_blocked": 0}
    assert await count(ctx, "SELECT count(*) FROM channels WHERE id = $1", channel) == 1
    assert await count(ctx, "SELECT count(*) FROM messages WHERE id = $1", survivor) == 1
    assert await ctx.storage.stat(key_of(shared)) is None
    assert await ctx.storage.stat(key_of(private)) is not None
    [entry] = await audit(ctx, "admin_purge_channel")
    assert entry["channel_id"] == str(channel) and entry["messages_deleted"] == 7
    missing = await client.post(f"/api/admin/purge/channel/{uuid.uuid4()}", headers=admin.headers)
    assert error(missing) == (404, "channel not found")


# --- files ------------------------------------------------------------------------------------


async def test_the_file_list_filters_sorts_and_pages(
    client: httpx.AsyncClient, ctx: Ctx, admin: TestUser
) -> None:
    alice, bob = await make_user(ctx), await make_user(ctx)
    old = datetime(2025, 1, 1, tzinfo=UTC)
    small = await add_file(ctx, alice.id, name="a_b.png", content=b"1", created_at=old)
    big = await add_file(
        ctx, alice.id, name="aXb.pdf", content=b"1" * 50, content_type="application/pdf"
    )
    bobs = await add_file(
        ctx, bob.id, name="100%.txt", content=b"12", content_type="text/plain", thumbnail=False
    )

    async def ids(query: str) -> list[str]:
        response = await client.get(f"/api/admin/files{query}", headers=admin.headers)
        assert response.status_code == 200, response.text
        return [f["id"] for f in response.json()["files"]]

    assert await ids("") == [str(bobs), str(big), str(small)]
    assert await ids("?sort=size") == [str(big), str(bobs), str(small)]
    assert await ids(f"?user_id={alice.id}") == [str(big), str(small)]
    assert await ids("?search=a_b") == [str(small)]  # "_" is literal, not a wildcard
    assert await ids("?search=100%25") == [str(bobs)]
    assert await ids("?content_type=image/") == [str(small)]
    assert await ids("?date_to=2025-06-01T00:00:00Z") == [str(small)]
    assert await ids("?date_from=2025-06-01T00:00:00Z&sort=size") == [str(big), str(bobs)]
    page = await client.get("/api/admin/files?per_page=2&page=2", headers=admin.headers)
    body = page.json()
    assert (body["total"], body["page"], body["per_page"]) == (3, 2, 2)
    [entry] = body["files"]
    assert entry["id"] == str(small)
    assert entry["has_thumbnail"] is True
    assert set(entry) == {
        "id",
        "uploader_id",
        "encrypted_name",
        "size_bytes",
        "content_type",
        "checksum",
        "channel_id",
        "quarantined_at",
        "quarantined_by",
        "created_at",
        "has_thumbnail",
    }


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("page=0", "page must be between 1 and 10000"),
        ("per_page=0", "per_page must be between 1 and 100"),
        ("per_page=-5", "per_page must be between 1 and 100"),
        ("page=abc", "page must be a whole number between 1 and 10000"),
        ("user_id=bob", "invalid user_id"),
        (
            "date_from=yesterday",
            "date_from must be an RFC 3339 date-time, e.g. 2026-01-31T12:00:00Z",
        ),
    ],
)
async def test_the_file_list_refuses_bad_paging_and_filters(
    client: httpx.AsyncClient, admin: TestUser, query: str, message: str
) -> None:
    response = await client.get(f"/api/admin/files?{query}", headers=admin.headers)
    assert error(response) == (400, message)


async def test_an_admin_delete_removes_blob_and_thumbnail_and_can_block_the_hash(
    client: httpx.AsyncClient, ctx: Ctx, admin: TestUser
) -> None:
    user = await make_user(ctx)
    file_id = await add_file(ctx, user.id, content=b"illegal")
    response = await client.delete(
        f"/api/admin/files/{file_id}?block_hashes=true", headers=admin.headers
    )
    assert response.status_code == 200, response.text
    assert await ctx.storage.stat(key_of(file_id)) is None
    assert await ctx.storage.stat(key_of(file_id) + "_thumb") is None
    assert await quota(ctx, user.id) == 0
    [blocked] = await sql(ctx, "SELECT hash, reason FROM blocked_hashes")
    assert blocked["hash"] == hashlib.sha256(b"illegal").hexdigest()
    assert blocked["reason"] == "blocked via admin file delete"
    assert await audit(ctx, "admin_delete_file") == [
        {
            "file_id": str(file_id),
            "uploader_id": str(user.id),
            "checksum": hashlib.sha256(b"illegal").hexdigest(),
        }
    ]
    again = await client.delete(f"/api/admin/files/{file_id}", headers=admin.headers)
    assert error(again) == (404, "file not found")


async def test_quarantine_hides_a_file_from_its_uploader_until_lifted(
    client: httpx.AsyncClient, ctx: Ctx, admin: TestUser
) -> None:
    user = await make_user(ctx)
    file_id = await add_file(ctx, user.id)
    assert (await client.get(f"/api/files/{file_id}", headers=user.headers)).status_code == 200

    url = f"/api/admin/files/{file_id}"
    assert (await client.post(f"{url}/quarantine", headers=admin.headers)).status_code == 200
    assert error(await client.post(f"{url}/quarantine", headers=admin.headers)) == (
        404,
        "file not found or already quarantined",
    )
    assert (await client.get(f"/api/files/{file_id}", headers=user.headers)).status_code == 403
    assert (await client.get(f"/api/files/{file_id}", headers=admin.headers)).status_code == 200
    listed = (await client.get("/api/admin/files", headers=admin.headers)).json()["files"]
    assert listed[0]["quarantined_by"] == str(admin.id)

    assert (await client.post(f"{url}/unquarantine", headers=admin.headers)).status_code == 200
    assert error(await client.post(f"{url}/unquarantine", headers=admin.headers)) == (
        404,
        "file not found or not quarantined",
    )
    assert (await client.get(f"/api/files/{file_id}", headers=user.headers)).status_code == 200
    assert [e["file_id"] for e in await audit(ctx, "admin_quarantine_file")] == [str(file_id)]
    assert [e["file_id"] for e in await audit(ctx, "admin_unquarantine_file")] == [str(file_id)]


async def test_storage_stats_sum_per_uploader_largest_first(
    client: httpx.AsyncClient, ctx: Ctx, admin: TestUser
) -> None:
    alice, bob = await make_user(ctx), await make_user(ctx)
    await add_file(ctx, alice.id, content=b"12")
    await add_file(ctx, alice.id, content=b"345")
    await add_file(ctx, bob.id, content=b"1" * 10)
    await add_file(ctx, None, content=b"1")  # the uploader's account was deleted

    response = await client.get("/api/admin/storage-stats", headers=admin.headers)

    assert response.json() == {
        "total_files": 4,
        "total_bytes": 16,
        "per_user": [
            {"user_id": str(bob.id), "file_count": 1, "total_bytes": 10},
            {"user_id": str(alice.id), "file_count": 2, "total_bytes": 5},
            {"user_id": None, "file_count": 1, "total_bytes": 1},
        ],
        "backend": "local",
    }


# --- message quarantine -----------------------------------------------------------------------


async def test_a_quarantined_message_leaves_history_until_lifted(
    client: httpx.AsyncClient, ctx: Ctx, admin: TestUser
) -> None:
    author = await make_user(ctx)
    channel = await make_channel(ctx, None, author.id)
    message = await insert(ctx, channel, author.id)
    history = f"/api/channels/{channel}/messages"

    async def visible() -> list[str]:
        return [m["id"] for m in (await client.get(history, headers=author.headers)).json()]

    url = f"/api/admin/messages/{message}"
    assert (await client.post(f"{url}/quarantine", headers=admin.headers)).status_code == 200
    assert await visible() == []
    assert error(await client.post(f"{url}/quarantine", headers=admin.headers)) == (
        404,
        "message not found or already quarantined",
    )
    assert (await client.post(f"{url}/unquarantine", headers=admin.headers)).status_code == 200
    assert await visible() == [str(message)]
    assert error(await client.post(f"{url}/unquarantine", headers=admin.headers)) == (
        404,
        "message not found or not quarantined",
    )
    assert await audit(ctx, "admin_quarantine_message") == [{"message_id": str(message)}]
    bad = await client.post("/api/admin/messages/x/quarantine", headers=admin.headers)
    assert error(bad) == (400, "invalid message id")


# --- the hash blocklist -----------------------------------------------------------------------


async def test_blocking_a_hash_refuses_uploads_and_quarantines_existing_copies(
    client: httpx.AsyncClient, ctx: Ctx, admin: TestUser
) -> None:
    user = await make_user(ctx)
    content = b"known bad file\n"
    existing = await add_file(ctx, user.id, content=content, content_type="text/plain")
    digest = hashlib.sha256(content).hexdigest()

    response = await client.post(
        "/api/admin/blocked-hashes",
        headers=admin.headers,
        json={"hash": digest.upper(), "reason": "csam list"},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["hash"] == digest  # stored lowercase, as upload checksums are
    assert (body["reason"], body["blocked_by"]) == ("csam list", str(admin.id))
    [row] = await sql(ctx, "SELECT quarantined_at FROM files WHERE id = $1", existing)
    assert row["quarantined_at"] is not None
    upload = await client.post(
        "/api/files/upload",
        headers=user.headers,
        files={"file": ("again.txt", content, "text/plain")},
    )
    assert error(upload) == (400, "this file has been blocked by an administrator")
    assert await audit(ctx, "admin_block_hash") == [{"hash": digest, "reason": "csam list"}]


async def test_blocking_a_hash_again_updates_its_reason_only(
    client: httpx.AsyncClient, ctx: Ctx, admin: TestUser
) -> None:
    digest = "0f" * 32
    first = await client.post(
        "/api/admin/blocked-hashes", headers=admin.headers, json={"hash": digest}
    )
    second = await client.post(
        "/api/admin/blocked-hashes",
        headers=admin.headers,
        json={"hash": digest, "reason": "now explained"},
    )
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["created_at"] == first.json()["created_at"]
    assert second.json()["reason"] == "now explained"
    listed = await client.get("/api/admin/blocked-hashes", headers=admin.headers)
    assert [h["hash"] for h in listed.json()] == [digest]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"hash": "ab" * 31}, "hash must be a 64-character hex SHA256"),
        ({"hash": "zz" * 32}, "hash must be a 64-character hex SHA256"),
        ({"hash": "ab" * 32 + "\n"}, "hash must be a 64-character hex SHA256"),
        ({"hash": "ab" * 32, "reason": "r" * 501}, "reason must be at most 500 characters"),
    ],
)
async def test_blocking_refuses_bad_hashes_and_reasons(
    client: httpx.AsyncClient, ctx: Ctx, admin: TestUser, body: dict[str, Any], message: str
) -> None:
    response = await client.post("/api/admin/blocked-hashes", headers=admin.headers, json=body)
    assert error(response) == (400, message)
    assert await count(ctx, "SELECT count(*) FROM blocked_hashes") == 0


async def test_the_blocklist_pages_newest_first_and_entries_can_be_removed(
    client: httpx.AsyncClient, ctx: Ctx, admin: TestUser
) -> None:
    ids = []
    for n in range(3):
        response = await client.post(
            "/api/admin/blocked-hashes", headers=admin.headers, json={"hash": f"{n}" * 64}
        )
        ids.append(response.json()["id"])
        await sql(
            ctx,
            "UPDATE blocked_hashes SET created_at = now() + $2 * interval '1 second' WHERE id = $1",
            uuid.UUID(ids[-1]),
            n,
        )
    page = await client.get("/api/admin/blocked-hashes?per_page=2&page=1", headers=admin.headers)
    assert [h["id"] for h in page.json()] == [ids[2], ids[1]]
    url = f"/api/admin/blocked-hashes/{ids[0]}"
    assert (await client.delete(url, headers=admin.headers)).status_code == 200
    assert error(await client.delete(url, headers=admin.headers)) == (
        404,
        "blocked hash not found",
    )
    assert await audit(ctx, "admin_unblock_hash") == [{"hash_id": ids[0]}]
    bad = await client.get("/api/admin/blocked-hashes?per_page=101", headers=admin.headers)
    assert error(bad) == (400, "per_page must be between 1 and 100")


async def test_purged_time_filters_accept_offsets(
    client: httpx.AsyncClient, ctx: Ctx, admin: TestUser
) -> None:
    user = await make_user(ctx)
    when = datetime.now(UTC) - timedelta(days=3)
    file_id = await add_file(ctx, user.id, created_at=when)
    frm = (when - timedelta(hours=1)).isoformat()
    response = await client.get(
        "/api/admin/files", params={"date_from": frm}, headers=admin.headers
    )
    assert [f["id"] for f in response.json()["files"]] == [str(file_id)]
