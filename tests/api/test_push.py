"""/api/push/*: the VAPID key, subscribing (validation, upsert, the per-user cap) and
unsubscribing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatalot.app import create_app
from chatalot.clock import FakeClock, SystemClock
from chatalot.config import PoolSettings, Settings
from chatalot.context import Ctx
from chatalot.db.database import Database
from chatalot.db.pool import open_pool
from chatalot.repositories import push as push_repo
from chatalot.security.passwords import PasswordHasher
from chatalot.security.tokens import JwtKeys
from chatalot.services import push as push_service
from tests.conftest import build_ctx, settings_in
from tests.support.auth import make_user
from tests.support.pg import PgServer
from tests.support.webpush import b64url, browser_keys, vapid_pair

VAPID = vapid_pair()
ENDPOINT = "https://fcm.googleapis.com/fcm/send/abc:def-123"


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Push configured (VAPID) unless a test parametrizes ``settings`` with other values."""
    overrides: dict[str, str] = getattr(request, "param", VAPID.env)
    return settings_in(tmp_path, **overrides)


def body(endpoint: str = ENDPOINT, **overrides: Any) -> dict[str, Any]:
    keys = browser_keys()
    return {"endpoint": endpoint, "p256dh_key": keys.p256dh, "auth_key": keys.auth_key} | overrides


async def rows(ctx: Ctx, user_id: Any) -> list[push_repo.PushSubscriptionRow]:
    async with ctx.db.connection() as conn:
        return await push_repo.list_subscriptions(conn, [user_id])


def assert_error(response: httpx.Response, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    assert response.json() == {"error": {"code": "validation_error", "message": message}}


# -- the VAPID key ----------------------------------------------------------------------------


async def test_vapid_key_when_configured(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/push/vapid-key")
    assert response.status_code == 200
    assert response.json() == {"public_key": VAPID.public}


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"VAPID_PRIVATE_KEY": "", "VAPID_PUBLIC_KEY": ""},
        {"VAPID_PUBLIC_KEY": VAPID.public},  # no private key: nothing could be sent
        {"VAPID_PRIVATE_KEY": "not-a-key", "VAPID_PUBLIC_KEY": VAPID.public},
        {"VAPID_PRIVATE_KEY": VAPID.private},  # no public key to hand out
    ],
    indirect=True,
)
async def test_vapid_key_404_when_not_configured(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/push/vapid-key")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "push notifications are not configured"}
    }


