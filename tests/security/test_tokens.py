"""Access tokens: only our EdDSA tokens, unexpired (60 s leeway), for audience chatalot."""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from chatalot.bootstrap import generate_jwt_keypair
from chatalot.clock import FakeClock
from chatalot.security.tokens import (
    ACCESS_TOKEN_SECONDS,
    InvalidToken,
    JwtKeys,
    KeyLoadError,
    TokenService,
    new_refresh_token,
    refresh_token_hash,
)

NOW = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)
USER = uuid.UUID("0192f3a4-0000-7000-8000-000000000001")


@pytest.fixture
def service() -> TokenService:
    return TokenService(JwtKeys.generate(), FakeClock(NOW))


def claims(**overrides: object) -> dict[str, object]:
    iat = int(NOW.timestamp())
    base: dict[str, object] = {
        "sub": str(USER),
        "username": "alice",
        "is_admin": False,
        "is_owner": False,
        "iat": iat,
        "exp": iat + 900,
        "jti": str(uuid.uuid4()),
        "aud": "chatalot",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def test_issued_token_has_the_original_claims(service: TokenService) -> None:
    """Header EdDSA/JWT; claims sub, username, is_admin, is_owner, iat, exp=iat+900, jti, aud."""
    token = service.issue_access_token(
        user_id=USER, username="alice", is_admin=True, is_owner=False
    )
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "EdDSA", "typ": "JWT"}
    payload = jwt.decode(token, options={"verify_signature": False})
    assert set(payload) == {"sub", "username", "is_admin", "is_owner", "iat", "exp", "jti", "aud"}
    assert payload["exp"] - payload["iat"] == ACCESS_TOKEN_SECONDS
    assert payload["aud"] == "chatalot"
    assert uuid.UUID(payload["jti"]).version == 4
    verified = service.verify_access_token(token)
    assert verified.user_id == USER and verified.is_admin is True


def test_expiry_with_leeway(service: TokenService) -> None:
    """A token is accepted up to 60 s after exp, refused after."""
    token = service.issue_access_token(user_id=USER, username="a", is_admin=False, is_owner=False)
    clock = service._clock
    assert isinstance(clock, FakeClock)
    clock.advance(ACCESS_TOKEN_SECONDS + 59)
    service.verify_access_token(token)
    clock.advance(2)
    with pytest.raises(InvalidToken):
        service.verify_access_token(token)


def sign(service: TokenService, payload: dict[str, object]) -> str:
    return jwt.encode(payload, service._keys.private_key, algorithm="EdDSA")


@pytest.mark.parametrize(
    "payload",
    [
        claims(aud="someone-else"),
        claims(aud=["chatalot"]),
        claims(aud=None),
        claims(sub="not-a-uuid"),
        claims(sub=None),
        claims(jti="nope"),
        claims(username=None),
        claims(username=42),
        claims(exp=None),
        claims(exp="soon"),
        claims(iat="now"),
        claims(is_admin="yes"),
    ],
)
def test_malformed_claims_are_refused(service: TokenService, payload: dict[str, object]) -> None:
    """Claims of the wrong shape are refused even when the signature is right."""
    with pytest.raises(InvalidToken):
        service.verify_access_token(sign(service, payload))


def test_other_key_is_refused(service: TokenService) -> None:
    """A token signed by another Ed25519 key is refused."""
    token = jwt.encode(claims(), Ed25519PrivateKey.generate(), algorithm="EdDSA")
    with pytest.raises(InvalidToken):
        service.verify_access_token(token)


def test_alg_none_is_refused(service: TokenService) -> None:
    """alg=none (no signature) is refused."""

    def b64(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims())}."
    with pytest.raises(InvalidToken):
        service.verify_access_token(token)


def test_hmac_with_public_key_is_refused(service: TokenService) -> None:
    """The classic algorithm-confusion attack (HS256 keyed with the public key) fails."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    public_pem = service._keys.public_key.public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    )
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps(claims()).encode()).rstrip(b"=")
    import hashlib
    import hmac

    signature = base64.urlsafe_b64encode(
        hmac.new(public_pem, header + b"." + body, hashlib.sha256).digest()
    ).rstrip(b"=")
    with pytest.raises(InvalidToken):
        service.verify_access_token(b".".join([header, body, signature]).decode())


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "x" * 5000, "Bearer x"])
def test_garbage_is_refused(service: TokenService, token: str) -> None:
    """Anything that is not a JWT is refused, never an exception."""
    with pytest.raises(InvalidToken):
        service.verify_access_token(token)


def test_refresh_tokens() -> None:
    """Refresh tokens are 64 hex chars; only the SHA-256 of the raw bytes is stored."""
    token, digest = new_refresh_token()
    assert len(token) == 64 and token == token.lower()
    assert refresh_token_hash(token) == digest
    assert refresh_token_hash(token.upper()) == digest
    assert refresh_token_hash("zz" * 32) is None
    assert refresh_token_hash(token[:-2]) is None


def test_key_files(tmp_path: Path) -> None:
    """Generated PEM files load; a missing or foreign key gives one sentence naming the variable."""
    private, public = tmp_path / "k" / "priv.pem", tmp_path / "k" / "pub.pem"
    generate_jwt_keypair(private, public)
    keys = JwtKeys.load(private, public)
    service = TokenService(keys, FakeClock(datetime.fromtimestamp(time.time(), UTC)))
    service.verify_access_token(
        service.issue_access_token(user_id=USER, username="a", is_admin=False, is_owner=False)
    )
    with pytest.raises(KeyLoadError, match=r"^JWT_PRIVATE_KEY_PATH: cannot read"):
        JwtKeys.load(tmp_path / "missing.pem", public)
    (tmp_path / "junk.pem").write_text("not a key")
    with pytest.raises(KeyLoadError, match=r"^JWT_PUBLIC_KEY_PATH: .* is not a PEM-encoded key"):
        JwtKeys.load(private, tmp_path / "junk.pem")
    other_private, other_public = tmp_path / "o" / "priv.pem", tmp_path / "o" / "pub.pem"
    generate_jwt_keypair(other_private, other_public)
    with pytest.raises(KeyLoadError, match=r"^JWT_PUBLIC_KEY_PATH: .* is not the public key of"):
        JwtKeys.load(private, other_public)


def test_verified_token_cache(service: TokenService) -> None:
    """A cached token is still refused once expired; the cache never exceeds its size."""
    small = TokenService(service._keys, service._clock, cache_size=3)
    tokens = [
        small.issue_access_token(user_id=USER, username=f"u{i}", is_admin=False, is_owner=False)
        for i in range(5)
    ]
    for token in tokens:
        small.verify_access_token(token)
    assert len(small._cache) == 3
    clock = small._clock
    assert isinstance(clock, FakeClock)
    clock.advance(ACCESS_TOKEN_SECONDS + 61)
    with pytest.raises(InvalidToken):
        small.verify_access_token(tokens[-1])
    assert tokens[-1] not in small._cache


def test_session_claim(service: TokenService) -> None:
    """The optional sid claim names the refresh chain; a malformed one is refused."""
    sid = uuid.uuid4()
    token = service.issue_access_token(
        user_id=USER, username="a", is_admin=False, is_owner=False, session_id=sid
    )
    assert service.verify_access_token(token).session_id == sid
    plain = service.issue_access_token(user_id=USER, username="a", is_admin=False, is_owner=False)
    assert service.verify_access_token(plain).session_id is None
    with pytest.raises(InvalidToken):
        service.verify_access_token(sign(service, claims(sid="nope")))
