// Message content on the wire: `ciphertext` is an array of bytes. With end-to-end encryption off
// it is the text's UTF-8 (the original clients' plaintext mode, nonce 12 random bytes); an
// encrypted message is a JSON envelope {"v": 1, ...} (DM or channel, see js/crypto/wire.js) whose
// text comes from the encryption engine (js/e2e/plaintexts.js). A file message's text is JSON
// {file_id, filename, size}, encrypted or not.

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: false });

export function encodeText(text) {
  return {
    ciphertext: Array.from(encoder.encode(text)),
    nonce: Array.from(crypto.getRandomValues(new Uint8Array(12))),
  };
}

const envelopes = new WeakMap(); // message -> whether its bytes are an encrypted envelope

function envelopeText(text) {
  if (!text.startsWith("{") || !text.includes('"v"')) return false;
  try {
    const envelope = JSON.parse(text);
    return Boolean(envelope && envelope.v === 1);
  } catch {
    return false; // not JSON: plain text that starts with a brace
  }
}

/** Whether a message's bytes are an end-to-end encrypted envelope. */
export function isEncrypted(message) {
  if (!message || message.message_type === "webhook") return false;
  let known = envelopes.get(message);
  if (known === undefined) {
    const bytes = message.ciphertext || [];
    known = bytes.length > 2 && bytes[0] === 0x7b && envelopeText(decoder.decode(new Uint8Array(bytes)));
    envelopes.set(message, known);
  }
  return known;
}

/**
 * {kind: "text"|"file"|"encrypted"|"undecryptable"|"empty", text, file?, reason?} of a message.
 * `decrypted` is the engine's result for an encrypted one ({ok, text} or {ok: false, code,
 * reason}); without it an encrypted message is {kind: "encrypted"} (not decrypted yet).
 */
export function decodeMessage(message, decrypted) {
  const bytes = message.ciphertext || [];
  if (message.message_type === "webhook") {
    return webhookContent(bytes);
  }
  if (bytes.length === 0 || (bytes.length === 1 && bytes[0] === 0)) {
    return { kind: "empty", text: "" };
  }
  if (isEncrypted(message)) {
    if (!decrypted) return { kind: "encrypted", text: "" };
    if (!decrypted.ok) return { kind: "undecryptable", text: "", code: decrypted.code, reason: decrypted.reason };
    return contentOf(message, decrypted.text, true);
  }
  return contentOf(message, decoder.decode(new Uint8Array(bytes)), false);
}

function contentOf(message, text, encrypted) {
  if (message.message_type === "file") {
    try {
      const file = JSON.parse(text);
      if (file && typeof file.file_id === "string" && typeof file.filename === "string") {
        return { kind: "file", text: "", file, encrypted };
      }
    } catch {
      // shown as text
    }
  }
  return { kind: "text", text, encrypted };
}

function webhookContent(bytes) {
  if (bytes.length <= 1) return { kind: "empty", text: "" };
  const text = decoder.decode(new Uint8Array(bytes));
  try {
    const body = JSON.parse(text);
    if (body && typeof body.content === "string") {
      return { kind: "text", text: body.content, webhookName: body.webhook_name, webhookAvatar: body.webhook_avatar };
    }
  } catch {
    // plain UTF-8
  }
  return { kind: "text", text };
}
