"""TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30 s, one step of skew either way) and the encryption
of TOTP secrets at rest: ChaCha20-Poly1305 with key = SHA-256(TOTP_ENCRYPTION_KEY as UTF-8),
stored as nonce (12 bytes) || ciphertext+tag, as the original stores them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import struct
from datetime import datetime
from urllib.parse import quote

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

ISSUER = "Chatalot"
DIGITS = 6
STEP = 30
SKEW = 1


def new_secret() -> bytes:
    return secrets.token_bytes(20)


def secret_base32(secret: bytes) -> str:
    return base64.b32encode(secret).decode().rstrip("=")


def otpauth_url(username: str, secret: bytes) -> str:
    label = quote(f"{ISSUER}:{username}", safe=":@")
    return f"otpauth://totp/{label}?secret={secret_base32(secret)}&issuer={ISSUER}"


def _code_at(secret: bytes, counter: int) -> str:
    digest = hmac.new(secret, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**DIGITS).zfill(DIGITS)


def step_at(when: datetime) -> int:
    """The RFC 6238 time step (counter) that ``when`` falls in."""
    return int(when.timestamp()) // STEP


def code_for(secret: bytes, when: datetime) -> str:
    return _code_at(secret, step_at(when))


def verify_code(secret: bytes, code: str, when: datetime) -> int | None:
    """The time step ``code`` belongs to (the current one or one step either side), or None.

    Constant-time: every candidate step is compared. Callers must accept a step at most once
    (remember the last accepted step per user), or a code seen once could be replayed while it
    is still inside the window."""
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    counter = step_at(when)
    matched: int | None = None
    for delta in range(-SKEW, SKEW + 1):
        if hmac.compare_digest(_code_at(secret, counter + delta), code):
            matched = counter + delta  # the latest matching step wins
    return matched


def _key(encryption_key: str) -> bytes:
    return hashlib.sha256(encryption_key.encode("utf-8")).digest()


def encrypt_secret(encryption_key: str, secret: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + ChaCha20Poly1305(_key(encryption_key)).encrypt(nonce, secret, None)


def decrypt_secret(encryption_key: str, stored: bytes) -> bytes | None:
    """The secret, or None when it cannot be decrypted (e.g. TOTP_ENCRYPTION_KEY changed)."""
    if len(stored) <= 28:
        return None
    try:
        return ChaCha20Poly1305(_key(encryption_key)).decrypt(stored[:12], stored[12:], None)
    except InvalidTag:
        return None
