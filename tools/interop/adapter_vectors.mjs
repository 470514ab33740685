// Runs the bundled adapter (crypto_module.js) against the vectors recorded from the original
// Rust crate (/work/shared/spec/e2e-vectors/vectors-full.jsonl): it must decrypt the crate's
// messages from the crate's own state JSON, agree on X3DH secrets, fingerprints and safety
// numbers, and refuse a bad prekey signature.  usage: node adapter_vectors.mjs [module] [vectors]
import { readFileSync, copyFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
const modulePath = process.argv[2] || new URL("./crypto_module.js", import.meta.url).pathname;
const vectorsPath = process.argv[3] || "/work/shared/spec/e2e-vectors/vectors-full.jsonl";
const asMjs = modulePath.replace(/\.js$/, "") + ".vectors-tmp.mjs";
copyFileSync(modulePath, asMjs); // node needs .mjs for an ES module outside a "type": "module" package
const C = await import(pathToFileURL(asMjs).href);
await C.default();
const hex = (h) => Uint8Array.from(h.match(/../g) || [], (x) => parseInt(x, 16));
const toHex = (a) => Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
const td = new TextDecoder();
let pass = 0, fail = 0;
const check = (what, cond, detail = "") => {
  if (cond) pass++;
  else { fail++; console.log("FAIL", what, detail); }
};
for (const line of readFileSync(vectorsPath, "utf8").split("\n").filter(Boolean)) {
  const v = JSON.parse(line);
  if (v.case === "x3dh_with_opk" || v.case === "x3dh_without_opk") {
    const r = C.x3dh_respond(hex(v.bob_identity_seed), hex(v.bob_signed_prekey_private),
      v.bob_one_time_prekey_private ? hex(v.bob_one_time_prekey_private) : null,
      hex(v.alice_identity_public), hex(v.alice_ephemeral_public));
    const s = JSON.parse(r.session_json);
    check(`${v.case} responder root = shared secret`, s.root_key === v.shared_secret);
    check(`${v.case} AD`, toHex(r.associated_data) === v.associated_data_responder);
    const i = C.x3dh_initiate(hex(v.alice_identity_seed), v.bundle_json);
    check(`${v.case} initiate AD`, toHex(i.associated_data) === v.associated_data);
  } else if (v.case === "x3dh_bad_signature") {
    const bundle = JSON.stringify({ identity_key: Array.from(hex(v.bob_identity_public)),
      signed_prekey: { key_id: 1, public_key: Array.from(hex(v.bob_signed_prekey_public)),
        signature: Array.from(hex(v.bob_signed_prekey_signature)) }, one_time_prekey: null });
    let threw = null;
    try { C.x3dh_initiate(hex(v.alice_identity_seed), bundle); } catch (e) { threw = e; }
    check("bad signature refused", typeof threw === "string" && threw.includes("signature"), String(threw));
  } else if (v.case === "ratchet_conversation") {
    for (const m of v.messages) {
      const d = C.ratchet_decrypt(m.receiver_state_before.json, m.encrypted_message_json);
      check(`ratchet step ${m.step} decrypt from crate state`, td.decode(Uint8Array.from(d.plaintext)) === m.plaintext);
      const e = C.ratchet_encrypt(m.sender_state_before.json, hex(m.plaintext_hex));
      const h = e.encrypted.header;
      check(`ratchet step ${m.step} header from crate state`,
        toHex(h.ratchet_key) === m.header.ratchet_key && h.previous_chain_length === m.header.previous_chain_length &&
        h.message_number === m.header.message_number);
      check(`ratchet step ${m.step} EncryptedMessage key order`,
        JSON.stringify(Object.keys(e.encrypted)) === '["header","ciphertext","nonce"]' &&
        JSON.stringify(Object.keys(h)) === '["ratchet_key","previous_chain_length","message_number"]');
    }
  } else if (v.case === "sender_keys" || v.case === "web_group_message") {
    let rs = C.sender_key_from_distribution(v.distribution_json);
    const msgs = v.case === "sender_keys" ? v.messages : [v];
    for (const m of msgs) {
      const d = C.sender_key_decrypt(rs, m.message_json);
      rs = d.state_json;
      check(`${v.case} it${m.iteration} decrypt`, td.decode(Uint8Array.from(d.plaintext)) === m.plaintext);
      const state = (m.sender_state_before && (m.sender_state_before.json || m.sender_state_before)) || null;
      if (typeof state === "string") {
        const e = JSON.parse(C.sender_key_encrypt(state, hex(m.plaintext_hex)).message_json);
        check(`${v.case} it${m.iteration} encrypt from crate state`, e.chain_id === m.chain_id && e.iteration === m.iteration &&
          JSON.stringify(Object.keys(e)) === '["chain_id","iteration","ciphertext","nonce"]');
      }
    }
  } else if (v.case === "fingerprints") {
    for (const k of v.keys) check("fingerprint", C.compute_fingerprint(hex(k.public)) === k.fingerprint);
    for (const s of v.safety_numbers) {
      const a = hex(v.keys[s.a].public), b = hex(v.keys[s.b].public);
      check("safety number", C.compute_safety_number(a, b) === s.safety_number_ab && C.compute_safety_number(b, a) === s.safety_number_ba);
    }
  } else if (v.case.startsWith("web_dm")) {
    // the exact wire text the original client builds from ratchet_encrypt's `encrypted`
    const enc = JSON.parse(v.encrypted_message_json);
    const wire = JSON.parse(v.wire_json);
    const rebuilt = JSON.stringify({ v: 1, ...(wire.x3dh ? { x3dh: wire.x3dh } : {}), header: enc.header, ciphertext: enc.ciphertext, nonce: enc.nonce });
    check(`${v.case} wire text`, rebuilt === v.wire_json);
  }
}
(await import("node:fs")).unlinkSync(asMjs);
console.log(`adapter vs crate vectors: ${pass} checks passed, ${fail} failed`);
process.exit(fail ? 1 : 0);
