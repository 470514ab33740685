// Test-only harness (never shipped): re-derives every record of the original Chatalot crate's
// interoperability vectors (../shared/spec/e2e-vectors/vectors-full.jsonl) with the web client's
// crypto core, and runs the bad-input scenarios. The core is passed in as `C` (the namespace of
// src/chatalot/web/js/crypto/index.js), so the same file runs in the browser test and in Node.
//
// runCase(C, record, allRecords) -> { checked, failures: [text] }
// scenario(C, name, vectors) -> { code } (the CryptoError code, or "ok:<detail>" when no error)

let checks;
let failures;

function check(name, ok, detail = "") {
  checks += 1;
  if (!ok) failures.push(detail ? `${name}: ${detail}` : name);
}

function same(name, got, expected) {
  const g = typeof got === "string" ? got : JSON.stringify(got);
  const e = typeof expected === "string" ? expected : JSON.stringify(expected);
  check(name, g === e, `\n   got      ${g}\n   expected ${e}`);
}

function guard(name, fn) {
  try {
    return fn();
  } catch (error) {
    failures.push(`${name}: threw ${error && error.code ? error.code + " " : ""}${error}`);
    return undefined;
  }
}

function throws(name, fn, code, message) {
  try {
    fn();
    check(name, false, `no error, expected ${code}`);
  } catch (error) {
    check(`${name} (class)`, error instanceof CErr, String(error));
    same(`${name} (code)`, error.code, code);
    if (message !== undefined) same(`${name} (message)`, error.message, message);
  }
}

let CErr;
let B;

const hex = (h) => B.hexToBytes(h);
const toHex = (b) => B.bytesToHex(b);

// A random(n) source that hands out recorded values in order, then fails loudly.
function queue(...values) {
  const rest = values.map((v) => (typeof v === "string" ? hex(v) : v));
  return (n) => {
    const next = rest.shift();
    if (!next) throw new Error(`random(${n}) asked for more values than recorded`);
    if (next.length !== n)
      throw new Error(`random(${n}) but the recorded value has ${next.length}`);
    return next;
  };
}

const privateOf = (stateJson) => Uint8Array.from(JSON.parse(stateJson).dh_sending_private);

function headerHex(header) {
  return {
    message_number: header.messageNumber,
    previous_chain_length: header.previousChainLength,
    ratchet_key: toHex(header.ratchetKey),
  };
}

function checkX3dh(C, name, v) {
  const P = C.primitives;
  for (const who of ["alice", "bob"]) {
    const seed = hex(v[`${who}_identity_seed`]);
    same(`${name} ${who} public`, toHex(P.ed25519PublicKey(seed)), v[`${who}_identity_public`]);
    same(
      `${name} ${who} x25519 raw`,
      toHex(P.identitySeedToX25519Raw(seed)),
      v[`${who}_identity_x25519_private_raw`],
    );
    same(
      `${name} ${who} x25519 clamped`,
      toHex(P.identitySeedToX25519(seed)),
      v[`${who}_identity_x25519_private_clamped`],
    );
    const pub = v[`${who}_identity_x25519_public`];
    same(
      `${name} ${who} montgomery`,
      toHex(P.identityPublicToX25519(hex(v[`${who}_identity_public`]))),
      pub,
    );
    same(
      `${name} ${who} x25519 pub of clamped`,
      toHex(P.x25519PublicKey(hex(v[`${who}_identity_x25519_private_clamped`]))),
      pub,
    );
    same(
      `${name} ${who} x25519 pub of raw`,
      toHex(P.x25519PublicKey(hex(v[`${who}_identity_x25519_private_raw`]))),
      pub,
    );
  }
  same(
    `${name} spk public`,
    toHex(P.x25519PublicKey(hex(v.bob_signed_prekey_private))),
    v.bob_signed_prekey_public,
  );
  check(
    `${name} spk signature verifies`,
    P.verify(
      hex(v.bob_identity_public),
      hex(v.bob_signed_prekey_public),
      hex(v.bob_signed_prekey_signature),
    ),
  );
  same(
    `${name} spk signature re-made`,
    toHex(C.x3dh.signPrekey(hex(v.bob_identity_seed), hex(v.bob_signed_prekey_public))),
    v.bob_signed_prekey_signature,
  );
  const hasOpk = v.bob_one_time_prekey_private !== null;
  if (!hasOpk) {
    same(
      `${name} no opk recorded`,
      [v.bob_one_time_prekey_id, v.bob_one_time_prekey_public, v.dh4],
      [null, null, null],
    );
  } else {
    same(
      `${name} opk public`,
      toHex(P.x25519PublicKey(hex(v.bob_one_time_prekey_private))),
      v.bob_one_time_prekey_public,
    );
  }
  const bundle = C.x3dh.parseBundle(v.bundle_json);
  same(`${name} bundle identity`, toHex(bundle.identityKey), v.bob_identity_public);
  same(
    `${name} bundle spk`,
    [
      bundle.signedPrekey.keyId,
      toHex(bundle.signedPrekey.publicKey),
      toHex(bundle.signedPrekey.signature),
    ],
    [v.bob_signed_prekey_id, v.bob_signed_prekey_public, v.bob_signed_prekey_signature],
  );
  same(
    `${name} bundle opk`,
    bundle.oneTimePrekey && [bundle.oneTimePrekey.keyId, toHex(bundle.oneTimePrekey.publicKey)],
    hasOpk ? [v.bob_one_time_prekey_id, v.bob_one_time_prekey_public] : null,
  );
  // Bob's side, from the recorded ephemeral key, through the wire-header lookup.
  const lookup = {
    signedPrekey: (id) => (id === v.bob_signed_prekey_id ? hex(v.bob_signed_prekey_private) : null),
    oneTimePrekey: (id) =>
      hasOpk && id === v.bob_one_time_prekey_id ? hex(v.bob_one_time_prekey_private) : null,
  };
  const header = {
    identityKey: hex(v.alice_identity_public),
    ephemeralKey: hex(v.alice_ephemeral_public),
    signedPrekeyId: v.bob_signed_prekey_id,
    oneTimePrekeyId: hasOpk ? v.bob_one_time_prekey_id : null,
  };
  const bob = C.x3dh.respondToHeader(hex(v.bob_identity_seed), header, lookup);
  same(
    `${name} dh values`,
    bob.dh.map(toHex),
    [v.dh1, v.dh2, v.dh3, v.dh4].filter((x) => x !== null),
  );
  same(`${name} ikm`, toHex(bob.ikm), v.ikm);
  same(`${name} shared secret (responder)`, toHex(bob.sharedSecret), v.shared_secret_responder);
  same(`${name} shared secret`, toHex(bob.sharedSecret), v.shared_secret);
  same(
    `${name} associated data (responder)`,
    toHex(bob.associatedData),
    v.associated_data_responder,
  );
  // Alice's side with a fresh ephemeral key: dh1 is fixed, and Bob derives the same secret.
  const alice = C.x3dh.initiate(hex(v.alice_identity_seed), bundle);
  same(`${name} initiator dh1`, toHex(alice.dh[0]), v.dh1);
  same(`${name} initiator dh count`, alice.dh.length, hasOpk ? 4 : 3);
  same(`${name} associated data`, toHex(alice.associatedData), v.associated_data);
  same(
    `${name} x3dh header ids`,
    [alice.header.signedPrekeyId, alice.header.oneTimePrekeyId],
    [v.bob_signed_prekey_id, hasOpk ? v.bob_one_time_prekey_id : null],
  );
  const again = C.x3dh.respondToHeader(hex(v.bob_identity_seed), alice.header, lookup);
  same(
    `${name} fresh initiate agrees with respond`,
    toHex(again.sharedSecret),
    toHex(alice.sharedSecret),
  );
  return { secret: hex(v.shared_secret), bob };
}

