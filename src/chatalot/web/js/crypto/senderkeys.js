// Sender keys for channel (group) messages, as the original Chatalot crate does them. Each
// member encrypts with its own chain: a 32-byte chain key that steps forward with every message
// (HKDF-SHA256), a random 32-bit chain id, and ChaCha20-Poly1305 with a random nonce and
// chain id || iteration (big-endian) as associated data. Receivers build their copy of the chain
// from the sender's distribution, may skip ahead by up to MAX_SKIP messages (the keys in between
// are kept for late messages, up to MAX_CACHED) and refuse messages of another chain id.
//
// Like ratchet.js, functions return new states and leave their inputs alone.

import { CryptoError } from "./errors.js";
import {
  bytesToHex,
  concatBytes,
  fromNumberArray,
  hexToBytes,
  isU32,
  jsonBytes,
  readU32be,
  requireBytes,
  u32be,
  utf8Encode,
} from "./bytes.js";
import { KEY_BYTES, NONCE_BYTES, hkdfSha256, open, randomFrom, seal } from "./primitives.js";

export const MAX_SKIP = 2000;
export const MAX_CACHED = 2000;
const INFO = utf8Encode("chatalot-sender-key-chain");
const MESSAGE_KEY_INPUT = new Uint8Array([1]);
const NEXT_CHAIN_INPUT = new Uint8Array([2]);
const EMPTY = new Uint8Array(0);

function kdfChain(chainKey) {
  return [
    hkdfSha256(MESSAGE_KEY_INPUT, chainKey, INFO, 32),
    hkdfSha256(NEXT_CHAIN_INPUT, chainKey, INFO, 32),
  ];
}

export function groupAad(chainId, iteration) {
  return concatBytes(u32be(chainId), u32be(iteration));
}

// A new chain of ours. `senderId` is the UTF-8 bytes of our user id.
export function generateSenderKey(senderId, options) {
  requireBytes(senderId, undefined, "sender id");
  const random = randomFrom(options);
  const chainKey = random(KEY_BYTES);
  const chainId = readU32be(random(4));
  return { chainId, chainKey, iteration: 0, senderId };
}

// What the others need to read our chain (the original uploads it in clear).
export function distributionOf(state) {
  return {
    chainId: state.chainId,
    iteration: state.iteration,
    chainKey: state.chainKey,
    senderId: state.senderId,
  };
}

export function distributionJson(distribution) {
  return (
    `{"chain_id":${distribution.chainId},"iteration":${distribution.iteration},` +
    `"chain_key":${jsonBytes(distribution.chainKey)},` +
    `"sender_id":${jsonBytes(distribution.senderId)}}`
  );
}

// A distribution as the server returns it (parsed JSON or its text), checked.
export function parseDistribution(json) {
  let value = json;
  if (typeof json === "string") {
    try {
      value = JSON.parse(json);
    } catch {
      throw new CryptoError("bad_input", "the sender key distribution is not JSON");
    }
  }
  if (!value || typeof value !== "object" || !isU32(value.chain_id) || !isU32(value.iteration)) {
    throw new CryptoError("bad_input", "the sender key distribution is malformed");
  }
  return {
    chainId: value.chain_id,
    iteration: value.iteration,
    chainKey: fromNumberArray(value.chain_key, KEY_BYTES, "chain_key", "bad_input"),
    senderId: fromNumberArray(value.sender_id, undefined, "sender_id", "bad_input"),
  };
}

// -> { state, message: { chainId, iteration, ciphertext, nonce } }
export function encryptGroup(state, plaintext, options) {
  requireBytes(plaintext, undefined, "plaintext");
  const [messageKey, chainKey] = kdfChain(state.chainKey);
  const nonce = randomFrom(options)(NONCE_BYTES);
  const ciphertext = seal(messageKey, nonce, plaintext, groupAad(state.chainId, state.iteration));
  return {
    state: { ...state, chainKey, iteration: state.iteration + 1 },
    message: { chainId: state.chainId, iteration: state.iteration, ciphertext, nonce },
  };
}

export function receiverFromDistribution(distribution) {
  requireBytes(distribution.chainKey, KEY_BYTES, "chain key");
  return {
    chainId: distribution.chainId,
    chainKey: distribution.chainKey,
    iteration: distribution.iteration,
    senderId: distribution.senderId,
    cached: new Map(),
  };
}

function openGroup(messageKey, message) {
  const aad = groupAad(message.chainId, message.iteration);
  try {
    return open(messageKey, message.nonce, message.ciphertext, aad);
  } catch {
    return open(messageKey, message.nonce, message.ciphertext, EMPTY);
  }
}

