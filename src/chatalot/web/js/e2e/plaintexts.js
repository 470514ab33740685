// What the views show for encrypted messages: each encrypted message is decrypted once (by the
// engine, which also keeps the result sealed in IndexedDB), and the view that shows it re-renders
// when its result arrives. Results are kept in memory by message id and content digest, so an
// edit (same id, new bytes) is decrypted again.

import { useEffect } from "../html.js";
import { createStore, useStore } from "../store.js";
import { session } from "../session.js";
import { decodeMessage, isEncrypted } from "../content.js";
import { encryption } from "./account.js";
import { digestOf } from "./engine.js";

export const decryptions = createStore({ results: new Map() });

const keys = new WeakMap(); // message object -> its key (hashing once per object)
const requested = new Set();
let finished = [];
let flushing = false;

function keyOf(message) {
  let key = keys.get(message);
  if (!key) {
    key = `${message.id}:${digestOf(Uint8Array.from(message.ciphertext || []))}`;
    keys.set(message, key);
  }
  return key;
}

function flush() {
  flushing = false;
  const results = new Map(decryptions.get().results);
  for (const [key, result] of finished) results.set(key, result);
  finished = [];
  decryptions.set({ results });
}

function settle(key, result) {
  finished.push([key, result]);
  if (!flushing) {
    flushing = true;
    setTimeout(flush, 0); // many results, one update
  }
}

function wireKind(message) {
  try {
    const wire = JSON.parse(new TextDecoder().decode(Uint8Array.from(message.ciphertext || [])));
    return wire && wire.sk === true ? "group" : "dm";
  } catch {
    return "dm";
  }
}

/** What is kept with a decrypted text for local search. */
function aboutOf(message) {
  if (!message.channel_id || !message.sender_id) return null;
  return {
    channel_id: message.channel_id,
    sender_id: message.sender_id,
    created_at: message.created_at || "",
    edited_at: message.edited_at || null,
    thread_id: message.thread_id || null,
    message_type: message.message_type || "text",
  };
}

/** Starts decrypting a message (once); its result lands in `decryptions`. */
export function requestDecryption(message) {
  const { status, engine } = encryption.get();
  if (status !== "ready" || !engine || !message || !message.id) return;
  const key = keyOf(message);
  if (requested.has(key)) return;
  requested.add(key);
  const me = session.user && session.user.id;
  const about = aboutOf(message);
  let work;
  if (wireKind(message) === "group") {
    work = engine.decryptGroup(message.channel_id, message.sender_id, message.id, message.ciphertext, about);
  } else if (message.sender_id === me) {
    work = engine.ownDm(message.id, message.ciphertext);
  } else {
    work = engine.decryptDm(message.sender_id, message.id, message.ciphertext, about);
  }
  work.then(
    (result) => settle(key, result),
    (error) => settle(key, { ok: false, code: "error", reason: error.message || String(error) }),
  );
}

/** The result for a message if there is one yet (for code outside views, e.g. notifications). */
export function decryptedResult(message) {
  if (!message || !isEncrypted(message)) return undefined;
  return decryptions.get().results.get(keyOf(message));
}

/**
 * For a list of messages: their results ({get(message)}), and the missing ones requested, oldest
 * first (a conversation's ratchet then steps forward, not back through skipped keys).
 */
export function useDecryptions(messages, others) {
  const status = useStore(encryption, (state) => state.status);
  const results = useStore(decryptions, (state) => state.results);
  useEffect(() => {
    if (status !== "ready") return;
    for (const message of messages) {
      if (isEncrypted(message) && !results.has(keyOf(message))) requestDecryption(message);
    }
    if (others) {
      for (const message of others.values()) {
        if (isEncrypted(message) && !results.has(keyOf(message))) requestDecryption(message);
      }
    }
  }, [messages, others, status]);
  return {
    get: (message) => (message && isEncrypted(message) ? results.get(keyOf(message)) : undefined),
  };
}

/** Our own sent message: shown from memory at once, and kept sealed for later visits. */
export function rememberSent(message, text) {
  const key = keyOf(message);
  requested.add(key);
  const results = new Map(decryptions.get().results);
  results.set(key, { ok: true, text });
  decryptions.set({ results });
  const { engine } = encryption.get();
  if (engine) engine.remember(message.id, message.ciphertext, text, aboutOf(message)).catch(() => {});
}

/** Bytes we sealed before the message has an id (scheduled): known later by the bytes alone. */
export async function rememberOwnBytes(ciphertext, text) {
  const { engine } = encryption.get();
  if (engine) await engine.remember(null, ciphertext, text);
}

/** decodeMessage for a view: encrypted messages are decrypted, and the view updates then. */
export function useDecoded(message) {
  const status = useStore(encryption, (state) => state.status);
  const key = message && isEncrypted(message) ? keyOf(message) : null;
  const result = useStore(decryptions, (state) => (key ? state.results.get(key) : undefined));
  useEffect(() => {
    if (key && result === undefined && status === "ready") requestDecryption(message);
  }, [key, status, result === undefined]);
  return decodeMessage(message, result);
}

/** Forgets every result in memory (sign-out). */
export function forgetPlaintexts() {
  requested.clear();
  finished = [];
  decryptions.set({ results: new Map() });
}