function sessionsAfterX3dh(C, c) {
  const R = C.ratchet;
  const { secret } = checkX3dh(C, "x3dh", c.x3dh);
  const alice = R.initInitiator(secret, hex(c.x3dh.bob_signed_prekey_public), {
    random: queue(privateOf(c.alice_state_initial.json)),
  });
  same("alice initial state", R.toCrateJson(alice), c.alice_state_initial.json);
  const bob = R.initResponder(secret, hex(c.x3dh.bob_signed_prekey_private));
  same("bob initial state", R.toCrateJson(bob), c.bob_state_initial.json);
  return { alice, bob };
}

function sendRecorded(C, state, m, prefix) {
  const R = C.ratchet;
  const { state: after, message } = R.encrypt(state, B.utf8Encode(m.plaintext), {
    random: queue(m.nonce),
  });
  same(`${prefix} plaintext_hex`, toHex(B.utf8Encode(m.plaintext)), m.plaintext_hex);
  same(`${prefix} header`, headerHex(message.header), m.header);
  same(`${prefix} header_aad`, B.utf8Decode(R.headerAad(message.header)), m.header_aad);
  same(`${prefix} ciphertext`, toHex(message.ciphertext), m.ciphertext);
  same(
    `${prefix} encrypted_message_json`,
    C.wire.encryptedMessageJson(message),
    m.encrypted_message_json,
  );
  return { after, message };
}

function recordedMessage(m) {
  return {
    header: {
      ratchetKey: hex(m.header.ratchet_key),
      previousChainLength: m.header.previous_chain_length,
      messageNumber: m.header.message_number,
    },
    ciphertext: hex(m.ciphertext),
    nonce: hex(m.nonce),
  };
}

function roundTrip(C, state) {
  return C.ratchet.deserialize(C.ratchet.serialize(state));
}

function ratchetConversation(C, c) {
  const R = C.ratchet;
  const states = sessionsAfterX3dh(C, c);
  throws(
    "bob sends before receiving",
    () => R.encrypt(states.bob, B.utf8Encode("x")),
    "no_sending_chain",
  );
  same("the crate's error for it", c.bob_encrypt_before_receiving_error, "HKDF derivation failed");
  for (const m of c.messages) {
    const p = `step ${m.step} ${m.from}->${m.to}`;
    same(`${p} sender before`, R.toCrateJson(states[m.from]), m.sender_state_before.json);
    const { after, message } = sendRecorded(C, states[m.from], m, p);
    same(`${p} sender after`, R.toCrateJson(after), m.sender_state_after.json);
    states[m.from] = roundTrip(C, after);
    same(`${p} receiver before`, R.toCrateJson(states[m.to]), m.receiver_state_before.json);
    const options = { random: queue(privateOf(m.receiver_state_after.json)) };
    const got = R.decrypt(states[m.to], message, options);
    same(`${p} decrypted`, B.utf8Decode(got.plaintext), m.decrypted_plaintext);
    same(`${p} plaintext`, B.utf8Decode(got.plaintext), m.plaintext);
    same(`${p} receiver after`, R.toCrateJson(got.state), m.receiver_state_after.json);
    states[m.to] = roundTrip(C, got.state);
    // the same step from the recorded states alone
    const fresh = R.decrypt(R.fromCrateJson(m.receiver_state_before.json), recordedMessage(m), {
      random: queue(privateOf(m.receiver_state_after.json)),
    });
    same(
      `${p} receiver after (from recorded state)`,
      R.toCrateJson(fresh.state),
      m.receiver_state_after.json,
    );
  }
}

