// Identity fingerprints and safety numbers, as the original Chatalot shows them, plus the
// trust-on-first-use check of a peer's identity key. A fingerprint is the lowercase hex SHA-256
// of the 32-byte Ed25519 public key (optionally in groups of four); a safety number is eight
// five-digit groups from SHA-256 of both keys in byte order, so both people see the same one.

import { CryptoError } from "./errors.js";
import {
  bytesEqual,
  bytesToHex,
  compareBytes,
  concatBytes,
  readU32be,
  requireBytes,
} from "./bytes.js";
import { KEY_BYTES, sha256 } from "./primitives.js";

export function fingerprint(publicKey) {
  return bytesToHex(sha256(requireBytes(publicKey, KEY_BYTES, "identity key")));
}

export function fingerprintDisplay(publicKey) {
  return fingerprint(publicKey).match(/.{4}/g).join(" ");
}

export function safetyNumber(ourKey, theirKey) {
  requireBytes(ourKey, KEY_BYTES, "identity key");
  requireBytes(theirKey, KEY_BYTES, "identity key");
  const [low, high] = compareBytes(ourKey, theirKey) <= 0 ? [ourKey, theirKey] : [theirKey, ourKey];
  const digest = sha256(concatBytes(low, high));
  const groups = [];
  for (let i = 0; i < 32; i += 4) {
    groups.push(String(readU32be(digest, i) % 100000).padStart(5, "0"));
  }
  return groups.join(" ");
}

// Trust on first use: "new" when we have no key for this peer yet, "same", or "changed" (the
// interface must warn: a new device, or someone in the middle).
export function checkPeerIdentity(knownKey, presentedKey) {
  requireBytes(presentedKey, KEY_BYTES, "identity key");
  if (knownKey === null || knownKey === undefined) return "new";
  if (!(knownKey instanceof Uint8Array))
    throw new CryptoError("bad_input", "known key is not bytes");
  return bytesEqual(knownKey, presentedKey) ? "same" : "changed";
}
