// The Double Ratchet of the original Chatalot crate, byte for byte: HKDF-SHA256 for the root and
// chain steps, ChaCha20-Poly1305 with a random 12-byte nonce, and the header's serde JSON as the
// associated data (with the crate's retry without associated data).
//
// Sessions are plain objects and every function returns a new one, never changing its input: a
// message that fails to decrypt leaves the caller's session exactly as it was.
//
// One deliberate difference from the original client: message keys skipped by out-of-order
// delivery are kept, in `serialize`'s output too (the original could not store them, so one late
// message stopped every later message of that direction from decrypting). They are capped
// (MAX_SKIP per gap, MAX_STORED_SKIPPED in all, the oldest dropped first). The wire is unchanged.
// `toCrateJson`/`fromCrateJson` speak the crate's own state JSON, for checks and imports.

import { CryptoError } from "./errors.js";
import {
  bytesEqual,
  bytesToHex,
  fromNumberArray,
  hexToBytes,
  isU32,
  jsonBytes,
  requireBytes,
  utf8Encode,
} from "./bytes.js";
import {
  KEY_BYTES,
  NONCE_BYTES,
  generateX25519KeyPair,
  hkdfSha256,
  open,
  randomFrom,
  seal,
  x25519,
  x25519PublicKey,
} from "./primitives.js";

export const MAX_SKIP = 1000;
export const MAX_STORED_SKIPPED = 2000;
const ROOT_INFO = utf8Encode("chatalot-ratchet");
const CHAIN_INFO = utf8Encode("chatalot-msg-key");
const MESSAGE_KEY_INPUT = new Uint8Array([1]);
const NEXT_CHAIN_INPUT = new Uint8Array([2]);
const EMPTY = new Uint8Array(0);

function kdfRoot(rootKey, dhOutput) {
  const out = hkdfSha256(dhOutput, rootKey, ROOT_INFO, 64);
  return [out.slice(0, 32), out.slice(32)];
}

function kdfChain(chainKey) {
  return [
    hkdfSha256(MESSAGE_KEY_INPUT, chainKey, CHAIN_INFO, 32),
    hkdfSha256(NEXT_CHAIN_INPUT, chainKey, CHAIN_INFO, 32),
  ];
}

function skippedId(ratchetKey, messageNumber) {
  return `${bytesToHex(ratchetKey)}:${messageNumber}`;
}

function copy(state) {
  return { ...state, skipped: new Map(state.skipped) };
}

// The associated data of a message: the crate's serde JSON of its header.
export function headerAad(header) {
  return utf8Encode(headerJson(header));
}

export function headerJson(header) {
  return (
    `{"ratchet_key":${jsonBytes(header.ratchetKey)},` +
    `"previous_chain_length":${header.previousChainLength},` +
    `"message_number":${header.messageNumber}}`
  );
}

// Alice, after X3DH: starts a sending chain towards Bob's signed prekey.
export function initInitiator(sharedSecret, remoteSignedPrekey, options) {
  requireBytes(sharedSecret, KEY_BYTES, "shared secret");
  requireBytes(remoteSignedPrekey, KEY_BYTES, "signed prekey");
  const pair = generateX25519KeyPair(options);
  const [rootKey, sendingChainKey] = kdfRoot(
    sharedSecret,
    x25519(pair.privateKey, remoteSignedPrekey),
  );
  return {
    dhsPrivate: pair.privateKey,
    dhsPublic: pair.publicKey,
    dhr: remoteSignedPrekey,
    rootKey,
    sendingChainKey,
    receivingChainKey: null,
    sendCount: 0,
    recvCount: 0,
    previousSendCount: 0,
    skipped: new Map(),
  };
}

// Bob, after X3DH: his signed prekey is his first ratchet key; he can send only after receiving.
export function initResponder(sharedSecret, signedPrekeyPrivate, signedPrekeyPublic) {
  requireBytes(sharedSecret, KEY_BYTES, "shared secret");
  requireBytes(signedPrekeyPrivate, KEY_BYTES, "signed prekey private key");
  return {
    dhsPrivate: signedPrekeyPrivate,
    dhsPublic: signedPrekeyPublic || x25519PublicKey(signedPrekeyPrivate),
    dhr: null,
    rootKey: sharedSecret,
    sendingChainKey: null,
    receivingChainKey: null,
    sendCount: 0,
    recvCount: 0,
    previousSendCount: 0,
    skipped: new Map(),
  };
}

