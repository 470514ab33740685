// Interop adapter: the function set of the original Chatalot web client's crypto module
// (chatalot_crypto_wasm.js, normally Rust compiled to WebAssembly), implemented on top of OUR
// end-to-end core (src/chatalot/web/js/crypto). It only converts shapes:
//   * byte strings handed back to the client are plain arrays of numbers (what the original's
//     bindings produce), byte strings coming in may be Uint8Array or number arrays;
//   * everything that reaches the wire or the server (wire messages, sender key messages,
//     distributions) is produced by our wire/senderkeys helpers in the original's key order;
//   * the opaque states the client keeps in IndexedDB (ratchet sessions, sender/receiver key
//     states) are OUR persisted forms; the crate's own state JSON is accepted on input too.
// Failures are thrown as strings, as the original's bindings do.
//
// Bundle into one file before use (the client build copies a single file); "chatalot-e2e-core"
// is an alias for our core's index.js:
//   npx esbuild crypto_module.src.js --bundle --format=esm --outfile=crypto_module.js \
//     --alias:chatalot-e2e-core=/work/main/src/chatalot/web/js/crypto/index.js

import {
  CryptoError,
  bytes as B,
  primitives as P,
  x3dh as X,
  ratchet as R,
  senderKeys as SK,
  wire as W,
  fingerprints as F,
} from "chatalot-e2e-core";

const arr = (u8) => Array.from(u8);

function toBytes(value, what, length) {
  let out;
  if (value instanceof Uint8Array) out = value;
  else if (Array.isArray(value)) out = B.fromNumberArray(value, undefined, what, "bad_input");
  else if (value && typeof value === "object" && typeof value.length === "number") {
    out = Uint8Array.from(value);
  } else throw `${what} must be bytes`;
  if (length !== undefined && out.length !== length) throw `${what} must be ${length} bytes`;
  return out;
}

// Run `fn`, turning every error into a thrown string (like a wasm-bindgen JsValue::from_str).
function guard(what, fn) {
  try {
    return fn();
  } catch (error) {
    if (typeof error === "string") throw `${what}: ${error}`;
    const msg = error instanceof CryptoError ? `${error.code}: ${error.message}` : String(error && error.message ? error.message : error);
    throw `${what}: ${msg}`;
  }
}

function parseJsonText(text, what) {
  if (typeof text !== "string") throw `${what} must be a JSON string`;
  try {
    return JSON.parse(text);
  } catch {
    throw `${what} is not JSON`;
  }
}

// ─── wasm-bindgen entry points (nothing to load) ─────────────────────────────
export default async function init(_moduleOrPath) {
  return {};
}
export function initSync(_module) {
  return {};
}

// ─── identity ────────────────────────────────────────────────────────────────
export function generate_identity_key() {
  return guard("identity", () => {
    const key = P.generateIdentityKey();
    return { signing_key: arr(key.seed), verifying_key: arr(key.publicKey) };
  });
}

export function compute_fingerprint(public_key) {
  return guard("fingerprint", () => F.fingerprint(toBytes(public_key, "public key", 32)));
}

export function compute_safety_number(key_a, key_b) {
  return guard("safety number", () =>
    F.safetyNumber(toBytes(key_a, "key_a", 32), toBytes(key_b, "key_b", 32)),
  );
}

// ─── prekeys ─────────────────────────────────────────────────────────────────
export function generate_signed_prekey(identity_signing_key, key_id) {
  return guard("signed prekey", () => {
    const seed = toBytes(identity_signing_key, "signing key", 32);
    const pair = P.generateX25519KeyPair();
    return {
      key_id,
      public_key: arr(pair.publicKey),
      private_key: arr(pair.privateKey),
      signature: arr(X.signPrekey(seed, pair.publicKey)),
    };
  });
}

export function generate_one_time_prekeys(start_key_id, count) {
  return guard("one-time prekeys", () => {
    const out = [];
    for (let i = 0; i < count; i++) {
      const pair = P.generateX25519KeyPair();
      out.push({
        key_id: start_key_id + i,
        public_key: arr(pair.publicKey),
        private_key: arr(pair.privateKey),
      });
    }
    return out;
  });
}

// ─── ratchet session storage: our form out, ours or the crate's in ───────────
function loadSession(session_json) {
  const value = parseJsonText(session_json, "session");
  return value && value.v === 1 ? R.deserialize(session_json) : R.fromCrateJson(session_json);
}

// ─── X3DH ────────────────────────────────────────────────────────────────────
export function x3dh_initiate(our_identity_signing_key, their_bundle_json) {
  return guard("X3DH initiate", () => {
    const seed = toBytes(our_identity_signing_key, "signing key", 32);
    const bundle = X.parseBundle(parseJsonText(their_bundle_json, "bundle"));
    const result = X.initiate(seed, bundle);
    const session = R.initInitiator(result.sharedSecret, result.remoteSignedPrekey);
    return {
      session_json: R.serialize(session),
      ephemeral_public_key: arr(result.header.ephemeralKey),
      associated_data: arr(result.associatedData),
    };
  });
}

