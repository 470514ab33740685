// The wire formats of the original Chatalot web client, written and read exactly: the DM
// `WireMessage` ({v, x3dh?, header, ciphertext, nonce}), the group message
// ({v, sk: true, message}), the crate's EncryptedMessage / SenderKeyMessage JSON, the sender key
// upload body and the `send_message` WebSocket frame. Key order and number formatting match the
// original byte for byte. Parsing checks every field and throws CryptoError "bad_wire" for
// anything that is not a well-formed Chatalot message, so callers can show it as plain text.

import { CryptoError } from "./errors.js";
import { fromNumberArray, isU32, toNumberArray, utf8Decode, utf8Encode } from "./bytes.js";
import { headerJson } from "./ratchet.js";
import { distributionJson } from "./senderkeys.js";
import { KEY_BYTES, NONCE_BYTES, TAG_BYTES } from "./primitives.js";

const bytes = (value) => toNumberArray(value);

function headerObject(header) {
  return {
    ratchet_key: bytes(header.ratchetKey),
    previous_chain_length: header.previousChainLength,
    message_number: header.messageNumber,
  };
}

// The text of a DM; its UTF-8 bytes go in the message's `ciphertext` field.
export function encodeDmWire(message, x3dh = null) {
  const wire = { v: 1 };
  if (x3dh) {
    wire.x3dh = {
      identity_key: bytes(x3dh.identityKey),
      ephemeral_key: bytes(x3dh.ephemeralKey),
      signed_prekey_id: x3dh.signedPrekeyId,
      one_time_prekey_id: x3dh.oneTimePrekeyId === undefined ? null : x3dh.oneTimePrekeyId,
    };
  }
  wire.header = headerObject(message.header);
  wire.ciphertext = bytes(message.ciphertext);
  wire.nonce = bytes(message.nonce);
  return JSON.stringify(wire);
}

export function encodeGroupWire(message) {
  return JSON.stringify({
    v: 1,
    sk: true,
    message: {
      chain_id: message.chainId,
      iteration: message.iteration,
      ciphertext: bytes(message.ciphertext),
      nonce: bytes(message.nonce),
    },
  });
}

// The crate's EncryptedMessage JSON (what the original's wasm ratchet_decrypt takes).
export function encryptedMessageJson(message) {
  return (
    `{"header":${headerJson(message.header)},` +
    `"ciphertext":[${bytes(message.ciphertext)}],"nonce":[${bytes(message.nonce)}]}`
  );
}

// The crate's SenderKeyMessage JSON.
export function senderKeyMessageJson(message) {
  return JSON.stringify({
    chain_id: message.chainId,
    iteration: message.iteration,
    ciphertext: bytes(message.ciphertext),
    nonce: bytes(message.nonce),
  });
}

// Body of POST /channels/{id}/sender-keys.
export function senderKeyUploadJson(distribution) {
  return `{"chain_id":${distribution.chainId},"distribution":${distributionJson(distribution)}}`;
}

// The client -> server frame that sends an encrypted message (wire = the UTF-8 wire bytes).
export function sendMessageFrame({ channelId, wire, nonce, messageType = "text", replyTo = null }) {
  return JSON.stringify({
    type: "send_message",
    channel_id: channelId,
    ciphertext: bytes(wire),
    nonce: bytes(nonce),
    message_type: messageType,
    reply_to: replyTo,
    sender_key_id: null,
  });
}

// --- parsing ---

function bad(message) {
  throw new CryptoError("bad_wire", message);
}

function object(value, what) {
  if (!value || typeof value !== "object" || Array.isArray(value)) bad(`${what} is not an object`);
  return value;
}

function counter(value, what) {
  if (!isU32(value)) bad(`${what} is not a 32-bit unsigned integer`);
  return value;
}

function prekeyId(value, what) {
  if (!Number.isInteger(value) || value < -2147483648 || value > 2147483647) {
    bad(`${what} is not a key id`);
  }
  return value;
}

function ciphertextOf(value) {
  const out = fromNumberArray(value, undefined, "ciphertext");
  if (out.length < TAG_BYTES) bad("the ciphertext is shorter than its tag");
  return out;
}

function parseHeader(value) {
  const header = object(value, "header");
  return {
    ratchetKey: fromNumberArray(header.ratchet_key, KEY_BYTES, "ratchet_key"),
    previousChainLength: counter(header.previous_chain_length, "previous_chain_length"),
    messageNumber: counter(header.message_number, "message_number"),
  };
}

function parseX3dh(value) {
  const x3dh = object(value, "x3dh");
  const opk = x3dh.one_time_prekey_id;
  return {
    identityKey: fromNumberArray(x3dh.identity_key, KEY_BYTES, "identity_key"),
    ephemeralKey: fromNumberArray(x3dh.ephemeral_key, KEY_BYTES, "ephemeral_key"),
    signedPrekeyId: prekeyId(x3dh.signed_prekey_id, "signed_prekey_id"),
    oneTimePrekeyId: opk === null || opk === undefined ? null : prekeyId(opk, "one_time_prekey_id"),
  };
}

function parseGroupMessage(value) {
  const message = object(value, "message");
  return {
    chainId: counter(message.chain_id, "chain_id"),
    iteration: counter(message.iteration, "iteration"),
    ciphertext: ciphertextOf(message.ciphertext),
    nonce: fromNumberArray(message.nonce, NONCE_BYTES, "nonce"),
  };
}

// A message's `ciphertext` field (bytes, a number array, or the text itself) ->
//   { kind: "dm", x3dh: {...} | null, message: {header, ciphertext, nonce} }
//   { kind: "group", message: {chainId, iteration, ciphertext, nonce} }
// or CryptoError "bad_wire".
export function parseWire(input) {
  let text = input;
  if (Array.isArray(input)) text = fromNumberArray(input, undefined, "ciphertext field");
  if (text instanceof Uint8Array) {
    try {
      text = utf8Decode(text);
    } catch {
      bad("the message is not UTF-8 text");
    }
  }
  if (typeof text !== "string") bad("the message is neither bytes nor text");
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    bad("the message is not JSON");
  }
  const wire = object(value, "the message");
  if (wire.v !== 1) bad("not a version 1 Chatalot message");
  if (wire.sk === true) return { kind: "group", message: parseGroupMessage(wire.message) };
  const x3dh = wire.x3dh === undefined || wire.x3dh === null ? null : parseX3dh(wire.x3dh);
  return {
    kind: "dm",
    x3dh,
    message: {
      header: parseHeader(wire.header),
      ciphertext: ciphertextOf(wire.ciphertext),
      nonce: fromNumberArray(wire.nonce, NONCE_BYTES, "nonce"),
    },
  };
}

export function wireBytes(text) {
  return utf8Encode(text);
}
