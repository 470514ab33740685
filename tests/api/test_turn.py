"""TURN REST credentials: GET /api/voice/turn-credentials, the TURN entry of /api/auth/config
for signed-in callers, and the TURN_* settings."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatalot.clock import FakeClock
from chatalot.config import ConfigError, Settings, load_settings
from chatalot.context import Ctx
from chatalot.ids import UserId
from chatalot.security.tokens import JwtKeys, TokenService
from chatalot.services import turn
from tests.conftest import settings_in
from tests.support.auth import bearer, make_user
from tests.support.process import base_env, run_cli

SECRET = "north-wind-shared-secret-0123456789"
URIS = "turn:turn.example.com:3478?transport=udp,turns:turn.example.com:5349?transport=tcp"
STUN = '[{"urls": "stun:stun.example.com:3478"}]'
TURN_ENV = {"TURN_SHARED_SECRET": SECRET, "TURN_URIS": URIS, "TURN_TTL_SECS": "3600"}
URL = "/api/voice/turn-credentials"


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """TURN configured (TURN_ENV) unless a test parametrizes ``settings`` with other values."""
    overrides: dict[str, str] = getattr(request, "param", TURN_ENV)
    return settings_in(tmp_path, **overrides)


not_configured = pytest.mark.parametrize("settings", [{"ICE_SERVERS": STUN}], indirect=True)


def clock_of(ctx: Ctx) -> FakeClock:
    assert isinstance(ctx.clock, FakeClock)
    return ctx.clock


def expected_credential(username: str, secret: str = SECRET) -> str:
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def turn_entries(config: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in config.get("ice_servers", []) if "credential" in s or "username" in s]


# -- the credential ---------------------------------------------------------------------------


def test_sign_matches_openssl() -> None:
    """The credential is base64(HMAC-SHA1(secret, username)); the expected value was made with
    `openssl dgst -sha1 -hmac ... -binary | base64`, outside Python."""
    username = "1700000000:8a7c1a5e-0000-4000-8000-000000000001"
    assert turn.sign("north-wind-shared-secret", username) == "YYjWD3JH8bCK7Eb0KwmzyKhf5ns="


async def test_route_gives_credentials_the_turn_server_can_verify(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """username is "<now + TURN_TTL_SECS>:<user id>", credential its HMAC under the shared
    secret, with the TTL and the configured URIs; nothing else, and never cached."""
    user = await make_user(ctx)
    response = await client.get(URL, headers=user.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"username", "credential", "ttl", "uris"}
    expiry = int(clock_of(ctx).now().timestamp()) + 3600
    assert body["username"] == f"{expiry}:{user.id}"
    assert body["credential"] == expected_credential(body["username"])
    assert body["credential"] != expected_credential(body["username"], secret=SECRET + "x")
    assert body["ttl"] == 3600
    assert body["uris"] == URIS.split(",")
    assert response.headers["cache-control"] == "no-store"


async def test_credentials_expire_with_the_clock(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Each request signs a new expiry from the current time: later requests expire later."""
    user = await make_user(ctx)
    first = (await client.get(URL, headers=user.headers)).json()
    clock_of(ctx).advance(600)
    second = (await client.get(URL, headers=user.headers)).json()
    first_expiry = int(first["username"].split(":", 1)[0])
    second_expiry = int(second["username"].split(":", 1)[0])
    assert second_expiry - first_expiry == 600
    assert second_expiry == int(clock_of(ctx).now().timestamp()) + 3600
    assert second["credential"] == expected_credential(second["username"])
    assert second["credential"] != first["credential"]


