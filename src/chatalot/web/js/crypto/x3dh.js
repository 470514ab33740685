// X3DH key agreement as the original Chatalot crate does it. The initiator checks the
// responder's signed prekey signature, makes an ephemeral X25519 key and mixes three or four
// X25519 results (identity keys converted from Ed25519) into one 32-byte shared secret with
// HKDF-SHA256. The responder repeats the computation from the wire's `x3dh` block with its own
// private keys. The associated data (both identity keys) is returned, as the crate does, though
// the protocol never uses it.

import { CryptoError } from "./errors.js";
import { concatBytes, fromNumberArray, requireBytes, utf8Encode } from "./bytes.js";
import {
  KEY_BYTES,
  SIGNATURE_BYTES,
  ed25519PublicKey,
  generateX25519KeyPair,
  hkdfSha256,
  identityPublicToX25519,
  identitySeedToX25519,
  sign,
  verify,
  x25519,
  x25519PublicKey,
} from "./primitives.js";

const INFO = utf8Encode("chatalot-x3dh-shared-secret");
const PREFIX = new Uint8Array(32).fill(0xff);
const ZERO_SALT = new Uint8Array(32);

function isKeyId(value) {
  // i32 on the server; ids are positive in practice
  return Number.isInteger(value) && value >= -2147483648 && value <= 2147483647;
}

// The signature that goes with a signed prekey: Ed25519 over the raw X25519 public key.
export function signPrekey(identitySeed, prekeyPublic) {
  return sign(identitySeed, requireBytes(prekeyPublic, KEY_BYTES, "prekey"));
}

// The server's bundle JSON (`GET /keys/{user}/bundle`, byte strings as number arrays), checked.
export function parseBundle(json) {
  const value = typeof json === "string" ? parseJson(json) : json;
  if (!value || typeof value !== "object") throw new CryptoError("bad_input", "not a key bundle");
  const spk = value.signed_prekey;
  if (!spk || typeof spk !== "object" || !isKeyId(spk.key_id)) {
    throw new CryptoError("bad_input", "the bundle has no valid signed prekey");
  }
  const opk = value.one_time_prekey;
  if (opk !== null && opk !== undefined && (typeof opk !== "object" || !isKeyId(opk.key_id))) {
    throw new CryptoError("bad_input", "the bundle's one-time prekey is malformed");
  }
  const bytes = (v, n, what) => fromNumberArray(v, n, what, "bad_input");
  return {
    identityKey: bytes(value.identity_key, KEY_BYTES, "identity_key"),
    signedPrekey: {
      keyId: spk.key_id,
      publicKey: bytes(spk.public_key, KEY_BYTES, "signed prekey"),
      signature: bytes(spk.signature, SIGNATURE_BYTES, "signed prekey signature"),
    },
    oneTimePrekey: opk
      ? { keyId: opk.key_id, publicKey: bytes(opk.public_key, KEY_BYTES, "one-time prekey") }
      : null,
  };
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    throw new CryptoError("bad_input", "not JSON");
  }
}

function deriveSecret(dhs) {
  const ikm = concatBytes(PREFIX, ...dhs);
  return { ikm, sharedSecret: hkdfSha256(ikm, ZERO_SALT, INFO, 32) };
}