// -> { state, message }, the message being
//    { header: { ratchetKey, previousChainLength, messageNumber }, ciphertext, nonce }
export function encrypt(state, plaintext, options) {
  requireBytes(plaintext, undefined, "plaintext");
  if (!state.sendingChainKey) {
    throw new CryptoError("no_sending_chain", "this session cannot send before it has received");
  }
  const next = copy(state);
  const [messageKey, chainKey] = kdfChain(state.sendingChainKey);
  const header = {
    ratchetKey: state.dhsPublic,
    previousChainLength: state.previousSendCount,
    messageNumber: state.sendCount,
  };
  const nonce = randomFrom(options)(NONCE_BYTES);
  const ciphertext = seal(messageKey, nonce, plaintext, headerAad(header));
  next.sendingChainKey = chainKey;
  next.sendCount = state.sendCount + 1;
  return { state: next, message: { header, ciphertext, nonce } };
}

function checkMessage(message) {
  const header = message && message.header;
  if (!header || typeof header !== "object") throw new CryptoError("bad_input", "no header");
  requireBytes(header.ratchetKey, KEY_BYTES, "ratchet key");
  if (!isU32(header.previousChainLength) || !isU32(header.messageNumber)) {
    throw new CryptoError("bad_input", "message counters must be 32-bit unsigned integers");
  }
  requireBytes(message.ciphertext, undefined, "ciphertext");
  requireBytes(message.nonce, NONCE_BYTES, "nonce");
}

// AAD first, then without (messages from before the original added AAD).
function openMessage(messageKey, message) {
  try {
    return open(messageKey, message.nonce, message.ciphertext, headerAad(message.header));
  } catch {
    return open(messageKey, message.nonce, message.ciphertext, EMPTY);
  }
}

function storeSkipped(state, messageKey) {
  state.skipped.set(skippedId(state.dhr, state.recvCount), {
    ratchetKey: state.dhr,
    messageNumber: state.recvCount,
    messageKey,
  });
  while (state.skipped.size > MAX_STORED_SKIPPED) {
    state.skipped.delete(state.skipped.keys().next().value);
  }
}

function skipUntil(state, until) {
  if (state.recvCount + MAX_SKIP < until) {
    throw new CryptoError(
      "too_many_skipped",
      `the message is ${until - state.recvCount} ahead; at most ${MAX_SKIP} may be skipped`,
    );
  }
  if (!state.receivingChainKey) return;
  while (state.recvCount < until) {
    const [messageKey, chainKey] = kdfChain(state.receivingChainKey);
    storeSkipped(state, messageKey);
    state.receivingChainKey = chainKey;
    state.recvCount += 1;
  }
}

function ratchetStep(state, theirKey, options) {
  state.previousSendCount = state.sendCount;
  state.sendCount = 0;
  state.recvCount = 0;
  state.dhr = theirKey;
  [state.rootKey, state.receivingChainKey] = kdfRoot(
    state.rootKey,
    x25519(state.dhsPrivate, theirKey),
  );
  const pair = generateX25519KeyPair(options);
  state.dhsPrivate = pair.privateKey;
  state.dhsPublic = pair.publicKey;
  [state.rootKey, state.sendingChainKey] = kdfRoot(
    state.rootKey,
    x25519(pair.privateKey, theirKey),
  );
}

// -> { state, plaintext }. `options.random` supplies the new ratchet key of a DH step.
export function decrypt(state, message, options) {
  checkMessage(message);
  const { header } = message;
  const id = skippedId(header.ratchetKey, header.messageNumber);
  const stored = state.skipped.get(id);
  if (stored) {
    const plaintext = openMessage(stored.messageKey, message);
    const next = copy(state);
    next.skipped.delete(id);
    return { state: next, plaintext };
  }
  const next = copy(state);
  if (!next.dhr || !bytesEqual(header.ratchetKey, next.dhr)) {
    if (next.receivingChainKey) skipUntil(next, header.previousChainLength);
    ratchetStep(next, header.ratchetKey, options);
  } else if (header.messageNumber < next.recvCount) {
    throw new CryptoError("replayed", "this message was already decrypted (or its key is gone)");
  }
  skipUntil(next, header.messageNumber);
  if (!next.receivingChainKey) {
    throw new CryptoError("decrypt_failed", "no receiving chain for this message");
  }
  const [messageKey, chainKey] = kdfChain(next.receivingChainKey);
  const plaintext = openMessage(messageKey, message);
  next.receivingChainKey = chainKey;
  next.recvCount = header.messageNumber + 1;
  return { state: next, plaintext };
}

export function skippedCount(state) {
  return state.skipped.size;
}

// --- the crate's serde JSON ---

const orNull = (bytes) => (bytes ? jsonBytes(bytes) : "null");

export function toCrateJson(state) {
  if (state.skipped.size > 0) {
    // the crate's own serialiser fails the same way (a map keyed by a struct)
    throw new CryptoError("not_serializable", "key must be a string");
  }
  return (
    `{"dh_sending_private":${orNull(state.dhsPrivate)},` +
    `"dh_sending_public":${orNull(state.dhsPublic)},` +
    `"dh_receiving_key":${orNull(state.dhr)},` +
    `"root_key":${jsonBytes(state.rootKey)},` +
    `"sending_chain_key":${orNull(state.sendingChainKey)},` +
    `"receiving_chain_key":${orNull(state.receivingChainKey)},` +
    `"send_count":${state.sendCount},"recv_count":${state.recvCount},` +
    `"previous_send_count":${state.previousSendCount},"skipped_keys":{}}`
  );
}

