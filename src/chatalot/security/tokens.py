"""Access tokens: EdDSA (Ed25519) JWTs with the original's claims, and opaque refresh tokens.

Access token claims: sub, username, is_admin, is_owner, iat, exp (= iat + 900), jti (UUIDv4),
aud ("chatalot"). Verification: EdDSA only, aud required and equal, exp checked with 60 s
leeway against the injected clock, sub/jti UUID strings, username string, iat integer.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from chatalot.clock import Clock

AUDIENCE = "chatalot"
ACCESS_TOKEN_SECONDS = 900
LEEWAY_SECONDS = 60
REFRESH_TOKEN_SECONDS = 30 * 24 * 3600
_ALGORITHMS = ["EdDSA"]


class KeyLoadError(RuntimeError):
    """A JWT key file is missing or not an Ed25519 PEM key; the message names the file."""


class InvalidToken(Exception):
    """The access token is not acceptable (never says why to the client)."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    username: str
    is_admin: bool
    is_owner: bool
    issued_at: int
    expires_at: int
    token_id: uuid.UUID
    session_id: uuid.UUID | None = None  # our extra claim "sid": the refresh chain it came from


@dataclass(frozen=True, slots=True)
class JwtKeys:
    private_key: Ed25519PrivateKey
    public_key: Ed25519PublicKey

    @classmethod
    def generate(cls) -> JwtKeys:
        key = Ed25519PrivateKey.generate()
        return cls(private_key=key, public_key=key.public_key())

    @classmethod
    def load(cls, private_path: Path, public_path: Path) -> JwtKeys:
        private = _load(private_path, private=True)
        public = _load(public_path, private=False)
        assert isinstance(private, Ed25519PrivateKey)
        assert isinstance(public, Ed25519PublicKey)
        if _raw(private.public_key()) != _raw(public):
            # Every token the server issued would be refused (401) and every client logged out.
            raise KeyLoadError(
                f"JWT_PUBLIC_KEY_PATH: {public_path} is not the public key of "
                f"JWT_PRIVATE_KEY_PATH ({private_path}); both must come from one key pair "
                "(`chatalot init` creates one)"
            )
        return cls(private_key=private, public_key=public)


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _load(path: Path, *, private: bool) -> Ed25519PrivateKey | Ed25519PublicKey:
    variable = "JWT_PRIVATE_KEY_PATH" if private else "JWT_PUBLIC_KEY_PATH"
    try:
        data = path.read_bytes()
    except OSError as err:
        raise KeyLoadError(
            f"{variable}: cannot read {path} ({err.strerror}); run `chatalot init` to create "
            "the key pair, or give the server's user read access to the file"
        ) from None
    try:
        key = (
            serialization.load_pem_private_key(data, password=None)
            if private
            else serialization.load_pem_public_key(data)
        )
    except (ValueError, TypeError):
        raise KeyLoadError(f"{variable}: {path} is not a PEM-encoded key") from None
    expected = Ed25519PrivateKey if private else Ed25519PublicKey
    if not isinstance(key, expected):
        raise KeyLoadError(f"{variable}: {path} is not an Ed25519 key")
    return key