// Initiator side. `bundle` as parseBundle returns it. Returns the shared secret, the `x3dh`
// block for the first wire message, and the responder's signed prekey (the ratchet starts on it).
export function initiate(identitySeed, bundle, options) {
  requireBytes(identitySeed, KEY_BYTES, "identity seed");
  const { identityKey, signedPrekey, oneTimePrekey } = bundle;
  requireBytes(identityKey, KEY_BYTES, "peer identity key");
  requireBytes(signedPrekey.publicKey, KEY_BYTES, "signed prekey");
  if (!verify(identityKey, signedPrekey.publicKey, signedPrekey.signature)) {
    throw new CryptoError("bad_signature", "signed prekey signature verification failed");
  }
  const ownPublic = ed25519PublicKey(identitySeed);
  const ephemeral = generateX25519KeyPair(options);
  const dhs = [
    x25519(identitySeedToX25519(identitySeed), signedPrekey.publicKey),
    x25519(ephemeral.privateKey, identityPublicToX25519(identityKey)),
    x25519(ephemeral.privateKey, signedPrekey.publicKey),
  ];
  if (oneTimePrekey) dhs.push(x25519(ephemeral.privateKey, oneTimePrekey.publicKey));
  const { ikm, sharedSecret } = deriveSecret(dhs);
  return {
    sharedSecret,
    associatedData: concatBytes(ownPublic, identityKey),
    ikm,
    dh: dhs,
    remoteSignedPrekey: signedPrekey.publicKey,
    header: {
      identityKey: ownPublic,
      ephemeralKey: ephemeral.publicKey,
      signedPrekeyId: signedPrekey.keyId,
      oneTimePrekeyId: oneTimePrekey ? oneTimePrekey.keyId : null,
    },
  };
}

// Responder side, from explicit private keys.
export function respond({
  identitySeed,
  signedPrekeyPrivate,
  oneTimePrekeyPrivate = null,
  peerIdentityKey,
  ephemeralKey,
}) {
  requireBytes(identitySeed, KEY_BYTES, "identity seed");
  requireBytes(signedPrekeyPrivate, KEY_BYTES, "signed prekey private key");
  requireBytes(peerIdentityKey, KEY_BYTES, "peer identity key");
  requireBytes(ephemeralKey, KEY_BYTES, "ephemeral key");
  const dhs = [
    x25519(signedPrekeyPrivate, identityPublicToX25519(peerIdentityKey)),
    x25519(identitySeedToX25519(identitySeed), ephemeralKey),
    x25519(signedPrekeyPrivate, ephemeralKey),
  ];
  if (oneTimePrekeyPrivate) {
    dhs.push(
      x25519(requireBytes(oneTimePrekeyPrivate, KEY_BYTES, "one-time prekey"), ephemeralKey),
    );
  }
  const { ikm, sharedSecret } = deriveSecret(dhs);
  return {
    sharedSecret,
    associatedData: concatBytes(peerIdentityKey, ed25519PublicKey(identitySeed)),
    ikm,
    dh: dhs,
    signedPrekey: {
      privateKey: signedPrekeyPrivate,
      publicKey: x25519PublicKey(signedPrekeyPrivate),
    },
  };
}

// Responder side from a wire `x3dh` block (as parseDmWire returns it). `lookup` finds private
// keys by id: { signedPrekey(id) -> Uint8Array | null, oneTimePrekey(id) -> Uint8Array | null }.
// A prekey that is not (or no longer) there is the CryptoError "unknown_prekey".
export function respondToHeader(identitySeed, header, lookup) {
  if (!isKeyId(header.signedPrekeyId)) {
    throw new CryptoError("bad_input", "signed prekey id is not a number");
  }
  const signedPrekeyPrivate = lookup.signedPrekey(header.signedPrekeyId);
  if (!signedPrekeyPrivate) {
    throw new CryptoError("unknown_prekey", `no signed prekey with id ${header.signedPrekeyId}`);
  }
  let oneTimePrekeyPrivate = null;
  if (header.oneTimePrekeyId !== null && header.oneTimePrekeyId !== undefined) {
    oneTimePrekeyPrivate = lookup.oneTimePrekey(header.oneTimePrekeyId);
    if (!oneTimePrekeyPrivate) {
      throw new CryptoError(
        "unknown_prekey",
        `no one-time prekey with id ${header.oneTimePrekeyId} (already used?)`,
      );
    }
  }
  return respond({
    identitySeed,
    signedPrekeyPrivate,
    oneTimePrekeyPrivate,
    peerIdentityKey: header.identityKey,
    ephemeralKey: header.ephemeralKey,
  });
}
