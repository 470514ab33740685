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

/** Starts decrypting a message (once); its result lands in `decryptions`. */
export function requestDecryption(message) {
  const { status, engine } = encryption.get();
  if (status !== "ready" || !engine || !message || !message.id) return;
  const key = keyOf(message);
  if (requested.has(key)) return;
  requested.add(key);
  const me = session.user && session.user.id;
  let work;
  if (wireKind(message) === "group") {
    work = engine.decryptGroup(message.channel_id, message.sender_id, message.id, message.ciphertext);
  } else if (message.sender_id === me) {
    work = engine.ownDm(message.id, message.ciphertext);
  } else {
    work = engine.decryptDm(message.sender_id, message.id, message.ciphertext);
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

/** Our own sent message: shown from memory at once, and kept sealed for later visits. */
export function rememberSent(message, text) {
  const key = keyOf(message);
  requested.add(key);
  settle(key, { ok: true, text });
  const { engine } = encryption.get();
  if (engine) engine.remember(message.id, message.ciphertext, text).catch(() => {});
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