function ratchetOutOfOrder(C, c) {
  const R = C.ratchet;
  let { alice, bob } = sessionsAfterX3dh(C, c);
  const sent = [];
  for (const m of c.messages) {
    const p = `message ${m.header.message_number}`;
    same(`${p} sender before`, R.toCrateJson(alice), m.sender_state_before.json);
    const { after, message } = sendRecorded(C, alice, m, p);
    same(`${p} sender after`, R.toCrateJson(after), m.sender_state_after.json);
    alice = after;
    sent[m.header.message_number] = message;
  }
  same("delivery order", c.delivery_order, [1, 0, 2, 3]);
  // the key the crate drew on its DH step, in memory
  const drawn = c.in_memory_results.find((r) => r.state_after.ok).state_after.json;
  // (1) in memory, as the crate: all four decrypt; the crate state JSON matches where it exists
  let memory = bob;
  let random = queue(privateOf(drawn));
  c.delivery_order.forEach((n, i) => {
    const expected = c.in_memory_results[i];
    same(`in memory delivery ${i} message number`, expected.message_number, n);
    const got = guard(`in memory delivery ${i} (n=${n})`, () =>
      R.decrypt(memory, sent[n], { random }),
    );
    if (!got) return;
    memory = got.state;
    same(`in memory n=${n} plaintext`, B.utf8Decode(got.plaintext), expected.plaintext);
    if (expected.state_after.ok) {
      same(`in memory n=${n} state`, R.toCrateJson(memory), expected.state_after.json);
    } else {
      throws(
        `in memory n=${n} state not in crate JSON`,
        () => R.toCrateJson(memory),
        "not_serializable",
        expected.state_after.error,
      );
    }
  });
  // (2) the fix: persisted through serialize/deserialize between deliveries, all four decrypt
  let stored = R.serialize(bob);
  random = queue(privateOf(drawn));
  c.delivery_order.forEach((n, i) => {
    const got = guard(`persisted delivery ${i} (n=${n})`, () =>
      R.decrypt(R.deserialize(stored), sent[n], { random }),
    );
    if (!got) return;
    same(`persisted n=${n} plaintext`, B.utf8Decode(got.plaintext), c.messages[n].plaintext);
    same(`persisted n=${n} skipped keys`, R.skippedCount(got.state), i === 0 ? 1 : 0);
    stored = R.serialize(got.state);
    if (c.in_memory_results[i].state_after.ok) {
      same(
        `persisted n=${n} state`,
        R.toCrateJson(R.deserialize(stored)),
        c.in_memory_results[i].state_after.json,
      );
    }
  });
  // (3) what the original web client did: all but message 0 failed; we decrypt them.
  let previous = c.bob_state_initial.json;
  c.web_client_emulation_results.forEach((r, i) => {
    same(`original client delivery ${i} message number`, r.message_number, c.delivery_order[i]);
    if (!r.result_ok) {
      // the original kept its old session and showed the wire text
      same(
        `original client n=${r.message_number} kept the old session`,
        r.stored_session_after,
        previous,
      );
      same(`original client n=${r.message_number} no plaintext`, r.plaintext, null);
      check(
        `original client n=${r.message_number} failed as recorded`,
        r.error.includes("key must be a string"),
        r.error,
      );
      // ours: the same delivery from the same stored session works
      const ours = guard(`ours n=${r.message_number}`, () =>
        R.decrypt(R.fromCrateJson(previous), sent[r.message_number], {}),
      );
      if (ours)
        same(
          `ours n=${r.message_number} plaintext`,
          B.utf8Decode(ours.plaintext),
          c.messages[r.message_number].plaintext,
        );
    }
    previous = r.stored_session_after;
  });
  for (const r of c.web_client_emulation_results) {
    if (r.result_ok) {
      // message 0 arrived first from the stored (initial) session: same state as the original
      const got = R.decrypt(bob, sent[r.message_number], {
        random: queue(privateOf(r.stored_session_after)),
      });
      same(
        `original client n=${r.message_number} plaintext`,
        B.utf8Decode(got.plaintext),
        r.plaintext,
      );
      same(
        `original client n=${r.message_number} stored`,
        R.toCrateJson(got.state),
        r.stored_session_after,
      );
    }
  }
  // an old chain's key is found after a newer chain has started (DH step with skipped keys)
  const reply = R.encrypt(memory, B.utf8Encode("reply"), {}).message;
  const aliceGot = R.decrypt(alice, reply, {});
  const late = R.encrypt(aliceGot.state, B.utf8Encode("new chain"), {});
  check(
    "new chain decrypts",
    B.utf8Decode(R.decrypt(memory, late.message, {}).plaintext) === "new chain",
  );
}

function senderStateOf(json) {
  const v = JSON.parse(json);
  return {
    chainId: v.chain_id,
    chainKey: Uint8Array.from(v.chain_key),
    iteration: v.iteration,
    senderId: Uint8Array.from(v.sender_id),
  };
}

function sameReceiver(C, name, receiver, expectedJson) {
  const got = C.senderKeys.receiverStateJson(receiver);
  if (Object.keys(JSON.parse(expectedJson).cached_keys).length === 0) {
    same(name, got, expectedJson);
    return;
  }
  // cached_keys order is hash-map order in the crate: compare it as a map, the rest as text
  const sortCached = (text) => {
    const v = JSON.parse(text);
    const keys = Object.keys(v.cached_keys).sort((a, b) => a - b);
    v.cached_keys = Object.fromEntries(keys.map((k) => [k, v.cached_keys[k]]));
    return JSON.stringify(v);
  };
  same(name, sortCached(got), sortCached(expectedJson));
  same(
    `${name} (text without cached keys)`,
    got.replace(/"cached_keys":\{.*\}\}$/, ""),
    expectedJson.replace(/"cached_keys":\{.*\}\}$/, ""),
  );
}