// -> { state, plaintext }
export function decryptGroup(receiver, message) {
  if (!message || !isU32(message.chainId) || !isU32(message.iteration)) {
    throw new CryptoError("bad_input", "chain id and iteration must be 32-bit unsigned integers");
  }
  requireBytes(message.ciphertext, undefined, "ciphertext");
  requireBytes(message.nonce, NONCE_BYTES, "nonce");
  if (message.chainId !== receiver.chainId) {
    throw new CryptoError("unknown_chain", "unknown sender key chain");
  }
  if (message.iteration < receiver.iteration) {
    const messageKey = receiver.cached.get(message.iteration);
    if (!messageKey) {
      throw new CryptoError("replayed", "this message was already decrypted (or its key is gone)");
    }
    const plaintext = openGroup(messageKey, message);
    const cached = new Map(receiver.cached);
    cached.delete(message.iteration);
    return { state: { ...receiver, cached }, plaintext };
  }
  if (message.iteration - receiver.iteration > MAX_SKIP) {
    throw new CryptoError(
      "too_many_skipped",
      `the message is ${message.iteration - receiver.iteration} ahead; ` +
        `at most ${MAX_SKIP} may be skipped`,
    );
  }
  const cached = new Map(receiver.cached);
  let chainKey = receiver.chainKey;
  for (let i = receiver.iteration; i < message.iteration; i++) {
    const [messageKey, nextKey] = kdfChain(chainKey);
    cached.set(i, messageKey);
    chainKey = nextKey;
  }
  while (cached.size > MAX_CACHED) cached.delete(cached.keys().next().value);
  const [messageKey, nextKey] = kdfChain(chainKey);
  const plaintext = openGroup(messageKey, message);
  return {
    state: { ...receiver, chainKey: nextKey, iteration: message.iteration + 1, cached },
    plaintext,
  };
}

// --- the crate's serde JSON (for checks) ---

export function senderStateJson(state) {
  return (
    `{"chain_id":${state.chainId},"chain_key":${jsonBytes(state.chainKey)},` +
    `"iteration":${state.iteration},"sender_id":${jsonBytes(state.senderId)}}`
  );
}

export function receiverStateJson(receiver) {
  const cached = Array.from(receiver.cached, ([i, key]) => `"${i}":${jsonBytes(key)}`);
  return (
    `{"chain_id":${receiver.chainId},"chain_key":${jsonBytes(receiver.chainKey)},` +
    `"iteration":${receiver.iteration},"sender_id":${jsonBytes(receiver.senderId)},` +
    `"cached_keys":{${cached.join(",")}}}`
  );
}

// --- our persisted forms ---

export function serializeSender(state) {
  return JSON.stringify({
    v: 1,
    chain_id: state.chainId,
    chain_key: bytesToHex(state.chainKey),
    iteration: state.iteration,
    sender_id: bytesToHex(state.senderId),
  });
}

export function serializeReceiver(receiver) {
  return JSON.stringify({
    v: 1,
    chain_id: receiver.chainId,
    chain_key: bytesToHex(receiver.chainKey),
    iteration: receiver.iteration,
    sender_id: bytesToHex(receiver.senderId),
    cached: Array.from(receiver.cached, ([i, key]) => [i, bytesToHex(key)]),
  });
}

function load(text) {
  let v;
  try {
    v = JSON.parse(text);
  } catch {
    throw new CryptoError("bad_state", "the stored sender key is not JSON");
  }
  if (!v || v.v !== 1 || !isU32(v.chain_id) || !isU32(v.iteration)) {
    throw new CryptoError("bad_state", "the stored sender key is malformed");
  }
  return v;
}

function hexBytes(value, length, what) {
  let bytes;
  try {
    bytes = hexToBytes(value);
  } catch {
    throw new CryptoError("bad_state", `${what} is not hex`);
  }
  if (length !== undefined && bytes.length !== length) {
    throw new CryptoError("bad_state", `${what} must be ${length} bytes`);
  }
  return bytes;
}

export function deserializeSender(text) {
  const v = load(text);
  return {
    chainId: v.chain_id,
    chainKey: hexBytes(v.chain_key, KEY_BYTES, "chain_key"),
    iteration: v.iteration,
    senderId: hexBytes(v.sender_id, undefined, "sender_id"),
  };
}

export function deserializeReceiver(text) {
  const v = load(text);
  if (!Array.isArray(v.cached)) throw new CryptoError("bad_state", "cached keys missing");
  const cached = new Map();
  for (const entry of v.cached.slice(-MAX_CACHED)) {
    if (!Array.isArray(entry) || entry.length !== 2 || !isU32(entry[0])) {
      throw new CryptoError("bad_state", "a cached key entry is malformed");
    }
    cached.set(entry[0], hexBytes(entry[1], KEY_BYTES, "cached key"));
  }
  return {
    chainId: v.chain_id,
    chainKey: hexBytes(v.chain_key, KEY_BYTES, "chain_key"),
    iteration: v.iteration,
    senderId: hexBytes(v.sender_id, undefined, "sender_id"),
    cached,
  };
}