function parseObject(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CryptoError("bad_state", "the stored session is not JSON");
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw new CryptoError("bad_state", "the stored session is not an object");
  }
  return value;
}

function counter(value, what) {
  if (!isU32(value)) throw new CryptoError("bad_state", `${what} is not a counter`);
  return value;
}

function checkKeys(state) {
  if (!state.dhsPrivate || !state.dhsPublic) {
    throw new CryptoError("bad_state", "the session has no ratchet key");
  }
  return state;
}

export function fromCrateJson(text) {
  const v = parseObject(text);
  const key = (x, what) => fromNumberArray(x, KEY_BYTES, what, "bad_state");
  const maybe = (x, what) => (x === null || x === undefined ? null : key(x, what));
  const skipped = v.skipped_keys;
  if (skipped && (typeof skipped !== "object" || Object.keys(skipped).length > 0)) {
    throw new CryptoError("bad_state", "skipped keys in the crate format cannot be read");
  }
  return checkKeys({
    dhsPrivate: maybe(v.dh_sending_private, "dh_sending_private"),
    dhsPublic: maybe(v.dh_sending_public, "dh_sending_public"),
    dhr: maybe(v.dh_receiving_key, "dh_receiving_key"),
    rootKey: key(v.root_key, "root_key"),
    sendingChainKey: maybe(v.sending_chain_key, "sending_chain_key"),
    receivingChainKey: maybe(v.receiving_chain_key, "receiving_chain_key"),
    sendCount: counter(v.send_count, "send_count"),
    recvCount: counter(v.recv_count, "recv_count"),
    previousSendCount: counter(v.previous_send_count, "previous_send_count"),
    skipped: new Map(),
  });
}

// --- our persisted form (hex strings; skipped keys oldest first) ---

const hexOrNull = (bytes) => (bytes ? bytesToHex(bytes) : null);

export function serialize(state) {
  return JSON.stringify({
    v: 1,
    dhs_private: hexOrNull(state.dhsPrivate),
    dhs_public: hexOrNull(state.dhsPublic),
    dhr: hexOrNull(state.dhr),
    root_key: bytesToHex(state.rootKey),
    cks: hexOrNull(state.sendingChainKey),
    ckr: hexOrNull(state.receivingChainKey),
    ns: state.sendCount,
    nr: state.recvCount,
    pn: state.previousSendCount,
    skipped: Array.from(state.skipped.values(), (entry) => [
      bytesToHex(entry.ratchetKey),
      entry.messageNumber,
      bytesToHex(entry.messageKey),
    ]),
  });
}

function hexKey(value, what) {
  if (typeof value !== "string" || value.length !== KEY_BYTES * 2) {
    throw new CryptoError("bad_state", `${what} is not a 32-byte key`);
  }
  try {
    return hexToBytes(value);
  } catch {
    throw new CryptoError("bad_state", `${what} is not a 32-byte key`);
  }
}

export function deserialize(text) {
  const v = parseObject(text);
  if (v.v !== 1) throw new CryptoError("bad_state", "unknown session format version");
  const maybe = (x, what) => (x === null ? null : hexKey(x, what));
  if (!Array.isArray(v.skipped)) throw new CryptoError("bad_state", "skipped keys missing");
  const skipped = new Map();
  for (const entry of v.skipped.slice(-MAX_STORED_SKIPPED)) {
    if (!Array.isArray(entry) || entry.length !== 3) {
      throw new CryptoError("bad_state", "a skipped key entry is malformed");
    }
    const ratchetKey = hexKey(entry[0], "skipped ratchet key");
    const messageNumber = counter(entry[1], "skipped message number");
    const messageKey = hexKey(entry[2], "skipped message key");
    skipped.set(skippedId(ratchetKey, messageNumber), { ratchetKey, messageNumber, messageKey });
  }
  return checkKeys({
    dhsPrivate: maybe(v.dhs_private, "dhs_private"),
    dhsPublic: maybe(v.dhs_public, "dhs_public"),
    dhr: maybe(v.dhr, "dhr"),
    rootKey: hexKey(v.root_key, "root_key"),
    sendingChainKey: maybe(v.cks, "cks"),
    receivingChainKey: maybe(v.ckr, "ckr"),
    sendCount: counter(v.ns, "ns"),
    recvCount: counter(v.nr, "nr"),
    previousSendCount: counter(v.pn, "pn"),
    skipped,
  });
}