const GROUP_ERRORS = {
  "decryption failed": "replayed",
  "unknown sender key chain": "unknown_chain",
};

function senderKeys(C, c) {
  const S = C.senderKeys;
  const senderId = B.utf8Encode(c.sender_id_utf8);
  same("sender id", toHex(senderId), c.sender_id_hex);
  let sender = S.generateSenderKey(senderId, {
    random: queue(c.chain_key_initial, B.u32be(c.chain_id)),
  });
  same("sender initial", S.senderStateJson(sender), c.sender_state_initial);
  same("distribution", S.distributionJson(S.distributionOf(sender)), c.distribution_json);
  const distribution = S.parseDistribution(c.distribution_json);
  same("distribution parsed", S.distributionJson(distribution), c.distribution_json);
  const sent = [];
  for (const m of c.messages) {
    const p = `iteration ${m.iteration}`;
    same(`${p} sender before`, S.senderStateJson(sender), m.sender_state_before);
    const { state, message } = S.encryptGroup(sender, B.utf8Encode(m.plaintext), {
      random: queue(m.nonce),
    });
    same(`${p} chain id`, message.chainId, m.chain_id);
    same(`${p} plaintext_hex`, toHex(B.utf8Encode(m.plaintext)), m.plaintext_hex);
    same(`${p} aad`, toHex(S.groupAad(message.chainId, message.iteration)), m.aad);
    same(`${p} ciphertext`, toHex(message.ciphertext), m.ciphertext);
    same(`${p} message_json`, C.wire.senderKeyMessageJson(message), m.message_json);
    same(`${p} sender after`, S.senderStateJson(state), m.sender_state_after);
    sender = S.deserializeSender(S.serializeSender(state));
    sent[m.iteration] = message;
  }
  let receiver = S.receiverFromDistribution(distribution);
  same("receiver initial", S.receiverStateJson(receiver), c.receiver_in_order_initial.json);
  for (const r of c.receiver_in_order) {
    const got = S.decryptGroup(receiver, sent[r.iteration]);
    same(`in order ${r.iteration} plaintext`, B.utf8Decode(got.plaintext), r.plaintext);
    sameReceiver(C, `in order ${r.iteration} state`, got.state, r.state_after.json);
    receiver = S.deserializeReceiver(S.serializeReceiver(got.state));
  }
  receiver = S.receiverFromDistribution(distribution);
  for (const r of c.receiver_skipping) {
    const message = { ...sent[r.iteration], chainId: r.chain_id };
    if (r.decrypt_ok) {
      const got = guard(r.label, () => S.decryptGroup(receiver, message));
      if (!got) continue;
      same(`${r.label}: plaintext`, B.utf8Decode(got.plaintext), r.plaintext);
      receiver = S.deserializeReceiver(S.serializeReceiver(got.state));
    } else {
      throws(r.label, () => S.decryptGroup(receiver, message), GROUP_ERRORS[r.error]);
    }
    sameReceiver(C, `${r.label}: state`, receiver, r.state_after.json);
  }
  const tampered = JSON.parse(c.tampered_message_json);
  const fresh = S.receiverFromDistribution(distribution);
  const before = S.serializeReceiver(fresh);
  throws(
    "tampered message",
    () =>
      S.decryptGroup(fresh, {
        chainId: tampered.chain_id,
        iteration: tampered.iteration,
        ciphertext: Uint8Array.from(tampered.ciphertext),
        nonce: Uint8Array.from(tampered.nonce),
      }),
    "decrypt_failed",
  );
  same("tampered message error text", c.tampered_ciphertext_error, "decryption failed");
  same("tampered message leaves state", S.serializeReceiver(fresh), before);
}

function fingerprints(C, c) {
  const F = C.fingerprints;
  for (const [i, k] of c.keys.entries()) {
    same(`key ${i} public`, toHex(C.primitives.ed25519PublicKey(hex(k.seed))), k.public);
    same(`key ${i} fingerprint`, F.fingerprint(hex(k.public)), k.fingerprint);
    same(`key ${i} display`, F.fingerprintDisplay(hex(k.public)), k.fingerprint_display);
  }
  for (const s of c.safety_numbers) {
    const a = hex(c.keys[s.a].public);
    const b = hex(c.keys[s.b].public);
    same(`safety ${s.a},${s.b}`, F.safetyNumber(a, b), s.safety_number_ab);
    same(`safety ${s.b},${s.a}`, F.safetyNumber(b, a), s.safety_number_ba);
  }
}

function checkDmWire(C, c, message, x3dhBlock) {
  const W = C.wire;
  const text = W.encodeDmWire(message, x3dhBlock);
  same("wire_json", text, c.wire_json);
  const field = W.wireBytes(text);
  same("ciphertext_field_hex", toHex(field), c.ciphertext_field_hex);
  same("ciphertext_field_len", field.length, c.ciphertext_field_len);
  same("nonce_field", toHex(message.nonce), c.nonce_field);
  same(
    "ws_frame",
    W.sendMessageFrame({ channelId: c.setup.channel_id, wire: field, nonce: message.nonce }),
    c.ws_frame,
  );
  const parsed = W.parseWire(Array.from(hex(c.ciphertext_field_hex)));
  same("parsed wire kind", parsed.kind, "dm");
  same("parsed wire re-encoded", W.encodeDmWire(parsed.message, parsed.x3dh), c.wire_json);
  return parsed;
}