class TokenService:
    """Issues and verifies access tokens.

    Verifying an Ed25519 signature costs ~0.1 ms on a small VPS core, and a client presents the
    same token on every request for 15 minutes; so successfully verified tokens are remembered
    (a bounded LRU of at most ``cache_size``) and a repeat costs a dictionary lookup plus the
    expiry check. Only tokens that passed full verification are ever cached.
    """

    def __init__(self, keys: JwtKeys, clock: Clock, cache_size: int = 10_000) -> None:
        self._keys = keys
        self._clock = clock
        self._cache: OrderedDict[str, AccessClaims] = OrderedDict()
        self._cache_size = cache_size

    def issue_access_token(
        self,
        *,
        user_id: uuid.UUID,
        username: str,
        is_admin: bool,
        is_owner: bool,
        session_id: uuid.UUID | None = None,
    ) -> str:
        """``session_id`` (claim ``sid``, ours) names the refresh chain, so actions such as a
        password change can end every session except the caller's."""
        now = int(self._clock.now().timestamp())
        claims: dict[str, object] = {
            "sub": str(user_id),
            "username": username,
            "is_admin": is_admin,
            "is_owner": is_owner,
            "iat": now,
            "exp": now + ACCESS_TOKEN_SECONDS,
            "jti": str(uuid.uuid4()),
            "aud": AUDIENCE,
        }
        if session_id is not None:
            claims["sid"] = str(session_id)
        return jwt.encode(claims, self._keys.private_key, algorithm="EdDSA")

    def verify_access_token(self, token: str) -> AccessClaims:
        now = int(self._clock.now().timestamp())
        cached = self._cache.get(token)
        if cached is not None:
            if now > cached.expires_at + LEEWAY_SECONDS:
                del self._cache[token]
                raise InvalidToken
            self._cache.move_to_end(token)
            return cached
        claims = self._verify_fully(token, now)
        self._cache[token] = claims
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return claims

    def is_cached(self, token: str) -> bool:
        """True when this token already passed full verification (and may be cached)."""
        return token in self._cache

    def forget(self, token: str) -> None:
        self._cache.pop(token, None)

    def _verify_fully(self, token: str, now: int) -> AccessClaims:
        try:
            claims = jwt.decode(
                token,
                self._keys.public_key,
                algorithms=_ALGORITHMS,
                audience=AUDIENCE,
                options={
                    "require": ["exp", "aud", "sub", "iat", "jti"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.PyJWTError:
            raise InvalidToken from None
        return _claims(claims, now=now)


def _claims(claims: dict[str, object], *, now: int) -> AccessClaims:
    exp, iat = claims.get("exp"), claims.get("iat")
    sub, jti, username = claims.get("sub"), claims.get("jti"), claims.get("username")
    if not isinstance(claims.get("aud"), str):  # a list audience is refused, as the original
        raise InvalidToken
    if not _is_int(exp) or not _is_int(iat) or not isinstance(username, str):
        raise InvalidToken
    assert isinstance(exp, int)
    assert isinstance(iat, int)
    if now > exp + LEEWAY_SECONDS:
        raise InvalidToken
    try:
        user_id = uuid.UUID(str(sub)) if isinstance(sub, str) else None
        token_id = uuid.UUID(str(jti)) if isinstance(jti, str) else None
    except ValueError:
        raise InvalidToken from None
    if user_id is None or token_id is None:
        raise InvalidToken
    is_admin, is_owner = claims.get("is_admin", False), claims.get("is_owner", False)
    if not isinstance(is_admin, bool) or not isinstance(is_owner, bool):
        raise InvalidToken
    sid = claims.get("sid")
    try:
        session_id = uuid.UUID(sid) if isinstance(sid, str) else None
    except ValueError:
        raise InvalidToken from None
    if sid is not None and session_id is None:
        raise InvalidToken
    return AccessClaims(
        user_id=user_id,
        username=username,
        is_admin=is_admin,
        is_owner=is_owner,
        issued_at=iat,
        expires_at=exp,
        token_id=token_id,
        session_id=session_id,
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def new_refresh_token() -> tuple[str, bytes]:
    """A new refresh token: (64 lowercase hex chars for the client, SHA-256 of the raw bytes)."""
    raw = secrets.token_bytes(32)
    return raw.hex(), hashlib.sha256(raw).digest()


def refresh_token_hash(token: str) -> bytes | None:
    """The stored hash for a presented token, or None when it is not 64 hex characters."""
    if len(token) != 64:
        return None
    try:
        raw = bytes.fromhex(token)
    except ValueError:
        return None
    return hashlib.sha256(raw).digest()
