// End-to-end encryption for one signed-in account in this browser: its keys, its Double Ratchet
// sessions with DM peers, its sender keys in channels, and the plaintext of what it has already
// decrypted. It joins the protocol core (../crypto/), the sealed keystore (./keystore.js) and the
// server's key API, which is passed in (`server`, see ServerKeys in ./server.js), so tests can run
// two accounts against a stand-in.
//
// Behaviour follows the original Chatalot web client so the two interoperate:
// - keys: an Ed25519 identity, signed prekey 1 and 100 one-time prekeys; the identity and signed
//   prekey are uploaded again at every start (one-time prekeys are left alone then, so none is
//   handed out twice) and one-time prekeys are topped up with 100 more when fewer than 25 remain;
// - DMs: the first message to a peer with no session runs X3DH and carries the `x3dh` block; a
//   message carrying one makes the receiver start a new session from it;
// - channels: a sender key per channel, its distribution uploaded in clear (the original's design,
//   see docs/security.md), dropped on `sender_key_rotation_required`.
// Deliberately better: skipped message keys are kept (late DMs decrypt), one conversation's
// messages are handled one at a time (no lost state under concurrency), a message that does not
// decrypt is reported as such (never shown as its wire text), and a peer's new identity key is
// reported so the interface can warn.

import { CryptoError, bytes, fingerprints, primitives, ratchet, senderKeys, wire, x3dh } from "../crypto/index.js";

const FIRST_ONE_TIME_PREKEYS = 100;
const TOP_UP_BELOW = 25;
const TOP_UP_BATCH = 100;
const SIGNED_PREKEY_ID = 1;

/** What a message turned into: {ok: true, text} or {ok: false, code, reason}. */
function failure(error) {
  if (error instanceof CryptoError) return { ok: false, code: error.code, reason: error.message };
  return { ok: false, code: "error", reason: (error && error.message) || String(error) };
}

/** A short digest of a message's bytes: an edited message keeps its id but not its bytes. */
export function digestOf(data) {
  return bytes.bytesToHex(primitives.sha256(data).subarray(0, 8));
}