export function x3dh_respond(
  our_identity_signing_key,
  our_signed_prekey_private,
  our_otp_private,
  their_identity_key,
  their_ephemeral_key,
) {
  return guard("X3DH respond", () => {
    const signedPrekeyPrivate = toBytes(our_signed_prekey_private, "signed prekey private", 32);
    const result = X.respond({
      identitySeed: toBytes(our_identity_signing_key, "signing key", 32),
      signedPrekeyPrivate,
      oneTimePrekeyPrivate:
        our_otp_private === null || our_otp_private === undefined
          ? null
          : toBytes(our_otp_private, "OTP private", 32),
      peerIdentityKey: toBytes(their_identity_key, "their identity key", 32),
      ephemeralKey: toBytes(their_ephemeral_key, "their ephemeral key", 32),
    });
    const session = R.initResponder(result.sharedSecret, signedPrekeyPrivate);
    return {
      session_json: R.serialize(session),
      associated_data: arr(result.associatedData),
    };
  });
}

// ─── Double Ratchet ──────────────────────────────────────────────────────────
export function ratchet_encrypt(session_json, plaintext) {
  return guard("ratchet encrypt", () => {
    const { state, message } = R.encrypt(loadSession(session_json), toBytes(plaintext, "plaintext"));
    // The original's EncryptedMessage shape; key order as the crate serialises it.
    const encrypted = JSON.parse(W.encryptedMessageJson(message));
    return { session_json: R.serialize(state), encrypted };
  });
}

export function ratchet_decrypt(session_json, encrypted_message_json) {
  return guard("ratchet decrypt", () => {
    const m = parseJsonText(encrypted_message_json, "encrypted message");
    if (!m || typeof m !== "object" || !m.header || typeof m.header !== "object") {
      throw "encrypted message has no header";
    }
    const message = {
      header: {
        ratchetKey: toBytes(m.header.ratchet_key, "ratchet_key", 32),
        previousChainLength: m.header.previous_chain_length,
        messageNumber: m.header.message_number,
      },
      ciphertext: toBytes(m.ciphertext, "ciphertext"),
      nonce: toBytes(m.nonce, "nonce", 12),
    };
    const { state, plaintext } = R.decrypt(loadSession(session_json), message);
    return { session_json: R.serialize(state), plaintext: arr(plaintext) };
  });
}

// ─── Sender Keys ─────────────────────────────────────────────────────────────
function loadSender(state_json) {
  const v = parseJsonText(state_json, "sender key state");
  if (v && v.v === 1) return SK.deserializeSender(state_json);
  // the crate's SenderKeyState JSON
  return {
    chainId: v.chain_id,
    chainKey: toBytes(v.chain_key, "chain_key", 32),
    iteration: v.iteration,
    senderId: toBytes(v.sender_id, "sender_id"),
  };
}

function loadReceiver(state_json) {
  const v = parseJsonText(state_json, "receiver key state");
  if (v && v.v === 1) return SK.deserializeReceiver(state_json);
  // the crate's ReceiverKeyState JSON (cached_keys: {"iteration": [32 bytes]})
  const cached = new Map();
  for (const [i, key] of Object.entries(v.cached_keys || {})) {
    cached.set(Number(i), toBytes(key, "cached key", 32));
  }
  return {
    chainId: v.chain_id,
    chainKey: toBytes(v.chain_key, "chain_key", 32),
    iteration: v.iteration,
    senderId: toBytes(v.sender_id, "sender_id"),
    cached,
  };
}

export function sender_key_generate(sender_id) {
  return guard("sender key generate", () => {
    const state = SK.generateSenderKey(toBytes(sender_id, "sender id"));
    return {
      state_json: SK.serializeSender(state),
      distribution_json: SK.distributionJson(SK.distributionOf(state)),
    };
  });
}

export function sender_key_encrypt(state_json, plaintext) {
  return guard("sender key encrypt", () => {
    const { state, message } = SK.encryptGroup(loadSender(state_json), toBytes(plaintext, "plaintext"));
    return { state_json: SK.serializeSender(state), message_json: W.senderKeyMessageJson(message) };
  });
}

export function sender_key_from_distribution(distribution_json) {
  return guard("sender key distribution", () =>
    SK.serializeReceiver(SK.receiverFromDistribution(SK.parseDistribution(distribution_json))),
  );
}

export function sender_key_decrypt(receiver_state_json, message_json) {
  return guard("sender key decrypt", () => {
    const m = parseJsonText(message_json, "sender key message");
    const message = {
      chainId: m.chain_id,
      iteration: m.iteration,
      ciphertext: toBytes(m.ciphertext, "ciphertext"),
      nonce: toBytes(m.nonce, "nonce", 12),
    };
    const { state, plaintext } = SK.decryptGroup(loadReceiver(receiver_state_json), message);
    return { state_json: SK.serializeReceiver(state), plaintext: arr(plaintext) };
  });
}