@pytest.mark.parametrize(
    "settings", [{"TURN_SHARED_SECRET": SECRET, "TURN_URIS": "turn:10.0.0.5"}], indirect=True
)
async def test_default_ttl_is_one_day(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Without TURN_TTL_SECS a credential lasts 86400 s (Synapse's turn_user_lifetime)."""
    user = await make_user(ctx)
    body = (await client.get(URL, headers=user.headers)).json()
    assert body["ttl"] == 86400
    assert body["username"] == f"{int(clock_of(ctx).now().timestamp()) + 86400}:{user.id}"
    assert body["uris"] == ["turn:10.0.0.5"]


async def test_each_user_gets_their_own_username(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """The user id is part of what is signed: one user's credential does not fit another's."""
    alice, bob = await make_user(ctx), await make_user(ctx)
    a = (await client.get(URL, headers=alice.headers)).json()
    b = (await client.get(URL, headers=bob.headers)).json()
    assert a["username"].endswith(f":{alice.id}") and b["username"].endswith(f":{bob.id}")
    assert a["credential"] != b["credential"]


# -- who gets them ----------------------------------------------------------------------------


async def test_route_needs_a_valid_token(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """No token, a forged one, an expired one or a suspended user's: 401 unauthorized."""
    suspended = await make_user(ctx, suspended=True)
    forged = TokenService(JwtKeys.generate(), ctx.clock).issue_access_token(
        user_id=suspended.id, username="x", is_admin=False, is_owner=False
    )
    expiring = await make_user(ctx)
    assert (await client.get(URL, headers=expiring.headers)).status_code == 200
    clock_of(ctx).advance(17 * 60)  # access tokens live 15 minutes, plus 1 minute of leeway
    for headers in (
        {},
        bearer("not-a-token"),
        {"Authorization": "Basic dXNlcjpwYXNz"},
        bearer(forged),
        suspended.headers,
        expiring.headers,
    ):
        response = await client.get(URL, headers=headers)
        assert response.status_code == 401, (headers, response.text)
        assert response.json()["error"]["code"] == "unauthorized"


async def test_auth_config_with_token_adds_a_turn_entry(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """A signed-in caller's /api/auth/config lists the TURN server with its own fresh
    credentials (the same as the dedicated route gives)."""
    user = await make_user(ctx)
    config = (await client.get("/api/auth/config", headers=user.headers)).json()
    [entry] = config["ice_servers"]
    assert entry["urls"] == URIS.split(",")
    expiry = int(clock_of(ctx).now().timestamp()) + 3600
    assert entry["username"] == f"{expiry}:{user.id}"
    assert entry["credential"] == expected_credential(entry["username"])
    route = (await client.get(URL, headers=user.headers)).json()
    assert (route["username"], route["credential"]) == (entry["username"], entry["credential"])


@pytest.mark.parametrize("settings", [{**TURN_ENV, "ICE_SERVERS": STUN}], indirect=True)
async def test_turn_entry_follows_the_configured_ice_servers(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """ICE_SERVERS come first, as configured; the TURN entry is added after them."""
    user = await make_user(ctx)
    config = (await client.get("/api/auth/config", headers=user.headers)).json()
    assert config["ice_servers"][0] == {"urls": "stun:stun.example.com:3478"}
    assert len(config["ice_servers"]) == 2
    assert config["ice_servers"][1]["username"].endswith(f":{user.id}")
    anonymous = (await client.get("/api/auth/config")).json()
    assert anonymous["ice_servers"] == [{"urls": "stun:stun.example.com:3478"}]


async def test_auth_config_without_a_valid_token_has_no_turn_entry(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """No token, garbage, another scheme, a forged, expired or suspended user's token: still
    200 (the route is public, never 401), just without TURN credentials."""
    suspended = await make_user(ctx, suspended=True)
    forged = TokenService(JwtKeys.generate(), ctx.clock).issue_access_token(
        user_id=suspended.id, username="x", is_admin=False, is_owner=False
    )
    expiring = await make_user(ctx)
    assert turn_entries((await client.get("/api/auth/config", headers=expiring.headers)).json())
    clock_of(ctx).advance(17 * 60)
    for headers in (
        {},
        bearer(""),
        bearer("not-a-token"),
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
        bearer(forged),
        suspended.headers,
        expiring.headers,
    ):
        response = await client.get("/api/auth/config", headers=headers)
        assert response.status_code == 200, (headers, response.text)
        config = response.json()
        assert "ice_servers" not in config, (headers, config)
        assert config["registration_mode"]


@not_configured
async def test_not_configured(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Without TURN_SHARED_SECRET / TURN_URIS: the route answers 404 not_found saying so, and
    /api/auth/config gives signed-in callers only the ICE_SERVERS."""
    user = await make_user(ctx)
    response = await client.get(URL, headers=user.headers)
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "TURN is not configured on this server"}
    }
    config = (await client.get("/api/auth/config", headers=user.headers)).json()
    assert config["ice_servers"] == [{"urls": "stun:stun.example.com:3478"}]
    with pytest.raises(Exception, match="TURN is not configured"):
        turn.turn_credentials(ctx, UserId(user.id))


# -- the secret stays on the server -----------------------------------------------------------


async def test_secret_never_in_a_response_or_log(
    client: httpx.AsyncClient, ctx: Ctx, caplog: pytest.LogCaptureFixture
) -> None:
    """Neither the routes (headers and bodies), the OpenAPI document, the log nor the
    settings' printed forms contain the shared secret."""
    user = await make_user(ctx)
    with caplog.at_level(logging.DEBUG):
        responses = [
            await client.get(URL, headers=user.headers),
            await client.get("/api/auth/config", headers=user.headers),
            await client.get("/api/auth/config"),
            await client.get(URL),
            await client.get("/api/openapi/openapi.json"),
        ]
    for response in responses:
        assert response.status_code in (200, 401)
        assert SECRET not in response.text
        assert all(SECRET not in value for value in response.headers.values())
    assert caplog.records, "the request log should have recorded the requests"
    assert all(SECRET not in record.getMessage() for record in caplog.records)
    assert SECRET not in repr(ctx.settings)
    assert ctx.settings.redacted()["TURN_SHARED_SECRET"] == "***"
    assert ctx.settings.redacted()["TURN_URIS"] == URIS
    assert ctx.settings.redacted()["TURN_TTL_SECS"] == "3600"


@pytest.mark.slow
def test_config_check_redacts_the_turn_secret(tmp_path: Path) -> None:
    """`chatalot config check` prints *** for TURN_SHARED_SECRET and the URIs as they are."""
    env = base_env(TOTP_ENCRYPTION_KEY="f" * 64, **TURN_ENV)
    result = run_cli(tmp_path, env, "config", "check")
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert "TURN_SHARED_SECRET" in result.stdout
    shown = dict(line.split(None, 1) for line in result.stdout.splitlines() if " " in line)
    assert shown["TURN_SHARED_SECRET"].strip() == "***", result.stdout
    assert shown["TURN_URIS"].strip() == URIS
    assert shown["TURN_TTL_SECS"].strip() == "3600"


async def test_openapi_describes_both_routes(client: httpx.AsyncClient) -> None:
    """The document: the credentials route needs the bearer token and can answer 404; the
    config route stays public (the optional token is in its description), never 401."""
    doc = (await client.get("/api/openapi/openapi.json")).json()
    credentials = doc["paths"][URL]["get"]
    assert credentials["security"] == [{"bearerAuth": []}]
    assert {"200", "401", "404", "429"} <= set(credentials["responses"])
    schema = credentials["responses"]["200"]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    assert set(schema["required"]) == {"username", "credential", "ttl", "uris"}
    config = doc["paths"]["/api/auth/config"]["get"]
    assert "security" not in config
    assert "Bearer" in config["description"]
    assert "401" not in config["responses"]


# -- settings ---------------------------------------------------------------------------------


def load(**env: str) -> Settings:
    return load_settings(
        {"TOTP_ENCRYPTION_KEY": "f" * 64, "CHATALOT_ENV": "production", **env},
        require_secrets=True,
    )


def test_settings_unset_means_no_turn() -> None:
    """Neither variable: TURN is off (and TURN_TTL_SECS alone changes nothing)."""
    assert load().turn is None
    assert load(TURN_TTL_SECS="600").turn is None


def test_settings_parse() -> None:
    """Secret, comma-separated URIs (spaces trimmed) and TTL are read."""
    settings = load(
        TURN_SHARED_SECRET=SECRET,
        TURN_URIS=" turn:[2001:db8::1]:3478 , turns:turn.example.com:5349?transport=tcp",
        TURN_TTL_SECS="600",
    )
    assert settings.turn is not None
    assert settings.turn.shared_secret == SECRET
    assert settings.turn.uris == (
        "turn:[2001:db8::1]:3478",
        "turns:turn.example.com:5349?transport=tcp",
    )
    assert settings.turn.ttl_secs == 600


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"TURN_URIS": "turn:turn.example.com"}, "TURN_SHARED_SECRET"),
        ({"TURN_SHARED_SECRET": SECRET}, "TURN_URIS"),
        ({"TURN_SHARED_SECRET": SECRET, "TURN_URIS": "stun:turn.example.com"}, "TURN_URIS"),
        ({"TURN_SHARED_SECRET": SECRET, "TURN_URIS": "https://turn.example.com"}, "TURN_URIS"),
        ({"TURN_SHARED_SECRET": SECRET, "TURN_URIS": "turn:a b"}, "TURN_URIS"),
        ({"TURN_SHARED_SECRET": SECRET, "TURN_URIS": "turn:x?transport=sctp"}, "TURN_URIS"),
        ({"TURN_SHARED_SECRET": "change-me", "TURN_URIS": "turn:x"}, "TURN_SHARED_SECRET"),
        ({"TURN_SHARED_SECRET": "short-secret", "TURN_URIS": "turn:x"}, "TURN_SHARED_SECRET"),
        ({**TURN_ENV, "TURN_TTL_SECS": "59"}, "TURN_TTL_SECS"),
        ({**TURN_ENV, "TURN_TTL_SECS": "604801"}, "TURN_TTL_SECS"),
        ({**TURN_ENV, "TURN_TTL_SECS": "a day"}, "TURN_TTL_SECS"),
    ],
)
def test_settings_refuse_bad_values(env: dict[str, str], variable: str) -> None:
    """A bad or half-given TURN setting stops startup with one line naming the variable, and
    the message never repeats the secret."""
    with pytest.raises(ConfigError) as raised:
        load(**env)
    assert raised.value.variable == variable
    secret = env.get("TURN_SHARED_SECRET", "")
    assert not secret or secret not in str(raised.value)


def test_placeholder_secret_allowed_in_dev() -> None:
    """CHATALOT_ENV=dev accepts a short TURN secret (local testing), as with the other secrets."""
    settings = load(CHATALOT_ENV="dev", TURN_SHARED_SECRET="dev", TURN_URIS="turn:127.0.0.1")
    assert settings.turn is not None
    assert settings.turn.shared_secret == "dev"
