"""/api/admin/users*: listing accounts, suspend/unsuspend, delete, admin flag, password reset,
and who may do what to whom."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from chatalot.context import Ctx
from chatalot.ids import UserId, uuid7
from chatalot.services.audience import AccessRevoked
from tests.conftest import RecordingSink
from tests.support.auth import PASSWORD, TestUser, bearer, make_user, register

NEW_PASSWORD = "N3w-Password!"
AUDIT_SQL = (
    "SELECT user_id, action, ip_address, user_agent, metadata FROM audit_log WHERE action = $1"
)


async def audit_rows(ctx: Ctx, action: str) -> list[dict[str, Any]]:
    async with ctx.db.connection() as conn:
        return [dict(r) for r in await conn.fetch(AUDIT_SQL, action)]


async def user_flags(ctx: Ctx, user_id: UserId) -> dict[str, Any] | None:
    async with ctx.db.connection() as conn:
        row = await conn.fetchrow(
            "SELECT is_admin, is_owner, suspended_at, suspended_reason, password_hash"
            " FROM users WHERE id = $1",
            user_id,
        )
    return dict(row) if row else None


async def make_community(
    ctx: Ctx, name: str, owner: UserId, members: dict[UserId, str]
) -> uuid.UUID:
    community_id = uuid7()
    async with ctx.db.transaction("test_make_community") as tx:
        await tx.conn.execute(
            "INSERT INTO communities (id, name, owner_id) VALUES ($1, $2, $3)",
            community_id,
            name,
            owner,
        )
        for user_id, role in members.items():
            await tx.conn.execute(
                "INSERT INTO community_members (community_id, user_id, role) VALUES ($1, $2, $3)",
                community_id,
                user_id,
                role,
            )
    return community_id


async def make_group(
    ctx: Ctx, name: str, community_id: uuid.UUID, owner: UserId, members: dict[UserId, str]
) -> uuid.UUID:
    group_id = uuid7()
    async with ctx.db.transaction("test_make_group") as tx:
        await tx.conn.execute(
            "INSERT INTO groups (id, name, owner_id, community_id) VALUES ($1, $2, $3, $4)",
            group_id,
            name,
            owner,
            community_id,
        )
        for user_id, role in members.items():
            await tx.conn.execute(
                "INSERT INTO group_members (group_id, user_id, role) VALUES ($1, $2, $3)",
                group_id,
                user_id,
                role,
            )
    return group_id


async def make_dm(ctx: Ctx, a: UserId, b: UserId) -> uuid.UUID:
    channel_id = uuid7()
    low, high = sorted([a, b])
    async with ctx.db.transaction("test_make_dm") as tx:
        await tx.conn.execute(
            "INSERT INTO channels (id, channel_type) VALUES ($1, 'dm')", channel_id
        )
        for user_id in (a, b):
            await tx.conn.execute(
                "INSERT INTO channel_members (channel_id, user_id) VALUES ($1, $2)",
                channel_id,
                user_id,
            )
        await tx.conn.execute(
            "INSERT INTO dm_pairs (user_a, user_b, channel_id) VALUES ($1, $2, $3)",
            low,
            high,
            channel_id,
        )
    return channel_id


async def staff(ctx: Ctx) -> tuple[TestUser, TestUser]:
    owner = await make_user(ctx, "boss", is_admin=True, is_owner=True)
    admin = await make_user(ctx, "helper", is_admin=True)
    return owner, admin


def error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    return str(body["error"]["message"])


# -- listing -------------------------------------------------------------------------------


async def test_list_users_shape_and_memberships(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Each entry has exactly the AdminUserResponse keys, e-mail included, with groups and
    communities sorted by name and empty lists for users without any."""
    owner, _admin = await staff(ctx)
    alice = await make_user(ctx, "alice")
    zeta = await make_community(ctx, "Zeta", owner.id, {alice.id: "moderator"})
    alpha = await make_community(ctx, "Alpha", owner.id, {alice.id: "member"})
    general = await make_group(ctx, "general", zeta, owner.id, {alice.id: "admin"})
    response = await client.get("/api/admin/users", headers=owner.headers)
    assert response.status_code == 200, response.text
    by_name = {u["username"]: u for u in response.json()}
    entry = by_name["alice"]
    assert set(entry) == {
        "id",
        "username",
        "display_name",
        "email",
        "avatar_url",
        "is_admin",
        "is_owner",
        "suspended_at",
        "suspended_reason",
        "created_at",
        "groups",
        "communities",
    }
    assert entry["id"] == str(alice.id)
    assert entry["email"] == "alice@example.com"
    assert entry["suspended_at"] is None and entry["suspended_reason"] is None
    assert entry["created_at"].endswith("+00:00")
    assert entry["communities"] == [
        {"id": str(alpha), "name": "Alpha", "role": "member"},
        {"id": str(zeta), "name": "Zeta", "role": "moderator"},
    ]
    assert entry["groups"] == [{"id": str(general), "name": "general", "role": "admin"}]
    assert by_name["helper"]["groups"] == [] and by_name["helper"]["communities"] == []
    assert by_name["boss"]["is_owner"] is True


