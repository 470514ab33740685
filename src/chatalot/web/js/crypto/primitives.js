// The cryptographic primitives of the Chatalot protocol, and the only module that touches the
// vendored @noble libraries (audited, dependency-free; see docs/decisions/0008). Ed25519 identity
// keys, X25519, the Ed25519 -> X25519 conversions used by X3DH, SHA-256/512, HKDF-SHA256 and
// ChaCha20-Poly1305. Randomness comes from the browser (crypto.getRandomValues) unless a caller
// passes its own `random(n)`, which the tests use to replay recorded keys and nonces.

import {
  chacha20poly1305,
  ed25519,
  hkdf,
  sha256 as nobleSha256,
  sha512 as nobleSha512,
  x25519 as curve25519,
} from "../../vendor/noble/noble.js";
import { CryptoError } from "./errors.js";
import { requireBytes } from "./bytes.js";

export const KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

export function randomBytes(n) {
  const out = new Uint8Array(n);
  crypto.getRandomValues(out);
  return out;
}

// The random source of an options object, checked so that a faulty injected source cannot
// silently produce short keys or nonces.
export function randomFrom(options) {
  const source = (options && options.random) || randomBytes;
  return (n) => {
    const out = source(n);
    requireBytes(out, n, "random bytes");
    return out;
  };
}

// --- Ed25519 (identity keys) ---

export function ed25519PublicKey(seed) {
  return ed25519.getPublicKey(requireBytes(seed, KEY_BYTES, "identity seed"));
}

export function generateIdentityKey(options) {
  const seed = randomFrom(options)(KEY_BYTES);
  return { seed, publicKey: ed25519PublicKey(seed) };
}

export function sign(seed, message) {
  return ed25519.sign(requireBytes(message), requireBytes(seed, KEY_BYTES, "identity seed"));
}

// true/false; a malformed key or signature is simply "not valid". Strict RFC 8032 checks
// (canonical encodings, no small-order keys), which every honest signature passes.
export function verify(publicKey, message, signature) {
  requireBytes(publicKey, KEY_BYTES, "public key");
  requireBytes(signature, SIGNATURE_BYTES, "signature");
  try {
    return ed25519.verify(signature, requireBytes(message), publicKey, { zip215: false });
  } catch {
    return false;
  }
}

// --- Ed25519 -> X25519 ---

// First 32 bytes of SHA-512(seed), as the crate stores it (X25519 clamps when it uses it).
export function identitySeedToX25519Raw(seed) {
  return nobleSha512(requireBytes(seed, KEY_BYTES, "identity seed")).slice(0, KEY_BYTES);
}

// The same, clamped (libsodium's crypto_sign_ed25519_sk_to_curve25519).
export function identitySeedToX25519(seed) {
  return ed25519.utils.toMontgomerySecret(requireBytes(seed, KEY_BYTES, "identity seed"));
}

// Montgomery u coordinate of the Edwards point.
export function identityPublicToX25519(publicKey) {
  requireBytes(publicKey, KEY_BYTES, "identity key");
  try {
    return ed25519.utils.toMontgomery(publicKey);
  } catch {
    throw new CryptoError("bad_key", "the identity key is not a valid Ed25519 public key");
  }
}

// --- X25519 ---

export function x25519PublicKey(privateKey) {
  return curve25519.getPublicKey(requireBytes(privateKey, KEY_BYTES, "X25519 private key"));
}

export function generateX25519KeyPair(options) {
  const privateKey = randomFrom(options)(KEY_BYTES);
  return { privateKey, publicKey: x25519PublicKey(privateKey) };
}

// Refuses a peer key whose result is all zeros (a low-order point): no honest peer sends one.
export function x25519(privateKey, publicKey) {
  requireBytes(privateKey, KEY_BYTES, "X25519 private key");
  requireBytes(publicKey, KEY_BYTES, "X25519 public key");
  try {
    return curve25519.getSharedSecret(privateKey, publicKey);
  } catch {
    throw new CryptoError("bad_key", "the peer's X25519 key is not usable");
  }
}

// --- hashes and KDF ---

export function sha256(data) {
  return nobleSha256(requireBytes(data));
}

export function sha512(data) {
  return nobleSha512(requireBytes(data));
}

export function hkdfSha256(ikm, salt, info, length) {
  return hkdf(nobleSha256, requireBytes(ikm), requireBytes(salt), requireBytes(info), length);
}

// --- ChaCha20-Poly1305 (RFC 8439): ciphertext || 16-byte tag ---

export function seal(key, nonce, plaintext, aad) {
  requireBytes(key, KEY_BYTES, "message key");
  requireBytes(nonce, NONCE_BYTES, "nonce");
  requireBytes(plaintext, undefined, "plaintext");
  return chacha20poly1305(key, nonce, aad || new Uint8Array(0)).encrypt(plaintext);
}

// The plaintext, or a CryptoError "decrypt_failed" (wrong key, tampered bytes, wrong AAD).
export function open(key, nonce, ciphertext, aad) {
  requireBytes(key, KEY_BYTES, "message key");
  requireBytes(nonce, NONCE_BYTES, "nonce");
  requireBytes(ciphertext, undefined, "ciphertext");
  if (ciphertext.length < TAG_BYTES) {
    throw new CryptoError("decrypt_failed", "the ciphertext is shorter than its tag");
  }
  try {
    return chacha20poly1305(key, nonce, aad || new Uint8Array(0)).decrypt(ciphertext);
  } catch {
    throw new CryptoError("decrypt_failed", "the message does not decrypt");
  }
}
