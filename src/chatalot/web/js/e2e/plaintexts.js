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
  const dm = pendingDm.get(key);
  if (dm) {
    pendingDm.delete(key);
    if (!result.ok && result.code === "no_session") {
      if (!withoutSession.has(dm.senderId)) withoutSession.set(dm.senderId, new Map());
      withoutSession.get(dm.senderId).set(key, dm.message);
    }
  }
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

// Requests made in one turn (a list rendering its rows) are decrypted together, one batch per
// conversation, in the order requested: the engine then reads and writes each session once.
let queued = new Map(); // conversation -> [{key, message}]
let draining = false;

function conversationOf(message, me) {
  if (wireKind(message) === "group") return { kind: "group", id: message.channel_id };
  if (message.sender_id === me) return { kind: "own", id: "own" };
  return { kind: "dm", id: message.sender_id };
}

function drain() {
  draining = false;
  const batches = queued;
  queued = new Map();
  const { status, engine } = encryption.get();
  for (const [name, list] of batches) {
    if (status !== "ready" || !engine) {
      for (const { key } of list) requested.delete(key); // asked again once encryption is ready
      continue;
    }
    const [kind, id] = [name.slice(0, name.indexOf(":")), name.slice(name.indexOf(":") + 1)];
    let work;
    if (kind === "group") {
      work = engine.decryptGroupMany(
        id,
        list.map(({ message }) => ({
          senderId: message.sender_id,
          messageId: message.id,
          ciphertext: message.ciphertext,
          about: aboutOf(message),
        })),
      );
    } else if (kind === "own") {
      work = Promise.all(list.map(({ message }) => engine.ownDm(message.id, message.ciphertext)));
    } else {
      work = engine.decryptDmMany(
        id,
        list.map(({ message }) => ({ messageId: message.id, ciphertext: message.ciphertext, about: aboutOf(message) })),
      );
    }
    work.then(
      (results) => {
        list.forEach(({ key }, index) => settle(key, results[index]));
        if (kind === "dm" && results.some((result) => result.ok)) retryWithoutSession(id);
      },
      (error) => {
        for (const { key } of list) settle(key, { ok: false, code: "error", reason: error.message || String(error) });
      },
    );
  }
}

// A DM that arrived before this browser had a session with its sender ("no_session": the first
// message, which starts the session, was not decrypted yet, e.g. further back in the history) is
// tried again once a message of that sender decrypts.
const withoutSession = new Map(); // sender -> Map(key -> message)

function retryWithoutSession(senderId) {
  const waiting = withoutSession.get(senderId);
  if (!waiting || !waiting.size) return;
  withoutSession.delete(senderId);
  const results = new Map(decryptions.get().results);
  for (const [key, message] of waiting) {
    results.delete(key);
    requested.delete(key);
  }
  decryptions.set({ results });
  for (const message of waiting.values()) requestDecryption(message);
}

/** Starts decrypting a message (once); its result lands in `decryptions`. */
export function requestDecryption(message) {
  const { status, engine } = encryption.get();
  if (status !== "ready" || !engine || !message || !message.id) return;
  const key = keyOf(message);
  if (requested.has(key)) return;
  requested.add(key);
  const me = session.user && session.user.id;
  const { kind, id } = conversationOf(message, me);
  const name = `${kind}:${id}`;
  if (!queued.has(name)) queued.set(name, []);
  queued.get(name).push({ key, message });
  if (kind === "dm") noteRequest(id, key, message);
  if (!draining) {
    draining = true;
    setTimeout(drain, 0);
  }
}

function noteRequest(senderId, key, message) {
  // remembered until its result is known; kept only when it is "no_session"
  pendingDm.set(key, { senderId, message });
}

const pendingDm = new Map(); // key -> {senderId, message}

/** The result for a message once it is known (decrypting it if needed); undefined after 15 s. */
export function whenDecrypted(message, timeoutMs = 15_000) {
  if (!message || !isEncrypted(message)) return Promise.resolve(undefined);
  const key = keyOf(message);
  const known = decryptions.get().results.get(key);
  if (known) return Promise.resolve(known);
  return new Promise((resolve) => {
    const stop = decryptions.subscribe((state) => {
      const result = state.results.get(key);
      if (result) {
        stop();
        clearTimeout(timer);
        resolve(result);
      }
    });
    const timer = setTimeout(() => {
      stop();
      resolve(undefined);
    }, timeoutMs);
    requestDecryption(message);
  });
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
  queued = new Map();
  pendingDm.clear();
  withoutSession.clear();
  finished = [];
  decryptions.set({ results: new Map() });
}
