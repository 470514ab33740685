// The browser's store of end-to-end encryption secrets: identity key, prekeys, ratchet sessions,
// sender keys, peers' identity keys and the plaintext of messages already decrypted (a ratchet
// key works once, so a message cannot be decrypted twice).
//
// One IndexedDB database per account ("chatalot-e2e-<user id>"). Every value is sealed with
// AES-256-GCM under a key derived from the account's password with PBKDF2-SHA256 (210,000
// rounds, salt "chatalot-personal-<user id>": the original client's personal key). The derived
// key is kept in the database as a non-extractable CryptoKey, so this page can use it after a
// reload without asking for the password again, while no script can read its bytes. The record's
// store and key are the AES-GCM associated data: a sealed value moved to another slot does not
// open. What this does and does not protect against is in docs/security.md.

const PBKDF2_ROUNDS = 210_000;
const STORES = [
  "meta",
  "identity",
  "signedPrekeys",
  "oneTimePrekeys",
  "sessions",
  "peerIdentities",
  "senderKeys",
  "receiverKeys",
  "plaintexts",
];
const SEALING_KEY = "sealing-key";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class KeystoreError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "KeystoreError";
    this.code = code; // "locked" | "unreadable" | "unavailable"
  }
}

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function finished(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new KeystoreError("unavailable", "transaction aborted"));
  });
}

// Values are JSON with byte strings written as {"$bytes": [..]} so Uint8Array survives.
function encode(value) {
  return encoder.encode(
    JSON.stringify(value, (_, item) =>
      item instanceof Uint8Array ? { $bytes: Array.from(item) } : item,
    ),
  );
}

function decode(bytes) {
  return JSON.parse(decoder.decode(bytes), (_, item) =>
    item && typeof item === "object" && Array.isArray(item.$bytes) && Object.keys(item).length === 1
      ? Uint8Array.from(item.$bytes)
      : item,
  );
}

function slot(store, key) {
  return encoder.encode(`${store}\u0000${key}`);
}

export function databaseName(userId) {
  return `chatalot-e2e-${userId}`;
}

