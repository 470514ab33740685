// End-to-end encryption for the signed-in account over the page's life: the keystore is
// unlocked with the password at sign-in (and kept unlocked across reloads), the engine starts
// when the app opens (keys uploaded again, one-time prekeys topped up), the password change
// reseals everything, and sign-out forgets the key (the sealed records stay, so signing in
// again with the same password brings the history back).
//
// `encryption` is a store the views read: {status, engine, error}. Status is "off" (signed
// out), "starting", "ready", "locked" (this browser has sealed keys but no key to open them:
// the password is needed), or "unavailable" (no IndexedDB, or the server refused the keys).

import { createStore } from "../store.js";
import { E2EEngine } from "./engine.js";
import { Keystore } from "./keystore.js";
import { serverKeys } from "./server.js";

export const encryption = createStore({ status: "off", engine: null, error: null, userId: null });

const listeners = new Set();

/** Identity changes and key problems the engine reports, for the views. */
export function onEncryptionEvent(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function emit(event) {
  for (const fn of [...listeners]) fn(event);
}

let starting = null;


/** Keys for POST /api/auth/register (the account does not exist yet). */
export function registrationKeys() {
  return E2EEngine.makeRegistrationKeys();
}

/** After a successful registration: the keys just uploaded are kept, sealed. */
export async function keepRegistrationKeys(userId, password, keys) {
  const store = await Keystore.open(userId);
  try {
    await store.unlockWithPassword(password);
    const engine = new E2EEngine({ userId, keystore: store, server: serverKeys, onEvent: emit });
    await engine.adoptRegistrationKeys(keys);
  } finally {
    store.close();
  }
}

/**
 * At sign-in: unlock with the password. Records sealed under another password (it was changed
 * elsewhere or reset with the recovery code) cannot be opened: they are dropped and new keys
 * are made when the app starts.
 */
export async function unlockAtSignIn(userId, password) {
  await signOutEncryption(); // another account may have been open in this page
  const store = await Keystore.open(userId);
  try {
    await store.unlockWithPassword(password);
    if (!(await store.readable())) await store.clear();
  } finally {
    store.close();
  }
}

/** When the app opens with a session: start the engine, or say that the password is needed. */
export function startEncryption(userId) {
  const current = encryption.get();
  if (current.userId === userId && (current.status === "ready" || current.status === "starting")) {
    return starting || Promise.resolve(current);
  }
  starting = (async () => {
    encryption.set({ status: "starting", engine: null, error: null, userId });
    let store;
    try {
      store = await Keystore.open(userId);
      if (!(await store.unlockFromDevice())) {
        encryption.set({ status: "locked", engine: null, error: null, userId, store });
        return encryption.get();
      }
      const engine = new E2EEngine({ userId, keystore: store, server: serverKeys, onEvent: emit });
      await engine.start();
      encryption.set({ status: "ready", engine, error: null, userId });
    } catch (error) {
      encryption.set({ status: "unavailable", engine: null, error: error.message || String(error), userId });
    } finally {
      starting = null;
    }
    return encryption.get();
  })();
  return starting;
}

/** The "locked" state: the password opens the keystore (or starts afresh if it cannot). */
export async function unlockWithPassword(password) {
  const { userId } = encryption.get();
  if (!userId) return encryption.get();
  await unlockAtSignIn(userId, password);
  return startEncryption(userId);
}

/** After the password changed in Settings: everything is sealed again under the new one. */
export async function passwordChanged(newPassword) {
  const { engine } = encryption.get();
  if (engine) await engine.store.reseal(newPassword);
}

/** Sign-out: the key is forgotten in this browser; the sealed records stay. */
export async function signOutEncryption() {
  const { engine, store } = encryption.get();
  encryption.set({ status: "off", engine: null, error: null, userId: null });
  const keystore = (engine && engine.store) || store;
  if (keystore) {
    await keystore.forgetKey().catch(() => {});
    keystore.close();
  }
}
