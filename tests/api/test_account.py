"""/api/account: me, password, profile, recovery code, preferences and account deletion."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import msgspec
import pytest

from chatalot.clock import FakeClock
from chatalot.context import Ctx
from chatalot.ids import uuid7
from chatalot.protocol.events import UserProfileUpdated
from chatalot.security import codes
from chatalot.services.audience import EVERYONE, AccessRevoked
from tests.conftest import RecordingSink
from tests.support.auth import PASSWORD, TestUser, bearer, make_user, register

NEW_PASSWORD = "Brand-New-Pass-7"


async def fetchval(ctx: Ctx, sql: str, *args: Any) -> Any:
    async with ctx.db.connection() as conn:
        return await conn.fetchval(sql, *args)


async def execute(ctx: Ctx, sql: str, *args: Any) -> None:
    async with ctx.db.connection() as conn:
        await conn.execute(sql, *args)


async def audit_rows(ctx: Ctx, action: str) -> list[Any]:
    async with ctx.db.connection() as conn:
        return list(
            await conn.fetch(
                "SELECT user_id, metadata, ip_address FROM audit_log WHERE action = $1", action
            )
        )


def error(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()["error"]
    return response.status_code, body["code"], body["message"]


# -- GET /api/account/me -------------------------------------------------------------------


async def test_me_returns_user_public_from_database(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """/me answers the caller's UserPublic, with flags from the DB and nullable keys omitted."""
    user = await make_user(ctx, "meuser")
    await execute(ctx, "UPDATE users SET is_admin = TRUE WHERE id = $1", user.id)
    response = await client.get("/api/account/me", headers=user.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(user.id)
    assert body["username"] == "meuser"
    assert body["display_name"] == "Meuser"
    assert body["is_admin"] is True  # from the database, not the token
    assert body["is_owner"] is False
    assert body["status"] == "offline"
    assert body["avatar_url"] is None and body["banner_url"] is None
    assert body["custom_status"] is None
    assert body["created_at"].endswith("+00:00")
    assert "bio" not in body and "pronouns" not in body and "voice_background_url" not in body
    assert "email" not in body and "password_hash" not in body


async def test_me_without_token_is_401(client: httpx.AsyncClient) -> None:
    """No bearer token: 401 in the error shape."""
    response = await client.get("/api/account/me")
    assert error(response) == (401, "unauthorized", "unauthorized")


# -- PUT /api/account/password -------------------------------------------------------------


async def test_change_password_replaces_hash_and_ends_other_sessions(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """A password change answers 200 empty, revokes the refresh tokens of every other session
    (the caller's own stays) and allows the new password (only) to log in; audited."""
    data = await register(client, "pwuser")
    other = await client.post("/api/auth/login", json={"username": "pwuser", "password": PASSWORD})
    headers = bearer(other.json()["access_token"])
    response = await client.put(
        "/api/account/password",
        headers=headers,
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert response.content == b""
    refresh = await client.post("/api/auth/refresh", json={"refresh_token": data["refresh_token"]})
    assert refresh.status_code == 401
    own = await client.post(
        "/api/auth/refresh", json={"refresh_token": other.json()["refresh_token"]}
    )
    assert own.status_code == 200
    old = await client.post("/api/auth/login", json={"username": "pwuser", "password": PASSWORD})
    assert old.status_code == 401
    new = await client.post(
        "/api/auth/login", json={"username": "pwuser", "password": NEW_PASSWORD}
    )
    assert new.status_code == 200
    rows = await audit_rows(ctx, "password_changed")
    assert [str(r["user_id"]) for r in rows] == [data["user"]["id"]]


async def test_change_password_wrong_current(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A wrong current password is 400 with the original's message and changes nothing."""
    user = await make_user(ctx)
    before = await fetchval(ctx, "SELECT password_hash FROM users WHERE id = $1", user.id)
    response = await client.put(
        "/api/account/password",
        headers=user.headers,
        json={"current_password": "Not-the-one-1", "new_password": NEW_PASSWORD},
    )
    assert error(response) == (400, "validation_error", "current password is incorrect")
    after = await fetchval(ctx, "SELECT password_hash FROM users WHERE id = $1", user.id)
    assert after == before


@pytest.mark.parametrize(
    ("new_password", "message"),
    [
        ("Sh0rt!", "password must be at least 8 characters"),
        ("A1!" + "a" * 126, "password must be at most 128 characters"),
        ("alllower-1", "password must contain at least one uppercase letter"),
        ("NoDigits-here", "password must contain at least one digit"),
        ("NoSpecial1x", "password must contain at least one special character"),
    ],
)
async def test_change_password_new_password_rules(
    client: httpx.AsyncClient, ctx: Ctx, new_password: str, message: str
) -> None:
    """The new password follows the registration rules (400 with their messages)."""
    user = await make_user(ctx)
    response = await client.put(
        "/api/account/password",
        headers=user.headers,
        json={"current_password": PASSWORD, "new_password": new_password},
    )
    assert error(response) == (400, "validation_error", message)


async def test_change_password_guessing_locks_out(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Ten wrong current passwords lock password re-entry (429) even for the right one;
    the lock decays."""
    user = await make_user(ctx)
    body = {"current_password": "Wrong-guess-1", "new_password": NEW_PASSWORD}
    for _ in range(10):
        response = await client.put("/api/account/password", headers=user.headers, json=body)
        assert response.status_code == 400
    good = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    locked = await client.put("/api/account/password", headers=user.headers, json=good)
    status, code, message = error(locked)
    assert (status, code) == (429, "rate_limited")
    assert message.startswith("too many attempts — try again in ")
    assert int(locked.headers["retry-after"]) > 0
    assert isinstance(ctx.clock, FakeClock)
    ctx.clock.advance(16 * 60)
    ok = await client.put("/api/account/password", headers=user.headers, json=good)
    assert ok.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"current_password": PASSWORD},
        {"current_password": 1, "new_password": NEW_PASSWORD},
        {"current_password": None, "new_password": NEW_PASSWORD},
        [],
    ],
)
async def test_change_password_bad_bodies(client: httpx.AsyncClient, ctx: Ctx, body: Any) -> None:
    """Missing fields and wrong types are a 400 validation_error, never a 500."""
    user = await make_user(ctx)
    response = await client.put("/api/account/password", headers=user.headers, json=body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


async def test_change_password_malformed_json(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Malformed JSON is a 400 in the error shape."""
    user = await make_user(ctx)
    response = await client.put(
        "/api/account/password",
        headers={**user.headers, "Content-Type": "application/json"},
        content=b'{"current_password": ',
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


# -- PUT /api/account/profile --------------------------------------------------------------


async def test_profile_update_sets_fields_and_tells_everyone(
    client: httpx.AsyncClient, ctx: Ctx, sink: RecordingSink
) -> None:
    """Fields are trimmed and stored, the response is the new UserPublic, and one
    user_profile_updated event (nulls present) goes to everyone."""
    user = await make_user(ctx)
    response = await client.put(
        "/api/account/profile",
        headers=user.headers,
        json={
            "display_name": "  New Name  ",
            "custom_status": " busy ",
            "bio": " line one\nline\ttwo ",
            "pronouns": " they/them ",
            "avatar_url": "https://example.com/a.png",
            "banner_url": OWN_BANNER,
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["display_name"] == "New Name"
    assert body["custom_status"] == "busy"
    assert body["bio"] == "line one\nline\ttwo"
    assert body["pronouns"] == "they/them"
    assert body["avatar_url"] == "https://example.com/a.png"
    assert body["banner_url"] == OWN_BANNER
    assert "voice_background_url" not in body
    [emitted] = sink.published
    assert emitted.audience == EVERYONE
    assert isinstance(emitted.event, UserProfileUpdated)
    frame = msgspec.json.decode(msgspec.json.encode(emitted.event))
    assert frame == {
        "type": "user_profile_updated",
        "user_id": str(user.id),
        "display_name": "New Name",
        "avatar_url": "https://example.com/a.png",
        "banner_url": OWN_BANNER,
        "voice_background_url": None,
        "custom_status": "busy",
        "bio": "line one\nline\ttwo",
        "pronouns": "they/them",
    }
    me = await client.get("/api/account/me", headers=user.headers)
    assert me.json()["bio"] == "line one\nline\ttwo"


async def test_profile_null_keeps_and_empty_clears(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """null (or absent) leaves a field alone; "" clears the clearable ones to null."""
    user = await make_user(ctx)
    full = {
        "custom_status": "s",
        "bio": "b",
        "pronouns": "p",
        "avatar_url": "http://x/a.png",
        "banner_url": "http://x/b.png",
    }
    assert (await client.put("/api/account/profile", headers=user.headers, json=full)).is_success
    kept = await client.put(
        "/api/account/profile",
        headers=user.headers,
        json={"display_name": None, "bio": None, "custom_status": None},
    )
    assert kept.json()["bio"] == "b" and kept.json()["custom_status"] == "s"
    assert kept.json()["display_name"] == user.row.display_name
    cleared = await client.put(
        "/api/account/profile",
        headers=user.headers,
        json={
            "custom_status": "   ",
            "bio": "",
            "pronouns": "",
            "avatar_url": "",
            "banner_url": "",
        },
    )
    body = cleared.json()
    assert body["custom_status"] is None
    assert body["avatar_url"] is None and body["banner_url"] is None
    assert "bio" not in body and "pronouns" not in body


async def test_profile_empty_body_changes_nothing(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """{} is a valid no-op update that still answers the current profile."""
    user = await make_user(ctx, "noop")
    response = await client.put("/api/account/profile", headers=user.headers, json={})
    assert response.status_code == 200
    assert response.json()["display_name"] == "Noop"


UUID = "0190f3a2-7b7c-7d11-8a2b-0123456789ab"
OWN_BANNER = f"/api/avatars/{UUID}_banner.png?v=1700000000"
CONTROL = "must not contain control or invisible formatting characters"
STACKED = "must not stack more than 4 combining marks on one character"
BYTES_64 = (
    "display name must be at most 64 bytes of UTF-8 text"
    " (accented letters, emoji and other non-ASCII characters take 2-4 bytes each)"
)
NOT_OWN = "URL must be the address of an image uploaded to this server (like /api/avatars/<id>.png)"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("display_name", "", "display name must be 1-64 characters"),
        ("display_name", "   ", "display name must be 1-64 characters"),
        ("display_name", "x" * 65, "display name must be 1-64 characters"),
        ("display_name", "é" * 65, "display name must be 1-64 characters"),
        ("display_name", "é" * 33, BYTES_64),  # 33 characters, but 66 bytes
        ("display_name", "right\u202eleft", f"display name {CONTROL}"),
        ("display_name", "zero\u200bwidth", f"display name {CONTROL}"),
        ("display_name", "Z\u0336\u0337\u0338\u0335\u0334algo", f"display name {STACKED}"),
        ("display_name", "\u0301accent", "display name must not start with a combining mark"),
        ("custom_status", "s" * 129, "custom status must be at most 128 characters"),
        ("custom_status", "a\nb", f"custom status {CONTROL}"),
        ("bio", "b" * 501, "bio must be at most 500 characters"),
        ("bio", "bell\x07", f"bio {CONTROL}"),
        ("pronouns", "p" * 51, "pronouns must be at most 50 characters"),
        ("pronouns", "he\x1bhim", f"pronouns {CONTROL}"),
        ("avatar_url", "javascript:alert(1)", "avatar URL must be an HTTP(S) URL or /api/ path"),
        ("avatar_url", " https://x/a.png", "avatar URL must be an HTTP(S) URL or /api/ path"),
        ("avatar_url", "https://x/a b", "avatar URL must not contain spaces or control characters"),
        (
            "avatar_url",
            "https://x/\x1b",
            "avatar URL must not contain spaces or control characters",
        ),
        ("avatar_url", "https:///a.png", "avatar URL must name a host (https://host/...)"),
        ("avatar_url", "https://" + "a" * 2041, "avatar URL must be at most 2048 characters"),
        ("avatar_url", "/api/avatars/../../etc/passwd", f"avatar {NOT_OWN}"),
        ("avatar_url", "/api/avatars/..%2f..%2fetc%2fpasswd", f"avatar {NOT_OWN}"),
        ("avatar_url", f"/api/avatars/{UUID}.png/../../../etc/passwd", f"avatar {NOT_OWN}"),
        ("avatar_url", f"/api/avatars/{UUID}.png?v=1&x=2", f"avatar {NOT_OWN}"),
        ("avatar_url", "/api/account/logout-all", f"avatar {NOT_OWN}"),
        ("banner_url", "ftp://x/b.png", "banner URL must be an HTTP(S) URL or /api/ path"),
        ("banner_url", "/api/" + "b" * 2044, "banner URL must be at most 2048 characters"),
        ("banner_url", "/api/avatars/x.png", f"banner {NOT_OWN}"),
    ],
)
async def test_profile_rejects_bad_values(
    client: httpx.AsyncClient, ctx: Ctx, sink: RecordingSink, field: str, value: str, message: str
) -> None:
    """Each rule has its 400 message, and a refused edit changes nothing and emits nothing."""
    user = await make_user(ctx)
    response = await client.put(
        "/api/account/profile", headers=user.headers, json={"pronouns": "x", field: value}
    )
    assert error(response) == (400, "validation_error", message)
    assert await fetchval(ctx, "SELECT pronouns FROM users WHERE id = $1", user.id) is None
    assert sink.published == []


@pytest.mark.parametrize(
    "url",
    [
        f"/api/avatars/{UUID}.png",
        f"/api/avatars/{UUID}.jpg?v=1700000000",
        f"/api/avatars/{UUID}_banner.webp?v=1",
        f"/api/avatars/{UUID.replace('-', '')}_voicebg.gif",
        f"/api/community-assets/{UUID}_icon.png?v=2",
        f"/api/group-assets/{UUID}_banner.jpeg",
        "https://images.example.org/me.png?size=128",
        "http://[2001:db8::1]:8080/a.png",
    ],
)
async def test_profile_accepts_own_image_urls_and_external_ones(
    client: httpx.AsyncClient, ctx: Ctx, url: str
) -> None:
    """URLs with the exact shape of an uploaded image on this server, and external http(s)
    URLs (the default), are accepted as avatar and banner."""
    user = await make_user(ctx)
    response = await client.put(
        "/api/account/profile", headers=user.headers, json={"avatar_url": url, "banner_url": url}
    )
    assert response.status_code == 200, response.text
    assert response.json()["avatar_url"] == url == response.json()["banner_url"]


async def test_uploaded_avatar_url_can_be_sent_back(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """The URL an upload stores (with its ?v= cache buster) passes the profile check, so a
    client that sends the whole profile back does not fail."""
    from tests.api.test_avatars import PNG

    user = await make_user(ctx)
    uploaded = await client.post(
        "/api/account/avatar",
        headers=user.headers,
        files={"avatar": ("a.png", PNG, "image/png")},
    )
    assert uploaded.status_code == 200, uploaded.text
    url = uploaded.json()["avatar_url"]
    response = await client.put(
        "/api/account/profile", headers=user.headers, json={"avatar_url": url, "banner_url": url}
    )
    assert response.status_code == 200, response.text


async def test_external_image_urls_can_be_turned_off(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """With allow_external_image_urls "false" (admin settings), only this server's own image
    URLs are accepted; "true" allows external ones again."""
    await make_user(ctx, "boss", is_admin=True, is_owner=True)
    admin = await make_user(ctx, "helper", is_admin=True)
    user = await make_user(ctx)

    async def set_external(value: str) -> None:
        response = await client.put(
            "/api/admin/settings",
            headers=admin.headers,
            json={"allow_external_image_urls": value},
        )
        assert response.status_code == 200, response.text

    await set_external("false")
    for field, what in (("avatar_url", "avatar"), ("banner_url", "banner")):
        response = await client.put(
            "/api/account/profile",
            headers=user.headers,
            json={field: "https://tracker.example/pixel.png"},
        )
        assert error(response) == (
            400,
            "validation_error",
            f"{what} URL must be an image uploaded to this server"
            " (this server does not allow images from other sites)",
        )
    own = f"/api/avatars/{UUID}.png?v=5"
    response = await client.put(
        "/api/account/profile", headers=user.headers, json={"avatar_url": own, "banner_url": ""}
    )
    assert response.status_code == 200, response.text
    await set_external("true")
    response = await client.put(
        "/api/account/profile",
        headers=user.headers,
        json={"avatar_url": "https://images.example.org/me.png"},
    )
    assert response.status_code == 200, response.text


async def test_profile_limits_are_bytes_and_exact(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Values exactly at the byte limits are accepted."""
    user = await make_user(ctx)
    response = await client.put(
        "/api/account/profile",
        headers=user.headers,
        json={
            "display_name": "é" * 32,
            "custom_status": "s" * 128,
            "bio": "b" * 500,
            "pronouns": "p" * 50,
            "avatar_url": "https://" + "a" * 2040,
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["display_name"] == "é" * 32


async def test_profile_sql_metacharacters_are_data(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Quotes and SQL fragments are stored verbatim."""
    user = await make_user(ctx)
    nasty = "Robert'); DROP TABLE users;--"
    response = await client.put(
        "/api/account/profile", headers=user.headers, json={"display_name": nasty, "bio": nasty}
    )
    assert response.status_code == 200
    assert response.json()["display_name"] == nasty
    assert await fetchval(ctx, "SELECT count(*) FROM users") >= 1


@pytest.mark.parametrize(
    "body", [{"display_name": 5}, {"bio": ["x"]}, {"avatar_url": {}}, "text", [1]]
)
async def test_profile_wrong_types(client: httpx.AsyncClient, ctx: Ctx, body: Any) -> None:
    """Wrong JSON types are a 400 validation_error."""
    user = await make_user(ctx)
    response = await client.put("/api/account/profile", headers=user.headers, json=body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


async def test_profile_of_deleted_account_is_404(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A token whose account is gone gets the original's 404 user not found."""
    user = await make_user(ctx)
    await client.get("/api/account/sessions", headers=user.headers)  # token seen: cached
    await execute(ctx, "DELETE FROM users WHERE id = $1", user.id)
    response = await client.put("/api/account/profile", headers=user.headers, json={"bio": "x"})
    assert error(response) == (404, "not_found", "user not found")


# -- POST /api/account/regenerate-recovery-code --------------------------------------------


async def test_regenerate_recovery_code(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A new XXXX-XXXX-XXXX-XXXX code replaces the stored hash (body ignored); audited."""
    user = await make_user(ctx)
    response = await client.post(
        "/api/account/regenerate-recovery-code", headers=user.headers, json={"junk": 1}
    )
    assert response.status_code == 200
    code = response.json()["recovery_code"]
    assert len(code) == 19 and code.count("-") == 3
    assert all(c in codes.ALPHABET for c in code.replace("-", ""))
    stored = await fetchval(ctx, "SELECT recovery_code_hash FROM users WHERE id = $1", user.id)
    assert stored == codes.code_hash(code)
    rows = await audit_rows(ctx, "recovery_code_regenerated")
    assert [r["user_id"] for r in rows] == [user.id]


async def test_regenerated_code_recovers_the_account(client: httpx.AsyncClient) -> None:
    """Only the regenerated code works for /api/auth/recover."""
    data = await register(client, "recoverme")
    headers = bearer(data["access_token"])
    response = await client.post("/api/account/regenerate-recovery-code", headers=headers)
    new_code = response.json()["recovery_code"]
    old = await client.post(
        "/api/auth/recover",
        json={
            "username": "recoverme",
            "recovery_code": data["recovery_code"],
            "new_password": NEW_PASSWORD,
        },
    )
    assert old.status_code == 400
    new = await client.post(
        "/api/auth/recover",
        json={"username": "recoverme", "recovery_code": new_code, "new_password": NEW_PASSWORD},
    )
    assert new.status_code == 200


# -- preferences ---------------------------------------------------------------------------


async def test_preferences_default_to_empty_object(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Never saved: {"preferences": {}}."""
    user = await make_user(ctx)
    response = await client.get("/api/account/preferences", headers=user.headers)
    assert response.status_code == 200
    assert response.json() == {"preferences": {}}


async def test_preferences_shallow_merge(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Top-level keys replace old ones, nested objects are replaced wholesale."""
    user = await make_user(ctx)
    first = await client.put(
        "/api/account/preferences",
        headers=user.headers,
        json={"preferences": {"theme": "dark", "nested": {"a": 1, "b": 2}, "keep": True}},
    )
    assert first.json() == {
        "preferences": {"theme": "dark", "nested": {"a": 1, "b": 2}, "keep": True}
    }
    second = await client.put(
        "/api/account/preferences",
        headers=user.headers,
        json={"preferences": {"theme": "light", "nested": {"c": 3}, "sendReadReceipts": False}},
    )
    expected = {
        "theme": "light",
        "nested": {"c": 3},
        "keep": True,
        "sendReadReceipts": False,
    }
    assert second.json() == {"preferences": expected}
    got = await client.get("/api/account/preferences", headers=user.headers)
    assert got.json() == {"preferences": expected}


async def test_preferences_are_per_user(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """One user's preferences are invisible to another."""
    alice, bob = await make_user(ctx), await make_user(ctx)
    await client.put(
        "/api/account/preferences", headers=alice.headers, json={"preferences": {"x": 1}}
    )
    response = await client.get("/api/account/preferences", headers=bob.headers)
    assert response.json() == {"preferences": {}}


async def test_preferences_size_limit(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """The serialised value may be 16,384 bytes, not one more."""
    user = await make_user(ctx)
    # {"k":"…"} is 8 bytes of JSON around the string
    at_limit = {"k": "x" * (16_384 - 8)}
    assert len(msgspec.json.encode(at_limit)) == 16_384
    ok = await client.put(
        "/api/account/preferences", headers=user.headers, json={"preferences": at_limit}
    )
    assert ok.status_code == 200
    over = {"k": "x" * (16_384 - 7)}
    response = await client.put(
        "/api/account/preferences", headers=user.headers, json={"preferences": over}
    )
    assert error(response) == (400, "validation_error", "preferences too large (max 16 KB)")


async def test_preferences_merged_total_is_capped(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Many 16 KB writes with new keys cannot grow the stored object past 64 KB."""
    user = await make_user(ctx)
    for i in range(4):
        ok = await client.put(
            "/api/account/preferences",
            headers=user.headers,
            json={"preferences": {f"k{i}": "x" * 16_000}},
        )
        assert ok.status_code == 200
    response = await client.put(
        "/api/account/preferences",
        headers=user.headers,
        json={"preferences": {"k9": "x" * 16_000, "k10": "y"}},
    )
    assert error(response) == (
        400,
        "validation_error",
        "preferences too large (max 64 KB in total)",
    )
    stored = (await client.get("/api/account/preferences", headers=user.headers)).json()
    assert sorted(stored["preferences"]) == ["k0", "k1", "k2", "k3"]  # refused write: no trace


@pytest.mark.parametrize("value", [[1, 2], "text", 5, None, True])
async def test_preferences_must_be_an_object(
    client: httpx.AsyncClient, ctx: Ctx, value: Any
) -> None:
    """Anything but a JSON object is refused (the original stored any JSON)."""
    user = await make_user(ctx)
    response = await client.put(
        "/api/account/preferences", headers=user.headers, json={"preferences": value}
    )
    assert error(response) == (400, "validation_error", "preferences must be a JSON object")


async def test_preferences_field_is_required(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A body without "preferences" is a 400 naming the field."""
    user = await make_user(ctx)
    response = await client.put("/api/account/preferences", headers=user.headers, json={})
    assert error(response) == (400, "validation_error", "preferences is required")


async def test_preferences_nul_and_deep_nesting_refused(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """NUL characters (keys or values) and absurd nesting are 400s, never a database error
    (NUL is refused at the edge for any JSON string; the service's own message is pinned in
    tests/services/test_text_checks.py)."""
    user = await make_user(ctx)
    for prefs in [{"a": "x\u0000y"}, {"a\u0000": 1}, {"a": [{"b": ["\u0000"]}]}]:
        response = await client.put(
            "/api/account/preferences", headers=user.headers, json={"preferences": prefs}
        )
        assert error(response)[:2] == (400, "validation_error")
    deep: Any = 1
    for _ in range(40):
        deep = [deep]
    response = await client.put(
        "/api/account/preferences", headers=user.headers, json={"preferences": {"d": deep}}
    )
    assert error(response) == (
        400,
        "validation_error",
        "preferences must not be nested more than 32 deep",
    )


async def test_preferences_keep_sql_metacharacters(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Quotes, backslashes and unicode survive the jsonb round trip."""
    user = await make_user(ctx)
    prefs = {"q'\"\\": "'; DROP TABLE users; --", "emoji": "🦊", "n": 1.5, "list": [None, 2]}
    response = await client.put(
        "/api/account/preferences", headers=user.headers, json={"preferences": prefs}
    )
    assert response.json() == {"preferences": prefs}


async def test_preferences_legacy_non_object_is_replaced(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """A non-object value left by the original server reads as {} and is replaced on write."""
    user = await make_user(ctx)
    await execute(
        ctx,
        "INSERT INTO user_preferences (user_id, preferences) VALUES ($1, '[1, 2]'::jsonb)",
        user.id,
    )
    got = await client.get("/api/account/preferences", headers=user.headers)
    assert got.json() == {"preferences": {}}
    put = await client.put(
        "/api/account/preferences", headers=user.headers, json={"preferences": {"a": 1}}
    )
    assert put.json() == {"preferences": {"a": 1}}


async def test_preferences_of_deleted_account_is_404(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Saving preferences for an account that is gone is a 404, not a foreign-key 500."""
    user = await make_user(ctx)
    await client.get("/api/account/sessions", headers=user.headers)  # token seen: cached
    await execute(ctx, "DELETE FROM users WHERE id = $1", user.id)
    response = await client.put(
        "/api/account/preferences", headers=user.headers, json={"preferences": {"a": 1}}
    )
    assert error(response) == (404, "not_found", "user not found")


# -- DELETE /api/account -------------------------------------------------------------------


async def _community(ctx: Ctx, owner: TestUser, *members: TestUser) -> uuid.UUID:
    community_id = uuid7()
    await execute(
        ctx,
        "INSERT INTO communities (id, name, owner_id) VALUES ($1, 'c', $2)",
        community_id,
        owner.id,
    )
    for member in (owner, *members):
        await execute(
            ctx,
            "INSERT INTO community_members (community_id, user_id) VALUES ($1, $2)",
            community_id,
            member.id,
        )
    return community_id


async def _dm(ctx: Ctx, a: TestUser, b: TestUser) -> uuid.UUID:
    channel_id = uuid7()
    await execute(ctx, "INSERT INTO channels (id, channel_type) VALUES ($1, 'dm')", channel_id)
    for member in (a, b):
        await execute(
            ctx,
            "INSERT INTO channel_members (channel_id, user_id) VALUES ($1, $2)",
            channel_id,
            member.id,
        )
    low, high = sorted([a.id, b.id])
    await execute(
        ctx,
        "INSERT INTO dm_pairs (user_a, user_b, channel_id) VALUES ($1, $2, $3)",
        low,
        high,
        channel_id,
    )
    await execute(
        ctx,
        "INSERT INTO messages (id, channel_id, sender_id, ciphertext, nonce)"
        " VALUES ($1, $2, $3, '\\x01', '\\x02')",
        uuid7(),
        channel_id,
        a.id,
    )
    return channel_id


async def test_delete_account(client: httpx.AsyncClient, ctx: Ctx, sink: RecordingSink) -> None:
    """Deleting removes the user in one go: audit row (user_id NULL, username kept), their
    memberships go, messages stay without sender, DMs whose other side is gone are removed,
    DMs with a living member stay, access to every channel is revoked after commit; the old
    token then gets 401."""
    victim = await make_user(ctx, "leaving")
    friend = await make_user(ctx)
    ghost = await make_user(ctx)
    community_id = await _community(ctx, friend, victim)
    kept_dm = await _dm(ctx, victim, friend)
    orphan_dm = await _dm(ctx, victim, ghost)
    await execute(ctx, "DELETE FROM users WHERE id = $1", ghost.id)

    response = await client.request(
        "DELETE", "/api/account", headers=victim.headers, json={"password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    assert response.content == b""

    assert await fetchval(ctx, "SELECT count(*) FROM users WHERE id = $1", victim.id) == 0
    rows = await audit_rows(ctx, "account_deleted")
    assert len(rows) == 1
    assert rows[0]["user_id"] is None
    assert msgspec.json.decode(msgspec.json.encode(rows[0]["metadata"])) == {"username": "leaving"}
    members = await fetchval(
        ctx,
        "SELECT array_agg(user_id) FROM community_members WHERE community_id = $1",
        community_id,
    )
    assert members == [friend.id]
    [revoked] = [e.event for e in sink.published if isinstance(e.event, AccessRevoked)]
    assert revoked == AccessRevoked(victim.id, frozenset({kept_dm, orphan_dm}), "deleted")
    assert await fetchval(ctx, "SELECT count(*) FROM channels WHERE id = $1", orphan_dm) == 0
    assert await fetchval(ctx, "SELECT count(*) FROM channels WHERE id = $1", kept_dm) == 1
    senders = await fetchval(
        ctx, "SELECT array_agg(sender_id) FROM messages WHERE channel_id = $1", kept_dm
    )
    assert senders == [None]
    me = await client.get("/api/account/me", headers=victim.headers)
    assert error(me) == (401, "unauthorized", "unauthorized")
    friend_me = await client.get("/api/account/me", headers=friend.headers)
    assert friend_me.status_code == 200


async def test_delete_account_wrong_password(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A wrong password is 400 password is incorrect and deletes nothing."""
    user = await make_user(ctx)
    response = await client.request(
        "DELETE", "/api/account", headers=user.headers, json={"password": "Wrong-one-1"}
    )
    assert error(response) == (400, "validation_error", "password is incorrect")
    assert await fetchval(ctx, "SELECT count(*) FROM users WHERE id = $1", user.id) == 1


async def test_delete_account_group_owner_refused(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Owning a group blocks the deletion (transfer or delete it first)."""
    user = await make_user(ctx)
    community_id = await _community(ctx, user)
    await execute(
        ctx,
        "INSERT INTO groups (id, name, owner_id, community_id) VALUES ($1, 'g', $2, $3)",
        uuid7(),
        user.id,
        community_id,
    )
    response = await client.request(
        "DELETE", "/api/account", headers=user.headers, json={"password": PASSWORD}
    )
    assert error(response) == (
        400,
        "validation_error",
        "you must transfer or delete all groups you own before deleting your account",
    )
    assert await fetchval(ctx, "SELECT count(*) FROM users WHERE id = $1", user.id) == 1
    assert await audit_rows(ctx, "account_deleted") == []


async def test_delete_account_community_owner_refused(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Owning a community blocks the deletion (the owner cannot leave it either)."""
    user = await make_user(ctx)
    await _community(ctx, user)
    response = await client.request(
        "DELETE", "/api/account", headers=user.headers, json={"password": PASSWORD}
    )
    assert error(response) == (
        400,
        "validation_error",
        "you must transfer or delete all communities you own before deleting your account",
    )
    assert await fetchval(ctx, "SELECT count(*) FROM users WHERE id = $1", user.id) == 1


async def test_delete_account_instance_owner_refused(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """The instance owner cannot delete their own account."""
    owner = await make_user(ctx, is_admin=True, is_owner=True)
    response = await client.request(
        "DELETE", "/api/account", headers=owner.headers, json={"password": PASSWORD}
    )
    assert error(response) == (
        400,
        "validation_error",
        "the instance owner cannot delete their account",
    )
    assert await fetchval(ctx, "SELECT count(*) FROM users WHERE id = $1", owner.id) == 1


@pytest.mark.parametrize("body", [None, {}, {"password": 5}, {"pass": PASSWORD}])
async def test_delete_account_bad_bodies(client: httpx.AsyncClient, ctx: Ctx, body: Any) -> None:
    """No body, a missing field or a wrong type is a 400 and deletes nothing."""
    user = await make_user(ctx)
    kwargs: dict[str, Any] = {"headers": user.headers}
    if body is not None:
        kwargs["json"] = body
    response = await client.request("DELETE", "/api/account", **kwargs)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert await fetchval(ctx, "SELECT count(*) FROM users WHERE id = $1", user.id) == 1