function webDm(C, c, all) {
  const R = C.ratchet;
  const v = c.setup.x3dh;
  const { secret } = checkX3dh(C, "setup x3dh", v);
  const afterInitiate = R.initInitiator(secret, hex(v.bob_signed_prekey_public), {
    random: queue(privateOf(c.setup.alice_session_after_x3dh_initiate)),
  });
  same(
    "alice session after x3dh_initiate",
    R.toCrateJson(afterInitiate),
    c.setup.alice_session_after_x3dh_initiate,
  );
  const line = (name) => all.find((x) => x.case === name);
  let senderBefore;
  let receiverBefore = null;
  if (c.case === "web_dm_first_message") {
    senderBefore = afterInitiate;
  } else if (c.case === "web_dm_followup") {
    const first = line("web_dm_first_message");
    senderBefore = R.fromCrateJson(first.sender_session_after);
    receiverBefore = R.fromCrateJson(first.receiver.receiver_session_after);
  } else {
    senderBefore = R.fromCrateJson(c.sender_session_before);
    receiverBefore = R.fromCrateJson(line("web_dm_followup").sender_session_after);
    same(
      "reply sender before = bob after follow-up",
      c.sender_session_before,
      line("web_dm_followup").receiver.receiver_session_after,
    );
  }
  const { after, message } = sendRecorded(C, senderBefore, c, c.case);
  same("sender_session_after", R.toCrateJson(after), c.sender_session_after);
  const block =
    c.case === "web_dm_first_message"
      ? {
          identityKey: hex(v.alice_identity_public),
          ephemeralKey: hex(v.alice_ephemeral_public),
          signedPrekeyId: v.bob_signed_prekey_id,
          oneTimePrekeyId: v.bob_one_time_prekey_id,
        }
      : null;
  const parsed = checkDmWire(C, c, message, block);
  // the receiver, from the bytes of the ciphertext field
  let receiver = receiverBefore;
  if (c.receiver)
    same("receiver ran x3dh", parsed.x3dh !== null, c.receiver.receiver_ran_x3dh_respond);
  if (parsed.x3dh) {
    const lookup = {
      signedPrekey: (id) =>
        id === v.bob_signed_prekey_id ? hex(v.bob_signed_prekey_private) : null,
      oneTimePrekey: (id) =>
        id === v.bob_one_time_prekey_id ? hex(v.bob_one_time_prekey_private) : null,
    };
    const bob = C.x3dh.respondToHeader(hex(v.bob_identity_seed), parsed.x3dh, lookup);
    receiver = R.initResponder(
      bob.sharedSecret,
      bob.signedPrekey.privateKey,
      bob.signedPrekey.publicKey,
    );
  }
  if (c.receiver) {
    same(
      "receiver_encrypted_message_json",
      C.wire.encryptedMessageJson(parsed.message),
      c.receiver.receiver_encrypted_message_json,
    );
  }
  const random = c.receiver ? queue(privateOf(c.receiver.receiver_session_after)) : undefined;
  const got = R.decrypt(receiver, parsed.message, { random });
  same("receiver_decrypted", B.utf8Decode(got.plaintext), c.receiver_decrypted);
  if (c.receiver)
    same("receiver_session_after", R.toCrateJson(got.state), c.receiver.receiver_session_after);
}

function webGroup(C, c) {
  const S = C.senderKeys;
  const W = C.wire;
  const senderId = B.utf8Encode(c.sender_user_id);
  const distribution = S.parseDistribution(c.distribution_json);
  same("sender_id", toHex(distribution.senderId), toHex(senderId));
  const initial = S.generateSenderKey(senderId, {
    random: queue(distribution.chainKey, B.u32be(distribution.chainId)),
  });
  same("sender_state_initial", S.senderStateJson(initial), c.sender_state_initial);
  same("distribution_json", S.distributionJson(S.distributionOf(initial)), c.distribution_json);
  same("upload_body_json", W.senderKeyUploadJson(S.distributionOf(initial)), c.upload_body_json);
  const before = senderStateOf(c.sender_state_before);
  same("sender_state_before", S.senderStateJson(before), c.sender_state_before);
  const { state, message } = S.encryptGroup(before, B.utf8Encode(c.plaintext), {
    random: queue(c.nonce),
  });
  same("plaintext_hex", toHex(B.utf8Encode(c.plaintext)), c.plaintext_hex);
  same("chain_id/iteration", [message.chainId, message.iteration], [c.chain_id, c.iteration]);
  same("aad", toHex(S.groupAad(message.chainId, message.iteration)), c.aad);
  same("ciphertext", toHex(message.ciphertext), c.ciphertext);
  same("message_json", W.senderKeyMessageJson(message), c.message_json);
  same("sender_state_after", S.senderStateJson(state), c.sender_state_after);
  const text = W.encodeGroupWire(message);
  same("wire_json", text, c.wire_json);
  const field = W.wireBytes(text);
  same("ciphertext_field_hex", toHex(field), c.ciphertext_field_hex);
  same("ciphertext_field_len", field.length, c.ciphertext_field_len);
  same("nonce_field", toHex(message.nonce), c.nonce_field);
  same(
    "ws_frame",
    W.sendMessageFrame({ channelId: c.channel_id, wire: field, nonce: message.nonce }),
    c.ws_frame,
  );
  const parsed = W.parseWire(field);
  same("parsed kind", parsed.kind, "group");
  const got = S.decryptGroup(S.receiverFromDistribution(distribution), parsed.message);
  same("receiver_decrypted", B.utf8Decode(got.plaintext), c.receiver_decrypted);
}