function fold(text) {
  return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

function asBytes(ciphertext) {
  if (ciphertext instanceof Uint8Array) return ciphertext;
  return Uint8Array.from(ciphertext || []);
}

export class E2EEngine {
  /**
   * @param {object} options
   * @param {string} options.userId the signed-in account
   * @param {import("./keystore.js").Keystore} options.keystore unlocked
   * @param {object} options.server the key API (./server.js)
   * @param {(event: object) => void} [options.onEvent] identity changes and key problems
   */
  constructor({ userId, keystore, server, onEvent }) {
    this.userId = userId;
    this.store = keystore;
    this.server = server;
    this.onEvent = onEvent || (() => {});
    this.identity = null;
    this.queues = new Map();
  }

  // One operation at a time per conversation, across this browser's tabs too (Web Locks): a
  // ratchet or chain stepped twice from the same state would use a message key twice.
  serial(key, task) {
    if (typeof navigator !== "undefined" && navigator.locks) {
      return navigator.locks.request(`chatalot-e2e:${this.userId}:${key}`, () => task());
    }
    const previous = this.queues.get(key) || Promise.resolve();
    const next = previous.then(task, task);
    const settled = next.catch(() => {});
    this.queues.set(key, settled);
    settled.then(() => {
      if (this.queues.get(key) === settled) this.queues.delete(key);
    });
    return next;
  }

  // --- keys ------------------------------------------------------------------------------

  /**
   * Makes sure this account has keys here and on the server (at every start): creates them on
   * a first start in this browser, uploads identity and signed prekey again, tops up one-time
   * prekeys. Returns "created" or "existing".
   */
  async start() {
    return this.serial("keys", async () => {
      const identity = await this.store.get("identity", "self");
      if (!identity) {
        await this.createKeys();
        return "created";
      }
      this.identity = identity;
      const signed = await this.store.get("signedPrekeys", String(SIGNED_PREKEY_ID));
      if (!signed) {
        await this.createKeys();
        return "created";
      }
      await this.server.register({
        identity_key: bytes.toNumberArray(identity.publicKey),
        signed_prekey: {
          key_id: SIGNED_PREKEY_ID,
          public_key: bytes.toNumberArray(signed.publicKey),
          signature: bytes.toNumberArray(signed.signature),
        },
        one_time_prekeys: [],
      });
      await this.topUpUnlocked();
      return "existing";
    });
  }

  /** Keys made at registration (POST /api/auth/register needs them before the account exists). */
  static makeRegistrationKeys() {
    const identity = primitives.generateIdentityKey();
    const signedPair = primitives.generateX25519KeyPair();
    const signature = x3dh.signPrekey(identity.seed, signedPair.publicKey);
    const oneTime = [];
    for (let keyId = 1; keyId <= FIRST_ONE_TIME_PREKEYS; keyId += 1) {
      oneTime.push({ keyId, ...primitives.generateX25519KeyPair() });
    }
    return {
      identity,
      signed: { ...signedPair, signature },
      oneTime,
      request: {
        identity_key: bytes.toNumberArray(identity.publicKey),
        signed_prekey: {
          key_id: SIGNED_PREKEY_ID,
          public_key: bytes.toNumberArray(signedPair.publicKey),
          signature: bytes.toNumberArray(signature),
        },
        one_time_prekeys: oneTime.map((key) => ({
          key_id: key.keyId,
          public_key: bytes.toNumberArray(key.publicKey),
        })),
      },
    };
  }

  /** Keeps keys made by makeRegistrationKeys (the server already has their public halves). */
  async adoptRegistrationKeys(keys) {
    await this.store.clear();
    await this.saveKeys(keys);
    this.identity = keys.identity;
  }

  async saveKeys(keys) {
    const entries = [
      ["identity", "self", { seed: keys.identity.seed, publicKey: keys.identity.publicKey }],
      ["signedPrekeys", String(SIGNED_PREKEY_ID), keys.signed],
      ["identity", "next-one-time-id", keys.oneTime.length + 1],
    ];
    for (const key of keys.oneTime) {
      entries.push(["oneTimePrekeys", String(key.keyId), { privateKey: key.privateKey }]);
    }
    await this.store.putMany(entries);
  }

  async createKeys() {
    // A first start in this browser for an existing account: new keys replace the server's
    // (peers will see a new identity key, as with the original client on a new device).
    const keys = E2EEngine.makeRegistrationKeys();
    await this.server.register(keys.request);
    await this.store.clear();
    await this.saveKeys(keys);
    this.identity = keys.identity;
  }

  /** Uploads 100 more one-time prekeys when the server has fewer than 25 (also on `keys_low`). */
  topUp() {
    return this.serial("keys", () => this.topUpUnlocked());
  }

  async topUpUnlocked() {
    const count = await this.server.prekeyCount();
    if (count >= TOP_UP_BELOW) return 0;
    const first = (await this.store.get("identity", "next-one-time-id")) || 1;
    const fresh = [];
    for (let keyId = first; keyId < first + TOP_UP_BATCH; keyId += 1) {
      fresh.push({ keyId, ...primitives.generateX25519KeyPair() });
    }
    // private halves first: a key the server hands out must already be here
    await this.store.putMany([
      ["identity", "next-one-time-id", first + TOP_UP_BATCH],
      ...fresh.map((key) => ["oneTimePrekeys", String(key.keyId), { privateKey: key.privateKey }]),
    ]);
    await this.server.uploadOneTimePrekeys(
      fresh.map((key) => ({ key_id: key.keyId, public_key: bytes.toNumberArray(key.publicKey) })),
    );
    return fresh.length;
  }

  async requireIdentity() {
    if (!this.identity) this.identity = await this.store.get("identity", "self");
    if (!this.identity) throw new CryptoError("no_keys", "this browser has no keys for the account");
    return this.identity;
  }

  /** Our identity key, its fingerprint, and (with a peer's key) the safety number. */
  async identityInfo(peerId = null) {
    const identity = await this.requireIdentity();
    const info = {
      publicKey: identity.publicKey,
      fingerprint: fingerprints.fingerprintDisplay(identity.publicKey),
    };
    if (peerId) {
      const peer = await this.store.get("peerIdentities", peerId);
      if (peer) {
        info.peerFingerprint = fingerprints.fingerprintDisplay(peer.key);
        info.safetyNumber = fingerprints.safetyNumber(identity.publicKey, peer.key);
        info.peerChanged = Boolean(peer.changed);
        info.peerVerified = Boolean(peer.verified);
      }
    }
    return info;
  }

  /** The person compared safety numbers: the "changed" warning goes away. */
  async markVerified(peerId) {
    const peer = await this.store.get("peerIdentities", peerId);
    if (peer) await this.store.put("peerIdentities", peerId, { ...peer, changed: false, verified: true });
    this.onEvent({ type: "identity_verified", userId: peerId });
  }

  /**
   * Trust on first use: the peer's identity key goes into `entries` (saved with the session)
   * when it is new or different. Returns "new", "same" or "changed"; the caller reports a
   * change once the entries are saved.
   */
  async notePeerIdentity(peerId, key, entries) {
    const known = await this.store.get("peerIdentities", peerId);
    const status = fingerprints.checkPeerIdentity(known ? known.key : null, key);
    if (status === "same") return status;
    entries.push([
      "peerIdentities",
      peerId,
      { key, changed: status === "changed", verified: false, seenAt: Date.now() },
    ]);
    return status;
  }

  reportIdentity(peerId, status) {
    if (status === "changed") this.onEvent({ type: "identity_changed", userId: peerId });
  }

  // --- direct messages -------------------------------------------------------------------

  /** {ciphertext, nonce} (number arrays) for a DM to peerId. */
  encryptDm(peerId, text) {
    return this.serial(`dm:${peerId}`, async () => {
      const identity = await this.requireIdentity();
      const entries = [];
      let session = null;
      const stored = await this.store.get("sessions", peerId);
      if (stored) session = ratchet.deserialize(stored);
      let header = null;
      let identityStatus = "same";
      if (!session) {
        const bundle = x3dh.parseBundle(await this.server.bundle(peerId));
        identityStatus = await this.notePeerIdentity(peerId, bundle.identityKey, entries);
        const agreed = x3dh.initiate(identity.seed, bundle);
        session = ratchet.initInitiator(agreed.sharedSecret, agreed.remoteSignedPrekey);
        header = agreed.header;
      }
      const sealed = ratchet.encrypt(session, bytes.utf8Encode(text));
      const wireText = wire.encodeDmWire(sealed.message, header);
      const data = wire.wireBytes(wireText);
      entries.push(["sessions", peerId, ratchet.serialize(sealed.state)]);
      await this.store.putMany(entries);
      this.reportIdentity(peerId, identityStatus);
      return { ciphertext: bytes.toNumberArray(data), nonce: bytes.toNumberArray(sealed.message.nonce) };
    });
  }

  /** Decrypts a DM from peerId (cached by message id and bytes: a key opens only once). */
  async decryptDm(peerId, messageId, ciphertext, about = null) {
    return (await this.decryptDmMany(peerId, [{ messageId, ciphertext, about }]))[0];
  }

  /**
   * Decrypts several DMs from peerId, in the order given (oldest first is cheapest), under one
   * lock: the session is read once and written once with every result, so opening a
   * conversation costs one session load, not one per message. A message that fails changes
   * nothing (the ratchet only moves on success). Returns one result per item.
   */
  decryptDmMany(peerId, items) {
    return this.serial(`dm:${peerId}`, async () => {
      const results = [];
      const entries = [];
      const usedOneTime = [];
      let session; // undefined: not read yet; null: there is none
      let origin; // the X3DH ephemeral key (hex) the current session started from
      let changed = false;
      let identityChanged = false;
      for (const { messageId, ciphertext, about } of items) {
        const data = asBytes(ciphertext);
        const cached = await this.cached(messageId, data);
        if (cached) {
          results.push(cached);
          continue;
        }
        try {
          const parsed = wire.parseWire(data);
          if (parsed.kind !== "dm") throw new CryptoError("bad_wire", "a group message in a DM");
          if (session === undefined) {
            const stored = await this.store.get("sessions", peerId);
            session = stored ? ratchet.deserialize(stored) : null;
            origin = session ? await this.store.get("sessions", `origin:${peerId}`) : null;
          }
          const local = [];
          let current = session;
          let startedFrom = null;
          let status = "same";
          const base = parsed.x3dh ? bytes.bytesToHex(parsed.x3dh.ephemeralKey) : null;
          // a first message starts a new session, unless it is the one the current session
          // started from (seen again, or replayed): then it is an old message of that session
          if (parsed.x3dh && !(session && origin === base)) {
            const identity = await this.requireIdentity();
            status = await this.notePeerIdentity(peerId, parsed.x3dh.identityKey, local);
            const signed = await this.store.get("signedPrekeys", String(parsed.x3dh.signedPrekeyId));
            const oneTimeId = parsed.x3dh.oneTimePrekeyId;
            const oneTime =
              oneTimeId === null ? null : await this.store.get("oneTimePrekeys", String(oneTimeId));
            const agreed = x3dh.respondToHeader(identity.seed, parsed.x3dh, {
              signedPrekey: () => (signed ? signed.privateKey : null),
              oneTimePrekey: () => (oneTime ? oneTime.privateKey : null),
            });
            current = ratchet.initResponder(agreed.sharedSecret, signed.privateKey, signed.publicKey);
            startedFrom = base;
          } else if (!current) {
            throw new CryptoError("no_session", "no session with this person yet");
          }
          const opened = ratchet.decrypt(current, parsed.message);
          const text = bytes.utf8Decode(opened.plaintext);
          session = opened.state;
          if (startedFrom) {
            origin = startedFrom;
            local.push(["sessions", `origin:${peerId}`, startedFrom]);
            if (parsed.x3dh.oneTimePrekeyId !== null) usedOneTime.push(parsed.x3dh.oneTimePrekeyId);
          }
          changed = true;
          identityChanged = identityChanged || status === "changed";
          entries.push(...local, this.cacheEntry(messageId, data, text, about));
          results.push({ ok: true, text });
        } catch (error) {
          results.push(failure(error));
        }
      }
      if (changed) {
        entries.push(["sessions", peerId, ratchet.serialize(session)]);
        await this.store.putMany(entries);
      }
      for (const keyId of usedOneTime) await this.store.delete("oneTimePrekeys", String(keyId));
      this.reportIdentity(peerId, identityChanged ? "changed" : "same");
      return results;
    });
  }

  // --- channels (sender keys) ------------------------------------------------------------

  /** {ciphertext, nonce} (number arrays) for a channel message. */
  encryptGroup(channelId, text) {
    return this.serial(`ch:${channelId}`, async () => {
      let state = null;
      const stored = await this.store.get("senderKeys", channelId);
      if (stored) state = senderKeys.deserializeSender(stored);
      if (!state) {
        state = senderKeys.generateSenderKey(bytes.utf8Encode(this.userId));
        const distribution = JSON.parse(senderKeys.distributionJson(senderKeys.distributionOf(state)));
        await this.server.uploadSenderKey(channelId, { chain_id: state.chainId, distribution });
      }
      const sealed = senderKeys.encryptGroup(state, bytes.utf8Encode(text));
      // the chain moves on before the message leaves: a key is never used twice
      await this.store.put("senderKeys", channelId, senderKeys.serializeSender(sealed.state));
      const data = wire.wireBytes(wire.encodeGroupWire(sealed.message));
      return { ciphertext: bytes.toNumberArray(data), nonce: bytes.toNumberArray(sealed.message.nonce) };
    });
  }

  /** Decrypts a channel message of senderId (fetching its distribution when needed). */
  async decryptGroup(channelId, senderId, messageId, ciphertext, about = null) {
    return (await this.decryptGroupMany(channelId, [{ senderId, messageId, ciphertext, about }]))[0];
  }

  /**
   * Decrypts several messages of one channel (any senders), in the order given, under one lock:
   * each sender's chain is read once and written once with every result.
   */
  decryptGroupMany(channelId, items) {
    return this.serial(`ch:${channelId}`, async () => {
      const results = [];
      const entries = [];
      const receivers = new Map(); // slot -> {state, changed}
      let distributions = null; // the server's, fetched at most once per batch
      const fromServer = async (senderId) => {
        if (!distributions) distributions = (await this.server.senderKeys(channelId)) || [];
        const found = distributions.find((item) => item && item.user_id === senderId);
        return found ? senderKeys.receiverFromDistribution(senderKeys.parseDistribution(found.distribution)) : null;
      };
      for (const { senderId, messageId, ciphertext, about } of items) {
        const data = asBytes(ciphertext);
        const cached = await this.cached(messageId, data);
        if (cached) {
          results.push(cached);
          continue;
        }
        try {
          const parsed = wire.parseWire(data);
          if (parsed.kind !== "group") throw new CryptoError("bad_wire", "a DM in a channel");
          const slot = `${channelId}:${senderId}`;
          if (!receivers.has(slot)) {
            const stored = await this.store.get("receiverKeys", slot);
            receivers.set(slot, { state: stored ? senderKeys.deserializeReceiver(stored) : null, changed: false });
          }
          const held = receivers.get(slot);
          let receiver = held.state;
          if (!receiver || receiver.chainId !== parsed.message.chainId) {
            // first message of this sender, or a new chain: ask the server for its distribution
            const fetched = await fromServer(senderId);
            if (fetched && (!receiver || fetched.chainId === parsed.message.chainId)) receiver = fetched;
          }
          if (!receiver) throw new CryptoError("no_sender_key", "the sender's key is not on the server");
          const opened = senderKeys.decryptGroup(receiver, parsed.message);
          const text = bytes.utf8Decode(opened.plaintext);
          held.state = opened.state;
          held.changed = true;
          entries.push(this.cacheEntry(messageId, data, text, about));
          results.push({ ok: true, text });
        } catch (error) {
          results.push(failure(error));
        }
      }
      for (const [slot, held] of receivers) {
        if (held.changed) entries.push(["receiverKeys", slot, senderKeys.serializeReceiver(held.state)]);
      }
      if (entries.length) await this.store.putMany(entries);
      return results;
    });
  }

  async fetchReceiver(channelId, senderId) {
    const all = await this.server.senderKeys(channelId);
    const found = (all || []).find((item) => item && item.user_id === senderId);
    if (!found) return null;
    const distribution = senderKeys.parseDistribution(found.distribution);
    return senderKeys.receiverFromDistribution(distribution);
  }

  /** `sender_key_updated`: keep the new chain of that member (ours from another device too). */
  senderKeyUpdated({ channel_id: channelId, user_id: senderId, chain_id: chainId, distribution }) {
    return this.serial(`ch:${channelId}`, async () => {
      if (senderId === this.userId) {
        const own = await this.store.get("senderKeys", channelId);
        // another device of ours replaced our distribution: ours is no longer readable by new
        // members, so make a new one at the next send
        if (own && senderKeys.deserializeSender(own).chainId !== chainId) {
          await this.store.delete("senderKeys", channelId);
        }
      }
      try {
        const receiver = senderKeys.receiverFromDistribution(senderKeys.parseDistribution(distribution));
        const slot = `${channelId}:${senderId}`;
        const stored = await this.store.get("receiverKeys", slot);
        // a repeat of the chain we already follow must not rewind it
        if (stored && senderKeys.deserializeReceiver(stored).chainId === receiver.chainId) return;
        await this.store.put("receiverKeys", slot, senderKeys.serializeReceiver(receiver));
      } catch (error) {
        this.onEvent({ type: "bad_sender_key", channelId, userId: senderId, reason: failure(error).reason });
      }
    });
  }

  /** `sender_key_rotation_required` (or a member left): new keys for everyone's next message. */
  rotateChannel(channelId) {
    return this.serial(`ch:${channelId}`, async () => {
      await this.store.delete("senderKeys", channelId);
      await this.store.deletePrefix("receiverKeys", `${channelId}:`);
    });
  }

  // --- plaintext cache -------------------------------------------------------------------

  // `about` ({channel_id, sender_id, created_at, thread_id}) is kept with the text so that
  // search in encrypted conversations can run here, over what this browser has decrypted
  cacheEntry(messageId, data, text, about = null) {
    return ["plaintexts", `${messageId}:${digestOf(data)}`, about ? { text, about } : { text }];
  }

  async cached(messageId, data) {
    const digest = digestOf(data);
    let found = messageId ? await this.store.get("plaintexts", `${messageId}:${digest}`) : null;
    // something we sealed before its id existed (a scheduled message): known by its bytes alone
    if (!found) found = await this.store.get("plaintexts", `sent:${digest}`);
    return found ? { ok: true, text: found.text } : null;
  }

  /**
   * Messages this browser decrypted whose text contains every word of `query` (case and accents
   * ignored), newest first: search in encrypted conversations, which the server cannot do.
   * `filter(about)` narrows by conversation, sender or date. The newest version of an edited
   * message wins.
   */
  async searchPlaintexts(query, filter = () => true, limit = 50) {
    const words = fold(query).split(/\s+/).filter(Boolean);
    if (!words.length) return [];
    const newest = new Map(); // id -> its newest version: an edit hides the words it removed
    for (const [key, value] of await this.store.all("plaintexts")) {
      const about = value && value.about;
      if (!about || typeof value.text !== "string") continue;
      const id = String(key).slice(0, String(key).lastIndexOf(":"));
      const known = newest.get(id);
      if (!known || (about.edited_at || "") > (known.edited_at || "")) {
        newest.set(id, { ...about, id, text: value.text });
      }
    }
    const found = [...newest.values()].filter((row) => {
      const text = fold(row.text);
      return words.every((word) => text.includes(word)) && filter(row);
    });
    return found.sort((a, b) => (a.created_at < b.created_at ? 1 : -1)).slice(0, limit);
  }

  /**
   * A DM we sent: a ratchet cannot decrypt its own messages, so only what was kept at sending
   * shows; one sent from another device (or before this browser had the keys) cannot.
   */
  async ownDm(messageId, ciphertext) {
    const found = await this.cached(messageId, asBytes(ciphertext));
    return found || { ok: false, code: "sent_elsewhere", reason: "sent from another device" };
  }

  /** A deleted message: its kept text goes too (search must not find it). */
  forgetMessage(messageId) {
    return this.store.deletePrefix("plaintexts", `${messageId}:`);
  }

  /** Our own sent message (a ratchet cannot decrypt what it sent): kept once the id is known. */
  async remember(messageId, ciphertext, text, about = null) {
    const data = asBytes(ciphertext);
    if (messageId) await this.store.putMany([this.cacheEntry(messageId, data, text, about)]);
    else await this.store.putMany([["plaintexts", `sent:${digestOf(data)}`, { text }]]);
  }
}