/** The AES-GCM key a password gives for an account (non-extractable). */
export async function derivePersonalKey(password, userId) {
  const material = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, [
    "deriveKey",
  ]);
  return crypto.subtle.deriveKey(
    {
      name: "PBKDF2",
      salt: encoder.encode(`chatalot-personal-${userId}`),
      iterations: PBKDF2_ROUNDS,
      hash: "SHA-256",
    },
    material,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

export class Keystore {
  constructor(db, userId) {
    this.db = db;
    this.userId = userId;
    this.key = null;
  }

  /** Opens (creating if needed) the account's database; still locked until unlock(). */
  static async open(userId) {
    if (typeof indexedDB === "undefined") {
      throw new KeystoreError("unavailable", "this browser keeps no local storage");
    }
    const opening = indexedDB.open(databaseName(userId), 1);
    opening.onupgradeneeded = () => {
      for (const name of STORES) {
        if (!opening.result.objectStoreNames.contains(name)) opening.result.createObjectStore(name);
      }
    };
    const db = await request(opening).catch((error) => {
      throw new KeystoreError("unavailable", `local storage refused: ${error && error.message}`);
    });
    return new Keystore(db, userId);
  }

  get unlocked() {
    return this.key !== null;
  }

  /** Unlocks with the key kept from an earlier sign-in; false when there is none. */
  async unlockFromDevice() {
    const tx = this.db.transaction("meta", "readonly");
    const stored = await request(tx.objectStore("meta").get(SEALING_KEY));
    if (!(stored instanceof CryptoKey)) return false;
    this.key = stored;
    return true;
  }

  /**
   * Unlocks with the password (at sign-in or registration) and keeps the derived key for later
   * visits. A password that does not open what is stored (changed on another device) leaves
   * the old records unreadable: `readable()` tells, and `clear()` starts over.
   */
  async unlockWithPassword(password) {
    const key = await derivePersonalKey(password, this.userId);
    const tx = this.db.transaction("meta", "readwrite");
    tx.objectStore("meta").put(key, SEALING_KEY);
    await finished(tx);
    this.key = key;
  }

  /**
   * The password changed (and the old one was known): every record is opened with the old key
   * and sealed again with the new one, in one transaction.
   */
  async reseal(newPassword) {
    this.requireKey();
    const opened = [];
    for (const store of STORES.filter((name) => name !== "meta")) {
      const tx = this.db.transaction(store, "readonly");
      const keys = await request(tx.objectStore(store).getAllKeys());
      const records = await request(tx.objectStore(store).getAll());
      for (let i = 0; i < keys.length; i += 1) {
        opened.push([store, keys[i], await this.open(store, keys[i], records[i])]);
      }
    }
    const oldKey = this.key;
    this.key = await derivePersonalKey(newPassword, this.userId);
    try {
      const sealed = await Promise.all(
        opened.map(async ([store, key, value]) => [store, key, await this.seal(store, key, value)]),
      );
      const tx = this.db.transaction(STORES, "readwrite");
      for (const [store, key, record] of sealed) tx.objectStore(store).put(record, key);
      tx.objectStore("meta").put(this.key, SEALING_KEY);
      await finished(tx);
    } catch (error) {
      this.key = oldKey;
      throw error;
    }
  }

  /**
   * Sign-out: the kept key is deleted, the sealed records stay. Signing in again with the same
   * password opens them (history survives); without it they are unreadable.
   */
  async forgetKey() {
    const tx = this.db.transaction("meta", "readwrite");
    tx.objectStore("meta").delete(SEALING_KEY);
    await finished(tx);
    this.key = null;
  }

  /** Whether the records present open with the current key (true when there are none). */
  async readable() {
    const tx = this.db.transaction("identity", "readonly");
    const cursor = await request(tx.objectStore("identity").openCursor());
    if (!cursor) return true;
    try {
      await this.open("identity", cursor.key, cursor.value);
      return true;
    } catch {
      return false;
    }
  }

  requireKey() {
    if (!this.key) throw new KeystoreError("locked", "the keystore is locked");
    return this.key;
  }

  async seal(store, key, value) {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const sealed = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: slot(store, key) },
      this.requireKey(),
      encode(value),
    );
    return { iv, data: new Uint8Array(sealed) };
  }

  async open(store, key, record) {
    if (!record || !(record.iv instanceof Uint8Array) || !(record.data instanceof Uint8Array)) {
      throw new KeystoreError("unreadable", `${store}/${key} is not a sealed record`);
    }
    let plain;
    try {
      plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: record.iv, additionalData: slot(store, key) },
        this.requireKey(),
        record.data,
      );
    } catch (error) {
      if (error instanceof KeystoreError) throw error;
      throw new KeystoreError("unreadable", `${store}/${key} does not open with this key`);
    }
    return decode(new Uint8Array(plain));
  }

  /** The value at store/key, or null. */
  async get(store, key) {
    this.requireKey();
    const tx = this.db.transaction(store, "readonly");
    const record = await request(tx.objectStore(store).get(key));
    return record === undefined ? null : this.open(store, key, record);
  }

  /** Every [key, value] of a store (records that do not open are left out). */
  async all(store) {
    this.requireKey();
    const tx = this.db.transaction(store, "readonly");
    const objects = tx.objectStore(store);
    const [keys, records] = await Promise.all([request(objects.getAllKeys()), request(objects.getAll())]);
    const opened = await Promise.all(
      records.map((record, index) => this.open(store, keys[index], record).catch(() => undefined)),
    );
    return keys.map((key, index) => [key, opened[index]]).filter(([, value]) => value !== undefined);
  }

  /** Writes several values in one transaction: all of them or none. */
  async putMany(entries) {
    const sealed = await Promise.all(
      entries.map(async ([store, key, value]) => [store, key, await this.seal(store, key, value)]),
    );
    const stores = [...new Set(sealed.map(([store]) => store))];
    const tx = this.db.transaction(stores, "readwrite");
    for (const [store, key, record] of sealed) tx.objectStore(store).put(record, key);
    await finished(tx);
  }

  put(store, key, value) {
    return this.putMany([[store, key, value]]);
  }

  async delete(store, key) {
    const tx = this.db.transaction(store, "readwrite");
    tx.objectStore(store).delete(key);
    await finished(tx);
  }

  /** The keys of a store (all of them, or those starting with prefix). */
  async keys(store, prefix = "") {
    const tx = this.db.transaction(store, "readonly");
    const all = await request(tx.objectStore(store).getAllKeys());
    return all.filter((key) => String(key).startsWith(prefix));
  }

  /** Deletes every key whose name starts with prefix in one store. */
  async deletePrefix(store, prefix) {
    const names = await this.keys(store, prefix);
    const tx = this.db.transaction(store, "readwrite");
    for (const name of names) tx.objectStore(store).delete(name);
    await finished(tx);
  }

  /** Forgets every secret of this account in this browser but stays unlocked (a fresh start). */
  async clear() {
    const tx = this.db.transaction(STORES, "readwrite");
    for (const name of STORES) tx.objectStore(name).clear();
    if (this.key) tx.objectStore("meta").put(this.key, SEALING_KEY);
    await finished(tx);
  }

  close() {
    this.db.close();
  }
}

/** Deletes an account's database altogether (sign-out). */
export async function deleteKeystore(userId) {
  if (typeof indexedDB === "undefined") return;
  await request(indexedDB.deleteDatabase(databaseName(userId))).catch(() => {});
}