export function runCase(C, record, all) {
  checks = 0;
  failures = [];
  CErr = C.CryptoError;
  B = C.bytes;
  const run = {
    x3dh_with_opk: () => checkX3dh(C, record.case, record),
    x3dh_without_opk: () => checkX3dh(C, record.case, record),
    x3dh_bad_signature: () => {
      const bundle = {
        identityKey: hex(record.bob_identity_public),
        signedPrekey: {
          keyId: 1,
          publicKey: hex(record.bob_signed_prekey_public),
          signature: hex(record.bob_signed_prekey_signature),
        },
        oneTimePrekey: null,
      };
      check(
        "verify is false",
        !C.primitives.verify(
          bundle.identityKey,
          bundle.signedPrekey.publicKey,
          bundle.signedPrekey.signature,
        ),
      );
      throws(
        "initiate",
        () => C.x3dh.initiate(hex(record.alice_identity_seed), bundle),
        "bad_signature",
        record.expected_error,
      );
    },
    ratchet_conversation: () => ratchetConversation(C, record),
    ratchet_out_of_order: () => ratchetOutOfOrder(C, record),
    sender_keys: () => senderKeys(C, record),
    fingerprints: () => fingerprints(C, record),
    web_dm_first_message: () => webDm(C, record, all),
    web_dm_followup: () => webDm(C, record, all),
    web_dm_reply: () => webDm(C, record, all),
    web_group_message: () => webGroup(C, record),
  }[record.case];
  if (!run) failures.push(`no check for case ${record.case}`);
  else guard(record.case, run);
  return { checked: checks, failures };
}

// --- bad input: each scenario must end in a CryptoError with a clear code, never plaintext ---

function dmSetup(C, all) {
  const c = all.find((x) => x.case === "web_dm_first_message");
  const v = c.setup.x3dh;
  const lookup = {
    signedPrekey: (id) => (id === v.bob_signed_prekey_id ? hex(v.bob_signed_prekey_private) : null),
    oneTimePrekey: (id) =>
      id === v.bob_one_time_prekey_id ? hex(v.bob_one_time_prekey_private) : null,
  };
  return { c, v, lookup, wire: JSON.parse(c.wire_json) };
}

// A live pair of sessions (fresh keys): alice can send, bob can receive.
function livePair(C) {
  const P = C.primitives;
  const aliceId = P.generateIdentityKey();
  const bobId = P.generateIdentityKey();
  const spk = P.generateX25519KeyPair();
  const bundle = {
    identityKey: bobId.publicKey,
    signedPrekey: {
      keyId: 7,
      publicKey: spk.publicKey,
      signature: C.x3dh.signPrekey(bobId.seed, spk.publicKey),
    },
    oneTimePrekey: null,
  };
  const started = C.x3dh.initiate(aliceId.seed, bundle);
  const answered = C.x3dh.respondToHeader(bobId.seed, started.header, {
    signedPrekey: (id) => (id === 7 ? spk.privateKey : null),
    oneTimePrekey: () => null,
  });
  return {
    alice: C.ratchet.initInitiator(started.sharedSecret, started.remoteSignedPrekey),
    bob: C.ratchet.initResponder(answered.sharedSecret, spk.privateKey, spk.publicKey),
    bundle,
    aliceId,
  };
}

function sendMany(C, state, count) {
  const out = [];
  let s = state;
  for (let i = 0; i < count; i++) {
    const r = C.ratchet.encrypt(s, B.utf8Encode(`m${i}`));
    out.push(r.message);
    s = r.state;
  }
  return { state: s, messages: out };
}

function unchangedAfter(C, state, fn) {
  const before = C.ratchet.serialize(state);
  try {
    return fn();
  } finally {
    if (C.ratchet.serialize(state) !== before) throw new Error("the session changed");
  }
}

function groupPair(C, skipTo) {
  const S = C.senderKeys;
  const sender = S.generateSenderKey(B.utf8Encode("user"));
  const receiver = S.receiverFromDistribution(
    S.parseDistribution(S.distributionJson(S.distributionOf(sender))),
  );
  let s = sender;
  let message;
  for (let i = 0; i <= skipTo; i++)
    ({ state: s, message } = S.encryptGroup(s, B.utf8Encode(`g${i}`)));
  return { receiver, message };
}