def test_startup_log_lines(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    from chatalot.services.push_delivery import PushDelivery

    caplog.set_level("INFO")
    PushDelivery(settings).log_startup()
    assert "Web Push notifications enabled" in caplog.text
    caplog.clear()
    bad = settings_in(Path("/nonexistent"), VAPID_PRIVATE_KEY="%%%")
    PushDelivery(bad).log_startup()
    assert "Web Push disabled: invalid VAPID private key" in caplog.text
    caplog.clear()
    other = vapid_pair()
    mismatched = settings_in(
        Path("/nonexistent"), VAPID_PRIVATE_KEY=VAPID.private, VAPID_PUBLIC_KEY=other.public
    )
    PushDelivery(mismatched).log_startup()
    assert "VAPID_PUBLIC_KEY is not the public key of VAPID_PRIVATE_KEY" in caplog.text


# -- subscribing ------------------------------------------------------------------------------


async def test_subscribe_stores(ctx: Ctx, client: httpx.AsyncClient) -> None:
    user = await make_user(ctx)
    sent = body()
    response = await client.post("/api/push/subscribe", json=sent, headers=user.headers)
    assert response.status_code == 204
    assert response.content == b""
    [row] = await rows(ctx, user.id)
    assert (row.endpoint, row.p256dh_key, row.auth_key) == (
        ENDPOINT,
        sent["p256dh_key"],
        sent["auth_key"],
    )
    assert row.failure_count == 0 and row.last_used is None


async def test_subscribe_again_upserts_and_resets_failures(
    ctx: Ctx, client: httpx.AsyncClient
) -> None:
    user = await make_user(ctx)
    other = await make_user(ctx)
    first = await client.post("/api/push/subscribe", json=body(), headers=user.headers)
    assert first.status_code == 204
    [row] = await rows(ctx, user.id)
    async with ctx.db.transaction("fail") as tx:
        await push_repo.update_failed(tx.conn, row.id)
        await push_repo.update_failed(tx.conn, row.id)
    assert (await rows(ctx, user.id))[0].failure_count == 2
    again = body()
    response = await client.post("/api/push/subscribe", json=again, headers=user.headers)
    assert response.status_code == 204
    [updated] = await rows(ctx, user.id)
    assert updated.id == row.id
    assert updated.failure_count == 0
    assert updated.p256dh_key == again["p256dh_key"] and updated.auth_key == again["auth_key"]
    # the same endpoint for another user is that user's own row
    response = await client.post("/api/push/subscribe", json=body(), headers=other.headers)
    assert response.status_code == 204
    assert len(await rows(ctx, other.id)) == 1
    assert len(await rows(ctx, user.id)) == 1


async def test_subscribe_padded_keys_accepted(ctx: Ctx, client: httpx.AsyncClient) -> None:
    user = await make_user(ctx)
    keys = browser_keys()
    padded = body(p256dh_key=keys.p256dh + "=", auth_key=keys.auth_key + "==")
    response = await client.post("/api/push/subscribe", json=padded, headers=user.headers)
    assert response.status_code == 204


async def test_subscription_cap_replaces_least_recently_used(
    ctx: Ctx, client: httpx.AsyncClient
) -> None:
    assert isinstance(ctx.clock, FakeClock)
    user = await make_user(ctx)
    cap = push_service.MAX_SUBSCRIPTIONS_PER_USER
    for i in range(cap):
        ctx.clock.advance(1)
        response = await client.post(
            "/api/push/subscribe", json=body(f"{ENDPOINT}/{i}"), headers=user.headers
        )
        assert response.status_code == 204
    stored = await rows(ctx, user.id)
    assert len(stored) == cap
    # the oldest one was used recently: the second oldest is the least recently used
    async with ctx.db.transaction("used") as tx:
        await push_repo.update_delivered(tx.conn, stored[0].id, ctx.clock.now())
    ctx.clock.advance(1)
    response = await client.post(
        "/api/push/subscribe", json=body(f"{ENDPOINT}/new"), headers=user.headers
    )
    assert response.status_code == 204
    endpoints = {r.endpoint for r in await rows(ctx, user.id)}
    assert len(endpoints) == cap
    assert f"{ENDPOINT}/new" in endpoints
    assert f"{ENDPOINT}/0" in endpoints
    assert f"{ENDPOINT}/1" not in endpoints


LONG = "https://push.example.com/" + "a" * 2100

BAD_SUBSCRIPTIONS = [
    # the original's three checks, with its messages
    pytest.param(body(LONG), 400, push_service.ENDPOINT_TOO_LONG, id="endpoint-too-long"),
    pytest.param(body(p256dh_key=""), 400, push_service.MISSING_KEYS, id="empty-p256dh"),
    pytest.param(body(auth_key=""), 400, push_service.MISSING_KEYS, id="empty-auth"),
    pytest.param(body("http://push.example.com/x"), 400, push_service.HTTPS_REQUIRED, id="http"),
    pytest.param(body("HTTPS://push.example.com/x"), 400, push_service.HTTPS_REQUIRED, id="caps"),
    pytest.param(body("ftp://push.example.com/x"), 400, push_service.HTTPS_REQUIRED, id="ftp"),
    pytest.param(body(""), 400, push_service.HTTPS_REQUIRED, id="empty-endpoint"),
    pytest.param(body("push.example.com/x"), 400, push_service.HTTPS_REQUIRED, id="no-scheme"),
    # not a URL
    pytest.param(body("https://"), 400, push_service.INVALID_ENDPOINT, id="no-host"),
    pytest.param(body("https:///path"), 400, push_service.INVALID_ENDPOINT, id="empty-host"),
    pytest.param(body("https://a b.com/x"), 400, push_service.INVALID_ENDPOINT, id="space"),
    pytest.param(
        body("https://push.example.com:99999/"), 400, push_service.INVALID_ENDPOINT, id="port"
    ),
    pytest.param(
        body("https://push.example.com:0/"), 400, push_service.INVALID_ENDPOINT, id="port0"
    ),
    pytest.param(body("https://[::1/x"), 400, push_service.INVALID_ENDPOINT, id="bad-ipv6"),
    pytest.param(
        body("https://user:pw@push.example.com/"), 400, push_service.INVALID_ENDPOINT, id="userinfo"
    ),
    pytest.param(
        body("https://push.example.com/x#frag"), 400, push_service.INVALID_ENDPOINT, id="fragment"
    ),
    pytest.param(
        body("https://püsh.example.com/x"), 400, push_service.INVALID_ENDPOINT, id="non-ascii"
    ),
    pytest.param(
        body("https://push.example.com/\x7f"), 400, push_service.INVALID_ENDPOINT, id="control"
    ),
    pytest.param(
        body("https://exa_mple..com/x"), 400, push_service.INVALID_ENDPOINT, id="bad-name"
    ),
    # not a public host
    pytest.param(body("https://127.0.0.1/x"), 400, push_service.PRIVATE_ENDPOINT, id="loopback"),
    pytest.param(body("https://10.1.2.3/x"), 400, push_service.PRIVATE_ENDPOINT, id="private"),
    pytest.param(body("https://192.168.0.1:8443/x"), 400, push_service.PRIVATE_ENDPOINT, id="lan"),
    pytest.param(
        body("https://169.254.169.254/x"), 400, push_service.PRIVATE_ENDPOINT, id="metadata"
    ),
    pytest.param(body("https://[::1]/x"), 400, push_service.PRIVATE_ENDPOINT, id="v6-loopback"),
    pytest.param(body("https://[fd00::1]/x"), 400, push_service.PRIVATE_ENDPOINT, id="v6-ula"),
    pytest.param(
        body("https://[::ffff:10.0.0.1]/x"), 400, push_service.PRIVATE_ENDPOINT, id="mapped"
    ),
    pytest.param(body("https://2130706433/x"), 400, push_service.PRIVATE_ENDPOINT, id="decimal-ip"),
    pytest.param(body("https://0x7f.1/x"), 400, push_service.PRIVATE_ENDPOINT, id="hex-ip"),
    pytest.param(body("https://localhost/x"), 400, push_service.PRIVATE_ENDPOINT, id="localhost"),
    pytest.param(
        body("https://LOCALHOST./x"), 400, push_service.PRIVATE_ENDPOINT, id="localhost-dot"
    ),
    pytest.param(
        body("https://a.localhost/x"), 400, push_service.PRIVATE_ENDPOINT, id="sub-localhost"
    ),
    pytest.param(
        body("https://metadata.internal/x"), 400, push_service.PRIVATE_ENDPOINT, id="internal"
    ),
    pytest.param(body("https://intranet/x"), 400, push_service.PRIVATE_ENDPOINT, id="single-label"),
    # keys
    pytest.param(
        body(p256dh_key="not base64!"), 400, push_service.INVALID_P256DH, id="p256dh-alphabet"
    ),
    pytest.param(
        body(p256dh_key=b64url(b"\x04" + b"\x01" * 64)),
        400,
        push_service.INVALID_P256DH,
        id="p256dh-off-curve",
    ),
    pytest.param(
        body(p256dh_key=b64url(b"\x04" * 33)), 400, push_service.INVALID_P256DH, id="p256dh-short"
    ),
    pytest.param(
        body(p256dh_key=b64url(b"\x02" + b"\x01" * 64)),
        400,
        push_service.INVALID_P256DH,
        id="p256dh-prefix",
    ),
    pytest.param(body(p256dh_key="A"), 400, push_service.INVALID_P256DH, id="p256dh-one-char"),
    pytest.param(body(auth_key=b64url(b"\x00" * 15)), 400, push_service.INVALID_AUTH, id="auth-15"),
    pytest.param(body(auth_key=b64url(b"\x00" * 17)), 400, push_service.INVALID_AUTH, id="auth-17"),
    pytest.param(
        body(auth_key="++++////++++////++++//"),
        400,
        push_service.INVALID_AUTH,
        id="auth-std-alphabet",
    ),
    pytest.param(body(auth_key="A==="), 400, push_service.INVALID_AUTH, id="auth-padding"),
]


@pytest.mark.parametrize(("sent", "status", "message"), BAD_SUBSCRIPTIONS)
async def test_subscribe_refuses(
    ctx: Ctx, client: httpx.AsyncClient, sent: dict[str, Any], status: int, message: str
) -> None:
    user = await make_user(ctx)
    response = await client.post("/api/push/subscribe", json=sent, headers=user.headers)
    assert_error(response, status, message)
    assert await rows(ctx, user.id) == []


@pytest.mark.parametrize(
    "sent",
    [
        pytest.param({}, id="empty-object"),
        pytest.param({"endpoint": ENDPOINT, "p256dh_key": "x"}, id="missing-auth"),
        pytest.param({"p256dh_key": "x", "auth_key": "y"}, id="missing-endpoint"),
        pytest.param(body(endpoint=5), id="endpoint-number"),
        pytest.param(body(p256dh_key=None), id="p256dh-null"),
        pytest.param(body(auth_key=["a"]), id="auth-list"),
        pytest.param([], id="array"),
        pytest.param("text", id="string"),
        pytest.param(body(endpoint="https://push.example.com/\u0000"), id="nul"),
    ],
)
async def test_subscribe_malformed_body(ctx: Ctx, client: httpx.AsyncClient, sent: Any) -> None:
    user = await make_user(ctx)
    response = await client.post("/api/push/subscribe", json=sent, headers=user.headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert await rows(ctx, user.id) == []


async def test_subscribe_not_json(ctx: Ctx, client: httpx.AsyncClient) -> None:
    user = await make_user(ctx)
    response = await client.post("/api/push/subscribe", content=b"{not json", headers=user.headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


# -- unsubscribing ----------------------------------------------------------------------------


async def test_unsubscribe(ctx: Ctx, client: httpx.AsyncClient) -> None:
    user = await make_user(ctx)
    other = await make_user(ctx)
    for who in (user, other):
        response = await client.post("/api/push/subscribe", json=body(), headers=who.headers)
        assert response.status_code == 204
    await client.post("/api/push/subscribe", json=body(ENDPOINT + "/2"), headers=user.headers)
    response = await client.post(
        "/api/push/unsubscribe", json={"endpoint": ENDPOINT}, headers=user.headers
    )
    assert response.status_code == 204
    assert response.content == b""
    assert [r.endpoint for r in await rows(ctx, user.id)] == [ENDPOINT + "/2"]
    assert [r.endpoint for r in await rows(ctx, other.id)] == [ENDPOINT]  # not someone else's
    # unknown endpoint: nothing to do, still 204
    again = await client.post(
        "/api/push/unsubscribe", json={"endpoint": ENDPOINT}, headers=user.headers
    )
    assert again.status_code == 204


@pytest.mark.parametrize(
    "sent",
    [
        pytest.param({}, id="missing"),
        pytest.param({"endpoint": None}, id="null"),
        pytest.param({"endpoint": 1}, id="number"),
        pytest.param([ENDPOINT], id="array"),
    ],
)
async def test_unsubscribe_malformed_body(ctx: Ctx, client: httpx.AsyncClient, sent: Any) -> None:
    user = await make_user(ctx)
    await client.post("/api/push/subscribe", json=body(), headers=user.headers)
    response = await client.post("/api/push/unsubscribe", json=sent, headers=user.headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert len(await rows(ctx, user.id)) == 1


async def test_routes_need_a_token(client: httpx.AsyncClient) -> None:
    for path in ("/api/push/subscribe", "/api/push/unsubscribe"):
        response = await client.post(path, json=body())
        assert response.status_code == 401


def test_cli_generates_a_working_key_pair(capsys: pytest.CaptureFixture[str]) -> None:
    from chatalot.cli import main
    from chatalot.services.push_delivery import load_vapid, public_key_b64

    assert main(["push", "generate-vapid-keys"]) == 0
    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    assert set(lines) == {"VAPID_PRIVATE_KEY", "VAPID_PUBLIC_KEY"}
    assert public_key_b64(load_vapid(lines["VAPID_PRIVATE_KEY"])) == lines["VAPID_PUBLIC_KEY"]
    assert "=" not in lines["VAPID_PRIVATE_KEY"] + lines["VAPID_PUBLIC_KEY"]


@pytest.mark.fresh_db
async def test_concurrent_subscribes_keep_the_cap(
    pg: PgServer, fresh_db: str, settings: Settings, passwords: PasswordHasher, jwt_keys: JwtKeys
) -> None:
    """30 different endpoints subscribed at once, on a real pool: never a 500, never more
    than the cap; the same endpoint sent at once several times is one row."""
    pool = await open_pool(pg.url(fresh_db), PoolSettings(max_connections=12, min_connections=2))
    try:
        ctx = build_ctx(
            Database(pool, acquire_timeout=10), settings, passwords, jwt_keys, clock=SystemClock()
        )
        transport = httpx.ASGITransport(app=create_app(ctx))
        async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=30) as c:
            user = await make_user(ctx, "pushracer")
            sent = [body(f"{ENDPOINT}/{i}") for i in range(30)] + [body()] * 5
            responses = await asyncio.gather(
                *(c.post("/api/push/subscribe", json=b, headers=user.headers) for b in sent)
            )
            assert [r.status_code for r in responses] == [204] * len(sent)
            stored = await rows(ctx, user.id)
            assert len(stored) == push_service.MAX_SUBSCRIPTIONS_PER_USER
            assert len({r.endpoint for r in stored}) == len(stored)
    finally:
        await pool.close()