async def test_list_users_memberships_use_two_queries(
    client: httpx.AsyncClient, ctx: Ctx, db_conn: Any
) -> None:
    """Memberships of a whole page are fetched with one query per kind, not one per user."""
    owner, _admin = await staff(ctx)
    community = await make_community(ctx, "Town", owner.id, {})
    for n in range(6):
        member = await make_user(ctx, f"resident{n}")
        await make_group(ctx, f"g{n}", community, owner.id, {member.id: "member"})
    queries: list[str] = []
    db_conn.add_query_logger(lambda record: queries.append(record.query))
    response = await client.get("/api/admin/users", headers=owner.headers)
    assert response.status_code == 200
    assert len(response.json()) == 8
    assert sum("FROM group_members" in q for q in queries) == 1
    assert sum("FROM community_members" in q for q in queries) == 1


async def test_list_users_newest_first_with_limit_and_offset(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """Order is created_at DESC; limit and offset page through it."""
    owner, admin = await staff(ctx)
    users = [await make_user(ctx, f"aged{n}") for n in range(3)]
    async with ctx.db.connection() as conn:
        for age, user in enumerate([owner, admin, *users]):
            await conn.execute(
                "UPDATE users SET created_at = now() - make_interval(days => $2) WHERE id = $1",
                user.id,
                10 - age,
            )
    response = await client.get("/api/admin/users", headers=admin.headers)
    assert [u["username"] for u in response.json()] == ["aged2", "aged1", "aged0", "helper", "boss"]
    page = await client.get("/api/admin/users?limit=2&offset=1", headers=admin.headers)
    assert [u["username"] for u in page.json()] == ["aged1", "aged0"]
    beyond = await client.get("/api/admin/users?offset=50", headers=admin.headers)
    assert beyond.status_code == 200 and beyond.json() == []


@pytest.mark.parametrize(("limit", "count"), [("0", 1), ("-5", 1), ("1", 1), ("1000", 3)])
async def test_list_users_limit_is_clamped(
    client: httpx.AsyncClient, ctx: Ctx, limit: str, count: int
) -> None:
    """limit is clamped to 1..100 instead of failing (the original gave a 500 when negative)."""
    owner, _admin = await staff(ctx)
    await make_user(ctx, "third")
    response = await client.get(f"/api/admin/users?limit={limit}", headers=owner.headers)
    assert response.status_code == 200, response.text
    assert len(response.json()) == count


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("offset=-1", "offset must be between 0 and 1000000000"),
        ("offset=abc", "offset must be a whole number between 0 and 1000000000"),
        ("limit=ten", "limit must be a whole number between 1 and 100"),
        ("offset=99999999999999999999999", "offset must be between 0 and 1000000000"),
        ("search=" + "x" * 257, "search must be at most 256 characters"),
        ("search=a%00b", "the URL must not contain the NUL character (%00)"),  # refused by the edge
    ],
)
async def test_list_users_bad_query_is_400(
    client: httpx.AsyncClient, ctx: Ctx, query: str, message: str
) -> None:
    """Bad paging values and unusable search text are 400s, never 500s."""
    owner, _admin = await staff(ctx)
    response = await client.get(f"/api/admin/users?{query}", headers=owner.headers)
    assert error(response, 400) == message


