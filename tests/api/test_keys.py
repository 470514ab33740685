"""The end-to-end key directory: /api/keys/register, /api/keys/{user_id}/bundle,
/api/keys/prekeys/signed, /api/keys/prekeys/one-time and /api/keys/prekeys/count."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import httpx
import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from chatalot.context import Ctx
from chatalot.protocol.events import KeysLow
from chatalot.services.audience import Users
from tests.conftest import RecordingSink
from tests.support.auth import TestUser, key_payload, make_user, raw_public

BUNDLE_KEYS = {"identity_key", "signed_prekey", "one_time_prekey"}


def error(response: httpx.Response, status: int = 400) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["error"]["message"])


def prekeys(start: int, count: int) -> list[dict[str, Any]]:
    return [
        {"key_id": i, "public_key": list(raw_public(Ed25519PrivateKey.generate()))}
        for i in range(start, start + count)
    ]


async def register_keys(
    client: httpx.AsyncClient, user: TestUser, one_time: int = 2
) -> tuple[dict[str, Any], Ed25519PrivateKey]:
    """Uploads a full key set for ``user``; returns the payload and the identity private key."""
    identity = Ed25519PrivateKey.generate()
    signed = raw_public(Ed25519PrivateKey.generate())
    payload = {
        "identity_key": list(raw_public(identity)),
        "signed_prekey": {
            "key_id": 1,
            "public_key": list(signed),
            "signature": list(identity.sign(signed)),
        },
        "one_time_prekeys": prekeys(1, one_time),
    }
    response = await client.post("/api/keys/register", json=payload, headers=user.headers)
    assert response.status_code == 200, response.text
    return payload, identity


def signed_prekey(identity: Ed25519PrivateKey, key_id: int) -> dict[str, Any]:
    public = raw_public(Ed25519PrivateKey.generate())
    return {"key_id": key_id, "public_key": list(public), "signature": list(identity.sign(public))}


async def count(client: httpx.AsyncClient, user: TestUser) -> int:
    response = await client.get("/api/keys/prekeys/count", headers=user.headers)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"count"}
    return int(response.json()["count"])


async def bundle(client: httpx.AsyncClient, caller: TestUser, target: Any) -> httpx.Response:
    return await client.get(f"/api/keys/{target}/bundle", headers=caller.headers)


# -- POST /api/keys/register ----------------------------------------------------------------


async def test_register_stores_keys_and_answers_empty(
    client: httpx.AsyncClient, ctx: Ctx, db_conn: Any
) -> None:
    user = await make_user(ctx)
    payload = key_payload(one_time=3)
    response = await client.post("/api/keys/register", json=payload, headers=user.headers)
    assert response.status_code == 200
    assert response.content == b""
    assert "content-type" not in response.headers
    identity = await db_conn.fetchrow(
        "SELECT identity_key, fingerprint FROM identity_keys WHERE user_id = $1", user.id
    )
    assert bytes(identity["identity_key"]) == bytes(payload["identity_key"])
    assert identity["fingerprint"] == hashlib.sha256(bytes(payload["identity_key"])).hexdigest()
    signed = await db_conn.fetchrow(
        "SELECT key_id, public_key, signature FROM signed_prekeys WHERE user_id = $1", user.id
    )
    assert signed["key_id"] == 1
    assert bytes(signed["public_key"]) == bytes(payload["signed_prekey"]["public_key"])
    assert bytes(signed["signature"]) == bytes(payload["signed_prekey"]["signature"])
    assert await count(client, user) == 3


async def test_register_twice_with_the_same_payload_is_fine(
    client: httpx.AsyncClient, ctx: Ctx, db_conn: Any
) -> None:
    """The client re-uploads its keys on every app open."""
    user = await make_user(ctx)
    payload = key_payload(one_time=5)
    for _ in range(2):
        response = await client.post("/api/keys/register", json=payload, headers=user.headers)
        assert response.status_code == 200, response.text
    assert await count(client, user) == 5
    assert (
        await db_conn.fetchval("SELECT count(*) FROM signed_prekeys WHERE user_id = $1", user.id)
        == 1
    )
    rotated = await db_conn.fetchval(
        "SELECT rotated_at FROM identity_keys WHERE user_id = $1", user.id
    )
    assert rotated is not None


async def test_register_new_keys_replace_all_one_time_prekeys(
    client: httpx.AsyncClient, ctx: Ctx, db_conn: Any
) -> None:
    """A non-empty list replaces every one-time prekey, used ones too (a key reset reuses key
    ids 1..N with new keys; the original did the same)."""
    user = await make_user(ctx)
    other = await make_user(ctx)
    await register_keys(client, user, one_time=4)
    assert (await bundle(client, other, user.id)).status_code == 200  # uses key 1
    payload, _ = await register_keys(client, user, one_time=3)
    rows = await db_conn.fetch(
        "SELECT key_id, public_key, used FROM one_time_prekeys WHERE user_id = $1 ORDER BY key_id",
        user.id,
    )
    assert [(r["key_id"], bytes(r["public_key"]), r["used"]) for r in rows] == [
        (p["key_id"], bytes(p["public_key"]), False) for p in payload["one_time_prekeys"]
    ]


async def test_register_with_no_one_time_prekeys_keeps_the_old_ones(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    user = await make_user(ctx)
    payload, _ = await register_keys(client, user, one_time=4)
    payload = {**payload, "one_time_prekeys": []}
    response = await client.post("/api/keys/register", json=payload, headers=user.headers)
    assert response.status_code == 200
    assert await count(client, user) == 4


async def test_register_identity_change_serves_the_new_identity(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    user = await make_user(ctx)
    other = await make_user(ctx)
    await register_keys(client, user)
    payload, _ = await register_keys(client, user)
    body = (await bundle(client, other, user.id)).json()
    assert body["identity_key"] == payload["identity_key"]
    assert body["signed_prekey"] == payload["signed_prekey"]


def _with(path: str, value: Any) -> Any:
    def change(body: dict[str, Any]) -> None:
        target = body
        *parents, last = path.split(".")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if last.isdigit():
            target[int(last)] = value
        else:
            target[last] = value

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_with("identity_key", [1] * 31), "identity key must be 32 bytes"),
        (_with("identity_key", [1] * 33), "identity key must be 32 bytes"),
        (_with("identity_key", []), "identity key must be 32 bytes"),
        (_with("signed_prekey.public_key", [1] * 31), "signed prekey must be 32 bytes"),
        (_with("signed_prekey.signature", [1] * 63), "signature must be 64 bytes"),
        (_with("signed_prekey.signature", [0] * 64), "signed prekey signature verification failed"),
        (_with("one_time_prekeys", prekeys(1, 201)), "maximum 200 one-time prekeys per upload"),
        (
            _with("one_time_prekeys.0.public_key", [1, 2, 3]),
            "each prekey public_key must be exactly 32 bytes",
        ),
    ],
)
async def test_register_refuses_bad_keys(
    client: httpx.AsyncClient, ctx: Ctx, change: Any, message: str
) -> None:
    user = await make_user(ctx)
    payload = key_payload()
    change(payload)
    response = await client.post("/api/keys/register", json=payload, headers=user.headers)
    assert error(response) == message
    assert await count(client, user) == 0


async def test_register_refuses_a_signature_by_another_key(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    user = await make_user(ctx)
    payload = key_payload()
    payload["identity_key"] = list(raw_public(Ed25519PrivateKey.generate()))
    response = await client.post("/api/keys/register", json=payload, headers=user.headers)
    assert error(response) == "signed prekey signature verification failed"


@pytest.mark.parametrize(
    "change",
    [
        _with("identity_key", [256] + [0] * 31),
        _with("identity_key", [-1] + [0] * 31),
        _with("identity_key", "AAAA"),
        _with("identity_key", None),
        _with("identity_key", [1.5] * 32),
        _with("signed_prekey", [1, 2]),
        _with("signed_prekey.key_id", 2**31),
        _with("one_time_prekeys", None),
        _with("one_time_prekeys", {"key_id": 1}),
        _with("one_time_prekeys.0.key_id", -(2**31) - 1),
        _with("one_time_prekeys.0.public_key", [300] * 32),
    ],
)
async def test_register_refuses_malformed_bodies(
    client: httpx.AsyncClient, ctx: Ctx, change: Any
) -> None:
    user = await make_user(ctx)
    payload = key_payload()
    change(payload)
    response = await client.post("/api/keys/register", json=payload, headers=user.headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize("body", [None, [], {}, "keys", {"identity_key": [1] * 32}])
async def test_register_refuses_missing_fields(
    client: httpx.AsyncClient, ctx: Ctx, body: Any
) -> None:
    user = await make_user(ctx)
    response = await client.post("/api/keys/register", json=body, headers=user.headers)
    assert response.status_code == 400, response.text


# -- GET /api/keys/{user_id}/bundle ---------------------------------------------------------


async def test_bundle_shape_and_oldest_one_time_prekey_first(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    user = await make_user(ctx)
    caller = await make_user(ctx)
    payload, _ = await register_keys(client, user, one_time=3)
    seen = []
    for _ in range(3):
        response = await bundle(client, caller, user.id)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == BUNDLE_KEYS
        assert body["identity_key"] == payload["identity_key"]
        assert body["signed_prekey"] == payload["signed_prekey"]
        assert set(body["one_time_prekey"]) == {"key_id", "public_key"}
        seen.append(body["one_time_prekey"])
    assert seen == payload["one_time_prekeys"]
    exhausted = (await bundle(client, caller, user.id)).json()
    assert exhausted["one_time_prekey"] is None
    assert set(exhausted) == BUNDLE_KEYS
    assert await count(client, user) == 0


async def test_bundle_of_oneself(client: httpx.AsyncClient, ctx: Ctx) -> None:
    user = await make_user(ctx)
    await register_keys(client, user, one_time=1)
    response = await bundle(client, user, user.id)
    assert response.status_code == 200
    assert response.json()["one_time_prekey"]["key_id"] == 1


async def test_bundle_serves_the_newest_signed_prekey(client: httpx.AsyncClient, ctx: Ctx) -> None:
    user = await make_user(ctx)
    caller = await make_user(ctx)
    _, identity = await register_keys(client, user)
    newer = signed_prekey(identity, 7)
    response = await client.post("/api/keys/prekeys/signed", json=newer, headers=user.headers)
    assert response.status_code == 200, response.text
    assert (await bundle(client, caller, user.id)).json()["signed_prekey"] == newer


async def test_bundle_sends_keys_low_to_the_target(
    client: httpx.AsyncClient, ctx: Ctx, sink: RecordingSink
) -> None:
    """Fewer than 25 unused left after the claim: keys_low {remaining} to the target's
    sessions, every time (also at 0)."""
    user = await make_user(ctx)
    caller = await make_user(ctx)
    await register_keys(client, user, one_time=26)
    sink.published.clear()
    await bundle(client, caller, user.id)  # 25 left: nothing
    assert sink.published == []
    await bundle(client, caller, user.id)  # 24 left
    [emitted] = sink.published
    assert emitted.audience == Users.of([user.id])
    assert isinstance(emitted.event, KeysLow)
    assert msgspec.json.decode(msgspec.json.encode(emitted.event)) == {
        "type": "keys_low",
        "remaining": 24,
    }
    for _ in range(24):
        await bundle(client, caller, user.id)
    sink.published.clear()
    response = await bundle(client, caller, user.id)
    assert response.json()["one_time_prekey"] is None
    [emitted] = sink.published
    assert emitted.event == KeysLow(remaining=0)


async def test_bundle_not_found(client: httpx.AsyncClient, ctx: Ctx, db_conn: Any) -> None:
    caller = await make_user(ctx)
    no_keys = await make_user(ctx)
    assert error(await bundle(client, caller, uuid.uuid4()), 404) == "key bundle not found"
    assert error(await bundle(client, caller, no_keys.id), 404) == "key bundle not found"
    # an identity key without any signed prekey is not a bundle either
    await register_keys(client, no_keys)
    await db_conn.execute("DELETE FROM signed_prekeys WHERE user_id = $1", no_keys.id)
    assert error(await bundle(client, caller, no_keys.id), 404) == "key bundle not found"
    # and a 404 consumes nothing
    assert await count(client, no_keys) == 2


@pytest.mark.parametrize("bad", ["nope", "123", "%20", "00000000-0000-0000-0000-00000000000g"])
async def test_bundle_bad_user_id(client: httpx.AsyncClient, ctx: Ctx, bad: str) -> None:
    caller = await make_user(ctx)
    assert error(await bundle(client, caller, bad)) == "invalid user id"


async def test_bundle_accepts_the_simple_uuid_form(client: httpx.AsyncClient, ctx: Ctx) -> None:
    user = await make_user(ctx)
    caller = await make_user(ctx)
    await register_keys(client, user)
    assert (await bundle(client, caller, user.id.hex)).status_code == 200


# -- POST /api/keys/prekeys/signed ----------------------------------------------------------


async def test_signed_prekey_upsert_by_key_id(
    client: httpx.AsyncClient, ctx: Ctx, db_conn: Any
) -> None:
    user = await make_user(ctx)
    caller = await make_user(ctx)
    _, identity = await register_keys(client, user)
    for _ in range(2):
        again = signed_prekey(identity, 1)
        response = await client.post("/api/keys/prekeys/signed", json=again, headers=user.headers)
        assert response.status_code == 200
        assert response.content == b""
    assert (
        await db_conn.fetchval("SELECT count(*) FROM signed_prekeys WHERE user_id = $1", user.id)
        == 1
    )
    assert (await bundle(client, caller, user.id)).json()["signed_prekey"] == again


async def test_signed_prekeys_are_pruned_to_the_newest_ten(
    client: httpx.AsyncClient, ctx: Ctx, db_conn: Any
) -> None:
    user = await make_user(ctx)
    _, identity = await register_keys(client, user)
    for key_id in range(2, 15):
        response = await client.post(
            "/api/keys/prekeys/signed", json=signed_prekey(identity, key_id), headers=user.headers
        )
        assert response.status_code == 200
    kept = await db_conn.fetch("SELECT key_id FROM signed_prekeys WHERE user_id = $1", user.id)
    assert len(kept) == 10


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"public_key": [1] * 31}, "public key must be 32 bytes"),
        ({"public_key": [1] * 64}, "public key must be 32 bytes"),
        ({"signature": [1] * 63}, "signature must be 64 bytes"),
        ({"signature": [0] * 64}, "signed prekey signature verification failed"),
    ],
)
async def test_signed_prekey_errors(
    client: httpx.AsyncClient, ctx: Ctx, change: dict[str, Any], message: str
) -> None:
    user = await make_user(ctx)
    _, identity = await register_keys(client, user)
    body = {**signed_prekey(identity, 2), **change}
    response = await client.post("/api/keys/prekeys/signed", json=body, headers=user.headers)
    assert error(response) == message


async def test_signed_prekey_signed_by_another_identity(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    user = await make_user(ctx)
    await register_keys(client, user)
    body = signed_prekey(Ed25519PrivateKey.generate(), 2)
    response = await client.post("/api/keys/prekeys/signed", json=body, headers=user.headers)
    assert error(response) == "signed prekey signature verification failed"


async def test_signed_prekey_needs_an_identity_key(client: httpx.AsyncClient, ctx: Ctx) -> None:
    user = await make_user(ctx)
    body = signed_prekey(Ed25519PrivateKey.generate(), 1)
    response = await client.post("/api/keys/prekeys/signed", json=body, headers=user.headers)
    assert error(response) == "must register identity key before uploading signed prekey"


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"key_id": 1, "public_key": [1] * 32},
        {"key_id": 2**31, "public_key": [1] * 32, "signature": [1] * 64},
        {"key_id": 1, "public_key": [256] * 32, "signature": [1] * 64},
        {"key_id": 1, "public_key": "x" * 32, "signature": [1] * 64},
        {"key_id": 1, "public_key": [1] * 32, "signature": {"a": 1}},
    ],
)
async def test_signed_prekey_malformed(client: httpx.AsyncClient, ctx: Ctx, body: Any) -> None:
    user = await make_user(ctx)
    await register_keys(client, user)
    response = await client.post("/api/keys/prekeys/signed", json=body, headers=user.headers)
    assert response.status_code == 400, response.text


# -- POST /api/keys/prekeys/one-time and GET /api/keys/prekeys/count ------------------------


async def test_one_time_upload_adds_and_skips_duplicates(
    client: httpx.AsyncClient, ctx: Ctx, db_conn: Any
) -> None:
    user = await make_user(ctx)
    caller = await make_user(ctx)
    await register_keys(client, user, one_time=2)  # key ids 1, 2
    await bundle(client, caller, user.id)  # key 1 used
    first = prekeys(1, 4)  # 1 (used) and 2 (unused) already exist: skipped
    first.append(dict(first[-1]))  # a duplicate within the upload: skipped too
    response = await client.post("/api/keys/prekeys/one-time", json=first, headers=user.headers)
    assert response.status_code == 200, response.text
    assert response.content == b""
    assert await count(client, user) == 3  # 2, 3, 4
    stored = await db_conn.fetchval(
        "SELECT public_key FROM one_time_prekeys WHERE user_id = $1 AND key_id = 3", user.id
    )
    assert bytes(stored) == bytes(first[2]["public_key"])


async def test_one_time_upload_without_other_keys_and_empty(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    user = await make_user(ctx)
    assert await count(client, user) == 0
    response = await client.post("/api/keys/prekeys/one-time", json=[], headers=user.headers)
    assert response.status_code == 200
    response = await client.post(
        "/api/keys/prekeys/one-time", json=prekeys(1, 200), headers=user.headers
    )
    assert response.status_code == 200
    assert await count(client, user) == 200


async def test_one_time_upload_limits(client: httpx.AsyncClient, ctx: Ctx) -> None:
    user = await make_user(ctx)
    response = await client.post(
        "/api/keys/prekeys/one-time", json=prekeys(1, 201), headers=user.headers
    )
    assert error(response) == "maximum 200 one-time prekeys per upload"
    bad = prekeys(1, 3)
    bad[1]["public_key"] = [1] * 31
    response = await client.post("/api/keys/prekeys/one-time", json=bad, headers=user.headers)
    assert error(response) == "each prekey public_key must be exactly 32 bytes"
    assert await count(client, user) == 0


async def test_one_time_unused_cap(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """At most 1000 unused one-time prekeys per user; an upload that would pass that stores
    nothing. Used keys do not count."""
    user = await make_user(ctx)
    caller = await make_user(ctx)
    await register_keys(client, user, one_time=200)
    for start in (201, 401, 601, 801):
        response = await client.post(
            "/api/keys/prekeys/one-time", json=prekeys(start, 200), headers=user.headers
        )
        assert response.status_code == 200
    assert await count(client, user) == 1000
    response = await client.post(
        "/api/keys/prekeys/one-time", json=prekeys(1001, 2), headers=user.headers
    )
    assert error(response) == (
        "too many one-time prekeys: at most 1000 unused per user (you have 1000)"
    )
    assert await count(client, user) == 1000
    await bundle(client, caller, user.id)
    response = await client.post(
        "/api/keys/prekeys/one-time", json=prekeys(1001, 1), headers=user.headers
    )
    assert response.status_code == 200
    assert await count(client, user) == 1000


@pytest.mark.parametrize(
    "body",
    [
        None,
        {"key_id": 1, "public_key": [1] * 32},
        [{"key_id": 1}],
        [{"key_id": 2**31, "public_key": [1] * 32}],
        [{"key_id": 1, "public_key": [256] * 32}],
        [{"key_id": 1, "public_key": "AAAA"}],
        [[1, 2]],
    ],
)
async def test_one_time_upload_malformed(client: httpx.AsyncClient, ctx: Ctx, body: Any) -> None:
    user = await make_user(ctx)
    response = await client.post("/api/keys/prekeys/one-time", json=body, headers=user.headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "validation_error"


async def test_huge_one_time_list_is_refused_without_a_500(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    user = await make_user(ctx)
    body = [{"key_id": i, "public_key": [7] * 32} for i in range(5000)]
    response = await client.post("/api/keys/prekeys/one-time", json=body, headers=user.headers)
    assert response.status_code in (400, 413), response.text
    assert await count(client, user) == 0