const SCENARIOS = {
  wire_truncated: (C, all) => C.wire.parseWire(dmSetup(C, all).c.wire_json.slice(0, -7)),
  wire_truncated_bytes: (C, all) =>
    C.wire.parseWire(hex(dmSetup(C, all).c.ciphertext_field_hex).slice(0, 100)),
  wire_empty: (C) => C.wire.parseWire(new Uint8Array(0)),
  wire_not_utf8: (C) => C.wire.parseWire(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])),
  wire_plain_text: (C) => C.wire.parseWire(B.utf8Encode("hello, not encrypted")),
  wire_json_array: (C) => C.wire.parseWire("[1,2,3]"),
  wire_version_2: (C, all) => C.wire.parseWire(JSON.stringify({ ...dmSetup(C, all).wire, v: 2 })),
  wire_counter_as_string: (C, all) => {
    const w = dmSetup(C, all).wire;
    return C.wire.parseWire(JSON.stringify({ ...w, header: { ...w.header, message_number: "0" } }));
  },
  wire_negative_counter: (C, all) => {
    const w = dmSetup(C, all).wire;
    return C.wire.parseWire(
      JSON.stringify({ ...w, header: { ...w.header, previous_chain_length: -1 } }),
    );
  },
  wire_key_as_hex_string: (C, all) => {
    const w = dmSetup(C, all).wire;
    return C.wire.parseWire(
      JSON.stringify({ ...w, header: { ...w.header, ratchet_key: "00".repeat(32) } }),
    );
  },
  wire_ratchet_key_31_bytes: (C, all) => {
    const w = dmSetup(C, all).wire;
    return C.wire.parseWire(
      JSON.stringify({ ...w, header: { ...w.header, ratchet_key: w.header.ratchet_key.slice(1) } }),
    );
  },
  wire_byte_out_of_range: (C, all) => {
    const w = dmSetup(C, all).wire;
    return C.wire.parseWire(JSON.stringify({ ...w, ciphertext: [...w.ciphertext.slice(1), 256] }));
  },
  wire_fractional_byte: (C, all) => {
    const w = dmSetup(C, all).wire;
    return C.wire.parseWire(JSON.stringify({ ...w, ciphertext: [1.5, ...w.ciphertext] }));
  },
  wire_nonce_11_bytes: (C, all) => {
    const w = dmSetup(C, all).wire;
    return C.wire.parseWire(JSON.stringify({ ...w, nonce: w.nonce.slice(1) }));
  },
  wire_ciphertext_shorter_than_tag: (C, all) => {
    const w = dmSetup(C, all).wire;
    return C.wire.parseWire(JSON.stringify({ ...w, ciphertext: w.ciphertext.slice(0, 15) }));
  },
  wire_x3dh_missing_ephemeral: (C, all) => {
    const w = dmSetup(C, all).wire;
    return C.wire.parseWire(
      JSON.stringify({ ...w, x3dh: { ...w.x3dh, ephemeral_key: undefined } }),
    );
  },
  wire_group_chain_id_too_big: (C, all) => {
    const w = JSON.parse(all.find((x) => x.case === "web_group_message").wire_json);
    return C.wire.parseWire(JSON.stringify({ ...w, message: { ...w.message, chain_id: 2 ** 32 } }));
  },
  wire_group_nonce_11_bytes: (C, all) => {
    const w = JSON.parse(all.find((x) => x.case === "web_group_message").wire_json);
    return C.wire.parseWire(
      JSON.stringify({ ...w, message: { ...w.message, nonce: w.message.nonce.slice(1) } }),
    );
  },
  decrypt_nonce_11_bytes: (C) => {
    const { alice, bob } = livePair(C);
    const { message } = C.ratchet.encrypt(alice, B.utf8Encode("x"));
    return unchangedAfter(C, bob, () =>
      C.ratchet.decrypt(bob, { ...message, nonce: message.nonce.slice(1) }),
    );
  },
  decrypt_text_instead_of_bytes: (C) => {
    const { alice } = livePair(C);
    return C.ratchet.encrypt(alice, "plain string");
  },
  unknown_signed_prekey: (C, all) => {
    const { v, lookup, wire } = dmSetup(C, all);
    const header = C.wire.parseWire(
      JSON.stringify({ ...wire, x3dh: { ...wire.x3dh, signed_prekey_id: 99 } }),
    ).x3dh;
    return C.x3dh.respondToHeader(hex(v.bob_identity_seed), header, lookup);
  },
  unknown_one_time_prekey: (C, all) => {
    const { v, lookup, wire } = dmSetup(C, all);
    const header = C.wire.parseWire(
      JSON.stringify({ ...wire, x3dh: { ...wire.x3dh, one_time_prekey_id: 18 } }),
    ).x3dh;
    return C.x3dh.respondToHeader(hex(v.bob_identity_seed), header, lookup);
  },
  low_order_ephemeral_key: (C, all) => {
    const { v, lookup, wire } = dmSetup(C, all);
    const header = C.wire.parseWire(
      JSON.stringify({ ...wire, x3dh: { ...wire.x3dh, ephemeral_key: new Array(32).fill(0) } }),
    ).x3dh;
    return C.x3dh.respondToHeader(hex(v.bob_identity_seed), header, lookup);
  },
  bad_spk_signature: (C) => {
    const { bundle, aliceId } = livePair(C);
    const signature = bundle.signedPrekey.signature.slice();
    signature[10] ^= 1;
    return C.x3dh.initiate(aliceId.seed, {
      ...bundle,
      signedPrekey: { ...bundle.signedPrekey, signature },
    });
  },
  bundle_short_identity_key: (C, all) => {
    const bundle = JSON.parse(all.find((x) => x.case === "x3dh_with_opk").bundle_json);
    return C.x3dh.parseBundle({ ...bundle, identity_key: bundle.identity_key.slice(1) });
  },
  bundle_not_json: (C) => C.x3dh.parseBundle("{not json"),
  send_before_receiving: (C) => C.ratchet.encrypt(livePair(C).bob, B.utf8Encode("x")),
  ratchet_tampered_ciphertext: (C) => {
    const { alice, bob } = livePair(C);
    const { message } = C.ratchet.encrypt(alice, B.utf8Encode("secret"));
    const ciphertext = message.ciphertext.slice();
    ciphertext[0] ^= 1;
    return unchangedAfter(C, bob, () => C.ratchet.decrypt(bob, { ...message, ciphertext }));
  },
  ratchet_tampered_header: (C) => {
    const { alice, bob } = livePair(C);
    const sent = sendMany(C, alice, 2).messages;
    const forged = { ...sent[0], header: { ...sent[0].header, messageNumber: 1 } };
    return unchangedAfter(C, bob, () => C.ratchet.decrypt(bob, forged));
  },
  ratchet_wrong_tag: (C) => {
    const { alice, bob } = livePair(C);
    const { message } = C.ratchet.encrypt(alice, B.utf8Encode("secret"));
    const ciphertext = message.ciphertext.slice();
    ciphertext[ciphertext.length - 1] ^= 0x80;
    return unchangedAfter(C, bob, () => C.ratchet.decrypt(bob, { ...message, ciphertext }));
  },
  ratchet_replayed: (C) => {
    const { alice, bob } = livePair(C);
    const { message } = C.ratchet.encrypt(alice, B.utf8Encode("once"));
    const { state } = C.ratchet.decrypt(bob, message);
    return unchangedAfter(C, state, () => C.ratchet.decrypt(state, message));
  },
  ratchet_skip_1000_is_allowed: (C) => {
    const { alice, bob } = livePair(C);
    const sent = sendMany(C, alice, 1001).messages;
    const got = C.ratchet.decrypt(bob, sent[1000]);
    const early = C.ratchet.decrypt(C.ratchet.deserialize(C.ratchet.serialize(got.state)), sent[3]);
    const skipped = C.ratchet.skippedCount(early.state);
    return `${B.utf8Decode(got.plaintext)} ${B.utf8Decode(early.plaintext)} ${skipped}`;
  },
  ratchet_skip_1001_is_refused: (C) => {
    const { alice, bob } = livePair(C);
    const sent = sendMany(C, alice, 1002).messages;
    return unchangedAfter(C, bob, () => C.ratchet.decrypt(bob, sent[1001]));
  },
  ratchet_stored_skipped_keys_capped: (C) => {
    const R = C.ratchet;
    const { alice, bob } = livePair(C);
    const sent = sendMany(C, alice, 2501).messages;
    let state = bob;
    for (const n of [1000, 2000, 2500])
      state = R.deserialize(R.serialize(R.decrypt(state, sent[n]).state));
    const count = R.skippedCount(state);
    const kept = B.utf8Decode(R.decrypt(state, sent[600]).plaintext);
    let oldest;
    try {
      R.decrypt(state, sent[0]);
      oldest = "decrypted";
    } catch (error) {
      oldest = error.code;
    }
    return `${count} ${kept} ${oldest}`;
  },
  ratchet_old_chain_after_turn: (C) => {
    // a late message of Alice's first chain arrives after the ratchet turned twice
    const R = C.ratchet;
    let { alice, bob } = livePair(C);
    const first = sendMany(C, alice, 3);
    alice = first.state;
    bob = R.decrypt(bob, first.messages[0]).state;
    const reply = R.encrypt(bob, B.utf8Encode("reply"));
    bob = reply.state;
    alice = R.decrypt(alice, reply.message).state;
    const second = sendMany(C, alice, 1);
    bob = R.deserialize(R.serialize(R.decrypt(bob, second.messages[0]).state));
    return `${B.utf8Decode(R.decrypt(bob, first.messages[2]).plaintext)} ${R.skippedCount(bob)}`;
  },
  session_not_json: (C) => C.ratchet.deserialize("{oops"),
  session_wrong_version: (C) => C.ratchet.deserialize(JSON.stringify({ v: 9 })),
  session_short_root_key: (C) => {
    const stored = JSON.parse(C.ratchet.serialize(livePair(C).alice));
    return C.ratchet.deserialize(JSON.stringify({ ...stored, root_key: "00" }));
  },
  session_bad_skipped_entry: (C) => {
    const stored = JSON.parse(C.ratchet.serialize(livePair(C).alice));
    return C.ratchet.deserialize(JSON.stringify({ ...stored, skipped: [["00", 1, "00"]] }));
  },
  crate_state_bad: (C) => C.ratchet.fromCrateJson('{"root_key":[1,2,3]}'),
  group_unknown_chain: (C) => {
    const { receiver, message } = groupPair(C, 0);
    return C.senderKeys.decryptGroup(receiver, {
      ...message,
      chainId: (message.chainId + 1) >>> 0,
    });
  },
  group_skip_2000_is_allowed: (C) => {
    const { receiver, message } = groupPair(C, 2000);
    return B.utf8Decode(C.senderKeys.decryptGroup(receiver, message).plaintext);
  },
  group_skip_2001_is_refused: (C) => {
    const { receiver, message } = groupPair(C, 2001);
    return C.senderKeys.decryptGroup(receiver, message);
  },
  group_replayed: (C) => {
    const { receiver, message } = groupPair(C, 0);
    const { state } = C.senderKeys.decryptGroup(receiver, message);
    return C.senderKeys.decryptGroup(state, message);
  },
  group_tampered: (C) => {
    const { receiver, message } = groupPair(C, 0);
    const ciphertext = message.ciphertext.slice();
    ciphertext[3] ^= 4;
    return C.senderKeys.decryptGroup(receiver, { ...message, ciphertext });
  },
  group_nonce_11_bytes: (C) => {
    const { receiver, message } = groupPair(C, 0);
    return C.senderKeys.decryptGroup(receiver, { ...message, nonce: message.nonce.slice(1) });
  },
  group_distribution_short_key: (C, all) => {
    const d = JSON.parse(all.find((x) => x.case === "sender_keys").distribution_json);
    return C.senderKeys.parseDistribution({ ...d, chain_key: d.chain_key.slice(2) });
  },
  group_stored_receiver_garbage: (C) =>
    C.senderKeys.deserializeReceiver(
      '{"v":1,"chain_id":1,"iteration":0,"chain_key":"zz","sender_id":"","cached":[]}',
    ),
  identity_unchanged: (C, all) => {
    const k = hex(all.find((x) => x.case === "fingerprints").keys[0].public);
    return C.fingerprints.checkPeerIdentity(k, k.slice());
  },
  identity_first_seen: (C, all) =>
    C.fingerprints.checkPeerIdentity(
      null,
      hex(all.find((x) => x.case === "fingerprints").keys[0].public),
    ),
  identity_changed: (C, all) => {
    const keys = all.find((x) => x.case === "fingerprints").keys;
    return C.fingerprints.checkPeerIdentity(hex(keys[0].public), hex(keys[1].public));
  },
  fingerprint_short_key: (C) => C.fingerprints.fingerprint(new Uint8Array(31)),
};

export const SCENARIO_NAMES = Object.keys(SCENARIOS);

export function scenario(C, name, all) {
  CErr = C.CryptoError;
  B = C.bytes;
  try {
    const value = SCENARIOS[name](C, all);
    return { code: `ok:${typeof value === "string" ? value : JSON.stringify(value)}` };
  } catch (error) {
    if (error instanceof C.CryptoError) return { code: error.code, message: error.message };
    return { code: `not a CryptoError: ${error}` };
  }
}