async def test_list_users_search_is_literal_and_case_insensitive(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """search matches username, display name or e-mail ignoring case; % _ and \\ are literal."""
    owner, _admin = await staff(ctx)
    await make_user(ctx, "under_score")
    await make_user(ctx, "underXscore")
    await make_user(ctx, "plainname")
    async with ctx.db.connection() as conn:
        await conn.execute(
            "UPDATE users SET display_name = '100% Real\\Name', email = 'Mixed@Case.example'"
            " WHERE username = 'plainname'"
        )

    async def names(search: str) -> list[str]:
        response = await client.get(
            "/api/admin/users", params={"search": search}, headers=owner.headers
        )
        assert response.status_code == 200, response.text
        return sorted(u["username"] for u in response.json())

    assert await names("_") == ["under_score"]
    assert await names("UNDER") == ["underXscore", "under_score"]
    assert await names("%") == ["plainname"]
    assert await names("\\") == ["plainname"]
    assert await names("mixed@case") == ["plainname"]
    assert await names("' OR '1'='1") == []
    assert len(await names("   ")) == 5  # blank search is no filter


# -- the admin check is made against the database -----------------------------------------


async def test_demoted_admin_loses_admin_api_at_once(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A token that still claims is_admin is refused once the database says otherwise."""
    _owner, admin = await staff(ctx)
    victim = await make_user(ctx, "victim")
    assert (await client.get("/api/admin/users", headers=admin.headers)).status_code == 200
    async with ctx.db.connection() as conn:
        await conn.execute("UPDATE users SET is_admin = FALSE WHERE id = $1", admin.id)
    for method, path, body in [
        ("GET", "/api/admin/users", None),
        ("POST", f"/api/admin/users/{victim.id}/suspend", {"reason": "x"}),
        ("DELETE", f"/api/admin/users/{victim.id}", None),
        ("PUT", f"/api/admin/users/{victim.id}/password", {"new_password": NEW_PASSWORD}),
        ("GET", "/api/admin/invites", None),
        ("GET", "/api/admin/audit-log", None),
        ("GET", "/api/admin/settings", None),
        ("GET", "/api/admin/reports", None),
    ]:
        response = await client.request(method, path, json=body, headers=admin.headers)
        assert error(response, 403) == "forbidden", path
    assert (await user_flags(ctx, victim.id)) is not None
    assert (await user_flags(ctx, victim.id) or {})["suspended_at"] is None


async def test_token_claims_are_a_first_filter(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A user made admin in the database still needs a token that says so (next refresh)."""
    _owner, _admin = await staff(ctx)
    promoted = await make_user(ctx, "promoted")
    async with ctx.db.connection() as conn:
        await conn.execute("UPDATE users SET is_admin = TRUE WHERE id = $1", promoted.id)
    response = await client.get("/api/admin/users", headers=promoted.headers)
    assert error(response, 403) == "forbidden"
    fresh = ctx.tokens.issue_access_token(
        user_id=promoted.id, username="promoted", is_admin=True, is_owner=False
    )
    assert (await client.get("/api/admin/users", headers=bearer(fresh))).status_code == 200


# -- suspend / unsuspend --------------------------------------------------------------------


async def test_suspend_blocks_tokens_and_sessions_immediately(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """Suspension: access token refused at once (401), refresh tokens revoked, login refused,
    reason stored, audited; unsuspend lets the user sign in again (the sessions the suspension
    ended stay ended)."""
    owner, admin = await staff(ctx)
    ctx.instance.apply({"registration_mode": "open"})  # carol registers for real sessions
    carol = await register(client, "carol")
    carol_id = carol["user"]["id"]
    carol_headers = bearer(carol["access_token"])
    assert (await client.get("/api/account/sessions", headers=carol_headers)).status_code == 200

    response = await client.post(
        f"/api/admin/users/{carol_id}/suspend",
        json={"reason": "  spamming  "},
        headers={**admin.headers, "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"},
    )
    assert response.status_code == 200, response.text
    assert response.content == b""
    assert (await client.get("/api/account/sessions", headers=carol_headers)).status_code == 401
    refresh = await client.post("/api/auth/refresh", json={"refresh_token": carol["refresh_token"]})
    assert refresh.status_code == 401
    login = await client.post("/api/auth/login", json={"username": "carol", "password": PASSWORD})
    assert error(login, 400) == "account is suspended"
    flags = await user_flags(ctx, UserId(uuid.UUID(carol_id)))
    assert flags is not None
    assert flags["suspended_at"] == ctx.clock.now()
    assert flags["suspended_reason"] == "spamming"
    [entry] = await audit_rows(ctx, "admin_suspend_user")
    assert entry["user_id"] == admin.id
    assert entry["metadata"] == {"target_user_id": carol_id, "sessions_revoked": 1}
    assert entry["user_agent"] == "Firefox on Linux"
    listed = await client.get("/api/admin/users?search=carol", headers=owner.headers)
    assert listed.json()[0]["suspended_reason"] == "spamming"
    assert listed.json()[0]["suspended_at"].endswith("+00:00")

    lifted = await client.post(
        f"/api/admin/users/{carol_id}/unsuspend", json={}, headers=owner.headers
    )
    assert lifted.status_code == 200 and lifted.content == b""
    assert (await client.get("/api/account/sessions", headers=carol_headers)).status_code == 401
    flags = await user_flags(ctx, UserId(uuid.UUID(carol_id)))
    assert flags is not None and flags["suspended_at"] is None and flags["suspended_reason"] is None
    [entry] = await audit_rows(ctx, "admin_unsuspend_user")
    assert entry["user_id"] == owner.id and entry["metadata"] == {"target_user_id": carol_id}
    login = await client.post("/api/auth/login", json={"username": "carol", "password": PASSWORD})
    assert login.status_code == 200


async def test_suspend_and_unsuspend_notify_other_processes(
    client: httpx.AsyncClient, ctx: Ctx, db_conn: Any
) -> None:
    """Each change queues a chatalot_suspension notification (delivered at commit) and marks
    this process's registry."""
    _owner, admin = await staff(ctx)
    target = await make_user(ctx, "target")
    notified: list[tuple[Any, ...]] = []

    def log(record: Any) -> None:
        if "pg_notify('chatalot_suspension'" in record.query:
            notified.append(tuple(record.args))

    db_conn.add_query_logger(log)
    response = await client.post(
        f"/api/admin/users/{target.id}/suspend", json={"reason": None}, headers=admin.headers
    )
    assert response.status_code == 200
    assert ctx.suspensions.is_suspended(target.id)
    response = await client.post(f"/api/admin/users/{target.id}/unsuspend", headers=admin.headers)
    assert response.status_code == 200
    assert not ctx.suspensions.is_suspended(target.id)
    assert notified == [(f"{target.id}:1",), (f"{target.id}:0",)]


async def test_suspend_refusals(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Self, unknown, owner and admin targets are refused with the documented messages, and
    nothing is written."""
    owner, admin = await staff(ctx)
    other_admin = await make_user(ctx, "helper2", is_admin=True)
    cases = [
        (admin, admin.id, 400, "you cannot suspend yourself"),
        (owner, owner.id, 400, "you cannot suspend yourself"),
        (admin, uuid.uuid4(), 404, "user not found"),
        (admin, owner.id, 403, "cannot act on the instance owner"),
        (admin, other_admin.id, 400, "cannot suspend an admin or owner"),
        (owner, admin.id, 400, "cannot suspend an admin or owner"),
    ]
    for caller, target, status, message in cases:
        response = await client.post(
            f"/api/admin/users/{target}/suspend", json={"reason": "x"}, headers=caller.headers
        )
        assert error(response, status) == message
    for user in (owner, admin, other_admin):
        flags = await user_flags(ctx, user.id)
        assert flags is not None and flags["suspended_at"] is None
    assert await audit_rows(ctx, "admin_suspend_user") == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"reason": "x" * 501}, "reason must be at most 500 characters"),
        ({"reason": "é" * 251}, "reason must be at most 500 characters"),
        ({"reason": "bad\u0000byte"}, "reason must not contain the NUL character (\\u0000)"),
        ({"reason": 5}, None),
        ([], None),
    ],
)
async def test_suspend_bad_body(
    client: httpx.AsyncClient, ctx: Ctx, body: Any, message: str | None
) -> None:
    """Over-long reasons (bytes), NUL characters and wrong types are 400s; nothing changes."""
    _owner, admin = await staff(ctx)
    target = await make_user(ctx, "target")
    response = await client.post(
        f"/api/admin/users/{target.id}/suspend", json=body, headers=admin.headers
    )
    text = error(response, 400)
    if message is not None:
        assert text == message
    flags = await user_flags(ctx, target.id)
    assert flags is not None and flags["suspended_at"] is None
    assert not ctx.suspensions.is_suspended(target.id)


async def test_suspend_reason_of_500_bytes_is_accepted(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """The limit is inclusive and counted in UTF-8 bytes; an omitted reason stores NULL."""
    _owner, admin = await staff(ctx)
    first = await make_user(ctx, "first")
    second = await make_user(ctx, "second")
    ok = await client.post(
        f"/api/admin/users/{first.id}/suspend", json={"reason": "é" * 250}, headers=admin.headers
    )
    assert ok.status_code == 200
    assert (await user_flags(ctx, first.id) or {})["suspended_reason"] == "é" * 250
    ok = await client.post(f"/api/admin/users/{second.id}/suspend", json={}, headers=admin.headers)
    assert ok.status_code == 200
    assert (await user_flags(ctx, second.id) or {})["suspended_reason"] is None


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("POST", "/suspend", {"reason": "x"}),
        ("POST", "/unsuspend", {}),
        ("DELETE", "", None),
        ("PUT", "/admin", {"is_admin": True}),
        ("PUT", "/password", {"new_password": NEW_PASSWORD}),
    ],
)
async def test_malformed_user_id_is_400(
    client: httpx.AsyncClient, ctx: Ctx, method: str, suffix: str, body: Any
) -> None:
    """A path id that is not a UUID (even with SQL in it) is a 400."""
    owner, _admin = await staff(ctx)
    for bad in ("not-a-uuid", "1'%20OR%20'1'='1", "123"):
        response = await client.request(
            method, f"/api/admin/users/{bad}{suffix}", json=body, headers=owner.headers
        )
        assert error(response, 400) == "invalid user id"


async def test_unsuspend_unknown_is_404(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Unsuspending an id that does not exist is 404 user not found."""
    _owner, admin = await staff(ctx)
    response = await client.post(
        f"/api/admin/users/{uuid.uuid4()}/unsuspend", headers=admin.headers
    )
    assert error(response, 404) == "user not found"


# -- delete ---------------------------------------------------------------------------------


async def test_delete_user_hands_over_and_cleans_up(
    client: httpx.AsyncClient, ctx: Ctx, sink: RecordingSink
) -> None:
    """Deleting an account: its communities and groups go to the owner, its DMs are deleted,
    the row is gone, the audit keeps who it was, and its token stops working at once."""
    owner, admin = await staff(ctx)
    doomed = await make_user(ctx, "doomed")
    friend = await make_user(ctx, "friend")
    community = await make_community(ctx, "Doomed's place", doomed.id, {doomed.id: "owner"})
    group = await make_group(ctx, "lounge", community, doomed.id, {doomed.id: "owner"})
    dm = await make_dm(ctx, doomed.id, friend.id)
    other_dm = await make_dm(ctx, friend.id, admin.id)
    assert (await client.get("/api/account/sessions", headers=doomed.headers)).status_code == 200

    response = await client.delete(f"/api/admin/users/{doomed.id}", headers=admin.headers)
    assert response.status_code == 200, response.text
    assert response.content == b""
    assert await user_flags(ctx, doomed.id) is None
    async with ctx.db.connection() as conn:
        assert (
            await conn.fetchval("SELECT owner_id FROM communities WHERE id = $1", community)
            == owner.id
        )
        heir_role = await conn.fetchval(
            "SELECT role FROM community_members WHERE community_id = $1 AND user_id = $2",
            community,
            owner.id,
        )
        assert heir_role == "owner"  # the community keeps an owner who is a member
        assert await conn.fetchval("SELECT owner_id FROM groups WHERE id = $1", group) == owner.id
        assert await conn.fetchval("SELECT count(*) FROM channels WHERE id = $1", dm) == 0
        assert await conn.fetchval("SELECT count(*) FROM channels WHERE id = $1", other_dm) == 1
    revoked = [e.event for e in sink.published if isinstance(e.event, AccessRevoked)]
    assert revoked == [AccessRevoked(doomed.id, frozenset({dm}), "deleted")]
    [entry] = await audit_rows(ctx, "admin_delete_user")
    assert entry["user_id"] == admin.id
    assert entry["metadata"] == {"target_user_id": str(doomed.id), "target_username": "doomed"}
    assert (await client.get("/api/account/sessions", headers=doomed.headers)).status_code == 401
    assert ctx.suspensions.is_suspended(doomed.id)
    again = await client.delete(f"/api/admin/users/{doomed.id}", headers=admin.headers)
    assert error(again, 404) == "user not found"


async def test_delete_without_owner_hands_over_to_the_acting_admin(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """On an instance with no owner, the acting admin inherits the deleted user's community."""
    admin = await make_user(ctx, "helper", is_admin=True)
    doomed = await make_user(ctx, "doomed")
    community = await make_community(ctx, "Orphanage", doomed.id, {})
    response = await client.delete(f"/api/admin/users/{doomed.id}", headers=admin.headers)
    assert response.status_code == 200, response.text
    async with ctx.db.connection() as conn:
        assert (
            await conn.fetchval("SELECT owner_id FROM communities WHERE id = $1", community)
            == admin.id
        )


async def test_delete_refusals(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Self, owner and admin targets are refused; everyone stays."""
    owner, admin = await staff(ctx)
    other_admin = await make_user(ctx, "helper2", is_admin=True)
    cases = [
        (admin, admin.id, 400, "you cannot delete yourself"),
        (owner, owner.id, 400, "you cannot delete yourself"),
        (admin, owner.id, 403, "cannot act on the instance owner"),
        (admin, other_admin.id, 400, "cannot delete an admin user; revoke admin first"),
        (owner, admin.id, 400, "cannot delete an admin user; revoke admin first"),
        (admin, uuid.uuid4(), 404, "user not found"),
    ]
    for caller, target, status, message in cases:
        response = await client.delete(f"/api/admin/users/{target}", headers=caller.headers)
        assert error(response, status) == message
    for user in (owner, admin, other_admin):
        assert await user_flags(ctx, user.id) is not None
    assert await audit_rows(ctx, "admin_delete_user") == []


async def test_owner_can_delete_an_admin_after_revoking(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """Revoke admin first, then delete: both succeed for the owner."""
    owner, admin = await staff(ctx)
    revoke = await client.put(
        f"/api/admin/users/{admin.id}/admin", json={"is_admin": False}, headers=owner.headers
    )
    assert revoke.status_code == 200
    response = await client.delete(f"/api/admin/users/{admin.id}", headers=owner.headers)
    assert response.status_code == 200, response.text
    assert await user_flags(ctx, admin.id) is None


# -- admin flag -----------------------------------------------------------------------------


async def test_owner_grants_and_revokes_admin(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Grant and revoke are stored and audited; a revoked admin is refused at once."""
    owner, admin = await staff(ctx)
    newbie = await make_user(ctx, "newbie")
    grant = await client.put(
        f"/api/admin/users/{newbie.id}/admin", json={"is_admin": True}, headers=owner.headers
    )
    assert grant.status_code == 200 and grant.content == b""
    assert (await user_flags(ctx, newbie.id) or {})["is_admin"] is True
    [granted] = await audit_rows(ctx, "admin_grant_admin")
    assert granted["user_id"] == owner.id
    assert granted["metadata"] == {"target_user_id": str(newbie.id)}

    revoke = await client.put(
        f"/api/admin/users/{admin.id}/admin", json={"is_admin": False}, headers=owner.headers
    )
    assert revoke.status_code == 200
    assert (await user_flags(ctx, admin.id) or {})["is_admin"] is False
    [revoked] = await audit_rows(ctx, "admin_revoke_admin")
    assert revoked["metadata"] == {"target_user_id": str(admin.id)}
    assert error(await client.get("/api/admin/users", headers=admin.headers), 403) == "forbidden"


async def test_admin_flag_refusals(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Admins cannot change admin flags (403); the owner cannot change its own (400), another
    owner's (403) or an unknown user's (404)."""
    owner, admin = await staff(ctx)
    second_owner = await make_user(ctx, "coowner", is_admin=True, is_owner=True)
    plain = await make_user(ctx, "plain")
    cases = [
        (admin, plain.id, 403, "forbidden"),
        (owner, owner.id, 400, "you cannot change your own admin status"),
        (owner, second_owner.id, 403, "cannot act on the instance owner"),
        (owner, uuid.uuid4(), 404, "user not found"),
    ]
    for caller, target, status, message in cases:
        response = await client.put(
            f"/api/admin/users/{target}/admin", json={"is_admin": False}, headers=caller.headers
        )
        assert error(response, status) == message
    assert (await user_flags(ctx, plain.id) or {})["is_admin"] is False
    assert (await user_flags(ctx, second_owner.id) or {})["is_admin"] is True


@pytest.mark.parametrize(
    "body", [{}, {"is_admin": "yes"}, {"is_admin": None}, {"is_admin": [True]}]
)
async def test_admin_flag_bad_body(client: httpx.AsyncClient, ctx: Ctx, body: Any) -> None:
    """is_admin must be a JSON boolean."""
    owner, _admin = await staff(ctx)
    plain = await make_user(ctx, "plain")
    response = await client.put(
        f"/api/admin/users/{plain.id}/admin", json=body, headers=owner.headers
    )
    error(response, 400)
    assert (await user_flags(ctx, plain.id) or {})["is_admin"] is False


# -- password reset -------------------------------------------------------------------------


async def test_admin_resets_a_users_password(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """The new password works, the old one does not, every session of the target ends, and the
    audit entry has the IP and the raw User-Agent."""
    _owner, admin = await staff(ctx)
    ctx.instance.apply({"registration_mode": "open"})
    dave = await register(client, "dave")
    user_agent = "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"
    response = await client.put(
        f"/api/admin/users/{dave['user']['id']}/password",
        json={"new_password": NEW_PASSWORD},
        headers={**admin.headers, "User-Agent": user_agent},
    )
    assert response.status_code == 200, response.text
    assert response.content == b""
    old = await client.post("/api/auth/login", json={"username": "dave", "password": PASSWORD})
    assert old.status_code == 401
    new = await client.post("/api/auth/login", json={"username": "dave", "password": NEW_PASSWORD})
    assert new.status_code == 200
    refresh = await client.post("/api/auth/refresh", json={"refresh_token": dave["refresh_token"]})
    assert refresh.status_code == 401
    [entry] = await audit_rows(ctx, "admin_reset_password")
    assert entry["user_id"] == admin.id
    assert entry["metadata"] == {"target_user_id": dave["user"]["id"], "sessions_revoked": 1}
    assert entry["user_agent"] == user_agent
    assert entry["ip_address"] == "127.0.0.1"


async def test_password_reset_hierarchy(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Admins cannot reset another admin's or the owner's password; the owner can reset an
    admin's but not its own here; nothing changes on refusal."""
    owner, admin = await staff(ctx)
    other_admin = await make_user(ctx, "helper2", is_admin=True)
    before = {
        u.id: (await user_flags(ctx, u.id) or {})["password_hash"]
        for u in (owner, admin, other_admin)
    }
    cases = [
        (admin, other_admin.id, 403, "only the instance owner can reset an admin's password"),
        (admin, owner.id, 403, "cannot act on the instance owner"),
        (owner, owner.id, 400, "you cannot reset your own password here — use account settings"),
        (admin, admin.id, 400, "you cannot reset your own password here — use account settings"),
        (admin, uuid.uuid4(), 404, "user not found"),
    ]
    for caller, target, status, message in cases:
        response = await client.put(
            f"/api/admin/users/{target}/password",
            json={"new_password": NEW_PASSWORD},
            headers=caller.headers,
        )
        assert error(response, status) == message
    for user_id, password_hash in before.items():
        assert (await user_flags(ctx, user_id) or {})["password_hash"] == password_hash
    ok = await client.put(
        f"/api/admin/users/{other_admin.id}/password",
        json={"new_password": NEW_PASSWORD},
        headers=owner.headers,
    )
    assert ok.status_code == 200
    login = await client.post(
        "/api/auth/login", json={"username": "helper2", "password": NEW_PASSWORD}
    )
    assert login.status_code == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"new_password": "short1!"}, "password must be at least 8 characters"),
        ({"new_password": "nouppercase1!"}, "password must contain at least one uppercase letter"),
        ({"new_password": "A1!" + "a" * 126}, "password must be at most 128 characters"),
        ({"new_password": 12345678}, None),
        ({}, None),
    ],
)
async def test_password_reset_bad_password(
    client: httpx.AsyncClient, ctx: Ctx, body: Any, message: str | None
) -> None:
    """Password rules apply; wrong types and missing fields are 400s; nothing changes."""
    _owner, admin = await staff(ctx)
    target = await make_user(ctx, "target")
    before = (await user_flags(ctx, target.id) or {})["password_hash"]
    response = await client.put(
        f"/api/admin/users/{target.id}/password", json=body, headers=admin.headers
    )
    text = error(response, 400)
    if message is not None:
        assert text == message
    assert (await user_flags(ctx, target.id) or {})["password_hash"] == before


async def test_malformed_json_is_400(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Broken JSON bodies are 400 validation errors on every admin user endpoint with a body."""
    owner, _admin = await staff(ctx)
    target = await make_user(ctx, "target")
    for method, suffix in [("POST", "/suspend"), ("PUT", "/admin"), ("PUT", "/password")]:
        response = await client.request(
            method,
            f"/api/admin/users/{target.id}{suffix}",
            content=b'{"reason": ',
            headers={**owner.headers, "Content-Type": "application/json"},
        )
        error(response, 400)
        assert response.json()["error"]["code"] == "validation_error"
