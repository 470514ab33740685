"""TOTP codes (RFC 6238, SHA-1, 6 digits, 30 s, ±1 step) and the encryption of secrets at rest
(ChaCha20-Poly1305 with key = SHA-256 of TOTP_ENCRYPTION_KEY, nonce || ciphertext+tag)."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from chatalot.security import codes, totp

RFC_SECRET = b"12345678901234567890"


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@pytest.mark.parametrize(
    ("unix_time", "expected"),
    [
        (59, "287082"),
        (1111111109, "081804"),
        (1111111111, "050471"),
        (1234567890, "005924"),
        (2000000000, "279037"),
        (20000000000, "353130"),
    ],
)
def test_rfc6238_sha1_vectors(unix_time: int, expected: str) -> None:
    """The RFC 6238 appendix B SHA-1 vectors, truncated to 6 digits (leading zeros kept)."""
    assert totp.code_for(RFC_SECRET, at(unix_time)) == expected
    assert totp.verify_code(RFC_SECRET, expected, at(unix_time)) == unix_time // 30


def test_one_step_of_skew_is_accepted_two_are_not() -> None:
    """The previous and next 30 s codes are accepted, and verify_code tells which step each
    belongs to (so it can be used once); codes two steps away are refused."""
    now = at(1_700_000_015)
    current = 1_700_000_015 // 30
    step = timedelta(seconds=30)
    for delta in (-1, 0, 1):
        code = totp.code_for(RFC_SECRET, now + delta * step)
        assert totp.verify_code(RFC_SECRET, code, now) == current + delta
    for delta in (-2, 2):
        code = totp.code_for(RFC_SECRET, now + delta * step)
        assert code not in {totp.code_for(RFC_SECRET, now + d * step) for d in (-1, 0, 1)}
        assert totp.verify_code(RFC_SECRET, code, now) is None


@pytest.mark.parametrize("bad", ["", "28708", "2870820", "28708a", "abcdef", "-28708"])
def test_malformed_codes_are_refused(bad: str) -> None:
    """Wrong length or non-digits never match."""
    assert totp.verify_code(RFC_SECRET, bad, at(59)) is None


def test_full_width_digits_are_refused() -> None:
    """Full-width digits ('２８７０８２') are refused, not an exception."""
    assert totp.verify_code(RFC_SECRET, "２８７０８２", at(59)) is None


def test_spaces_around_and_inside_a_code_are_ignored() -> None:
    """A code typed as '287 082' or with surrounding blanks still matches."""
    assert totp.verify_code(RFC_SECRET, " 287 082 ", at(59)) == 1


def test_new_secret_is_160_bits_and_base32_is_32_chars_unpadded() -> None:
    """Secrets are 20 random bytes; shown as 32 base32 characters without padding."""
    secret = totp.new_secret()
    assert len(secret) == 20
    assert secret != totp.new_secret()
    shown = totp.secret_base32(secret)
    assert len(shown) == 32 and "=" not in shown
    assert base64.b32decode(shown) == secret


def test_otpauth_url_shape() -> None:
    """issuer Chatalot, account = username, defaults (SHA1/6/30) not written."""
    url = totp.otpauth_url("alice", RFC_SECRET)
    assert url == (
        "otpauth://totp/Chatalot:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Chatalot"
    )


def test_encryption_round_trip_and_layout() -> None:
    """nonce(12) || ciphertext+tag(16); decrypting with the same key gives the secret back."""
    secret = totp.new_secret()
    stored = totp.encrypt_secret("server key", secret)
    assert len(stored) == 12 + 20 + 16
    assert secret not in stored
    assert totp.decrypt_secret("server key", stored) == secret
    assert totp.encrypt_secret("server key", secret) != stored  # fresh nonce every time


def test_key_is_sha256_of_the_string() -> None:
    """The stored form is what ChaCha20-Poly1305 with SHA-256(key) produces (original's format)."""
    stored = totp.encrypt_secret("k", RFC_SECRET)
    aead = ChaCha20Poly1305(hashlib.sha256(b"k").digest())
    assert aead.decrypt(stored[:12], stored[12:], None) == RFC_SECRET


def test_empty_key_works() -> None:
    """An empty key (dev mode without TOTP_ENCRYPTION_KEY) still encrypts and decrypts."""
    stored = totp.encrypt_secret("", RFC_SECRET)
    assert totp.decrypt_secret("", stored) == RFC_SECRET


def test_tampering_and_wrong_key_are_detected() -> None:
    """A flipped bit anywhere, a wrong key or a truncated value decrypts to None."""
    stored = totp.encrypt_secret("server key", RFC_SECRET)
    for index in (0, 12, len(stored) - 1):
        tampered = bytearray(stored)
        tampered[index] ^= 0x01
        assert totp.decrypt_secret("server key", bytes(tampered)) is None
    assert totp.decrypt_secret("other key", stored) is None
    assert totp.decrypt_secret("server key", stored[:28]) is None
    assert totp.decrypt_secret("server key", b"") is None


def test_backup_codes_format_and_hash() -> None:
    """XXXX-XXXX from the 32-symbol alphabet; stored as lowercase SHA-256 hex of the string."""
    code = codes.new_backup_code()
    assert re.fullmatch(
        r"[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{4}-[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{4}", code
    )
    assert codes.code_hash(code) == hashlib.sha256(code.encode()).hexdigest()
    assert codes.code_matches(code, codes.code_hash(code))
    assert not codes.code_matches(code.lower(), codes.code_hash(code))
