// Small byte helpers shared by the crypto modules: hex and UTF-8 conversion, joining and
// comparing byte strings, 32-bit big-endian integers, and the conversion between Uint8Array and
// the JSON arrays of numbers that the original Chatalot wire format uses for every byte string.
// Nothing here is secret-dependent in a way that needs constant time.

import { CryptoError } from "./errors.js";

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

export function isBytes(value) {
  return value instanceof Uint8Array;
}

export function requireBytes(value, length, what = "value") {
  if (!(value instanceof Uint8Array)) {
    throw new CryptoError("bad_input", `${what} must be a Uint8Array`);
  }
  if (length !== undefined && value.length !== length) {
    throw new CryptoError("bad_input", `${what} must be ${length} bytes, not ${value.length}`);
  }
  return value;
}

export function hexToBytes(hex) {
  if (typeof hex !== "string" || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new CryptoError("bad_input", "not a hex string");
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  }
  return out;
}

export function bytesToHex(bytes) {
  let hex = "";
  for (const byte of requireBytes(bytes)) {
    hex += byte.toString(16).padStart(2, "0");
  }
  return hex;
}

export function utf8Encode(text) {
  if (typeof text !== "string") throw new CryptoError("bad_input", "text must be a string");
  return encoder.encode(text);
}

// Strict: invalid UTF-8 is an error, never replacement characters.
export function utf8Decode(bytes) {
  try {
    return strictDecoder.decode(requireBytes(bytes));
  } catch (error) {
    if (error instanceof CryptoError) throw error;
    throw new CryptoError("bad_input", "not valid UTF-8");
  }
}

export function concatBytes(...parts) {
  let length = 0;
  for (const part of parts) length += requireBytes(part).length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function bytesEqual(a, b) {
  if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array) || a.length !== b.length) {
    return false;
  }
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// Bytewise order, as Rust compares [u8; 32].
export function compareBytes(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

export function u32be(value) {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, false);
  return out;
}

export function readU32be(bytes, offset = 0) {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset, false);
}

export function isU32(value) {
  return Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}

// Uint8Array -> plain array of numbers (what JSON.stringify prints as [1,2,3]).
export function toNumberArray(bytes) {
  return Array.from(requireBytes(bytes));
}

// A JSON array of numbers 0..255 -> Uint8Array; anything else is a CryptoError with `code`.
export function fromNumberArray(value, length, what = "byte array", code = "bad_wire") {
  if (!Array.isArray(value)) throw new CryptoError(code, `${what} must be an array of bytes`);
  if (length !== undefined && value.length !== length) {
    throw new CryptoError(code, `${what} must be ${length} bytes, not ${value.length}`);
  }
  const out = new Uint8Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const byte = value[i];
    if (!Number.isInteger(byte) || byte < 0 || byte > 255) {
      throw new CryptoError(code, `${what} holds a value that is not a byte`);
    }
    out[i] = byte;
  }
  return out;
}

// Serde-style JSON text of a byte string: [1,2,3].
export function jsonBytes(bytes) {
  return `[${toNumberArray(bytes).join(",")}]`;
}
