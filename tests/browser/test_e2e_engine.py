"""The web client's encryption engine (src/chatalot/web/js/e2e/engine.js) in a real Chromium: two
accounts, each with its own sealed keystore, talk through a stand-in for the server's key API
(bundles hand out the oldest one-time prekey, as ours does). DMs with and without a first
message, replies, late and replayed and tampered messages, a new device's identity key, channel
sender keys with rotation, key upload and top-up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.browser.static_client import client_page

pytestmark = pytest.mark.slow

PAGE = """<!doctype html>
<meta charset="utf-8">
<title>engine test</title>
<script type="module">
import { E2EEngine } from "/js/e2e/engine.js";
import { Keystore, deleteKeystore } from "/js/e2e/keystore.js";

// What the server keeps: per user the identity key, signed prekey and unused one-time prekeys
// (oldest handed out first), and per channel each member's sender key distribution.
class FakeServer {
  constructor() { this.users = new Map(); this.senderKeys = new Map(); this.calls = []; }
  as(userId) {
    const user = () => {
      if (!this.users.has(userId)) this.users.set(userId, { identity: null, signed: null, oneTime: [] });
      return this.users.get(userId);
    };
    return {
      register: async (body) => {
        this.calls.push(["register", userId, body.one_time_prekeys.length]);
        const u = user();
        u.identity = body.identity_key;
        u.signed = body.signed_prekey;
        if (body.one_time_prekeys.length) u.oneTime = [...body.one_time_prekeys];
      },
      prekeyCount: async () => user().oneTime.length,
      uploadOneTimePrekeys: async (list) => {
        this.calls.push(["one-time", userId, list.length, list[0].key_id]);
        user().oneTime.push(...list);
      },
      bundle: async (peer) => {
        const p = this.users.get(peer);
        if (!p || !p.identity) throw new Error("key bundle not found");
        const oneTime = p.oneTime.shift() || null;
        return JSON.parse(JSON.stringify({
          identity_key: p.identity, signed_prekey: p.signed, one_time_prekey: oneTime,
        }));
      },
      senderKeys: async (channelId) => {
        const all = this.senderKeys.get(channelId) || new Map();
        return JSON.parse(JSON.stringify([...all.values()]));
      },
      uploadSenderKey: async (channelId, body) => {
        if (!this.senderKeys.has(channelId)) this.senderKeys.set(channelId, new Map());
        const row = { user_id: userId, chain_id: body.chain_id, distribution: body.distribution };
        this.senderKeys.get(channelId).set(userId, row);
        this.calls.push(["sender-key", userId, channelId]);
      },
    };
  }
}

window.setup = async (names) => {
  const server = new FakeServer();
  const people = {};
  for (const name of names) {
    const userId = crypto.randomUUID();
    await deleteKeystore(userId);
    const store = await Keystore.open(userId);
    await store.unlockWithPassword("pw-" + name);
    const events = [];
    const engine = new E2EEngine({
      userId, keystore: store, server: server.as(userId), onEvent: (e) => events.push(e),
    });
    people[name] = { userId, store, engine, events };
  }
  return { server, people };
};
window.ready = true;
</script>
"""


@pytest.fixture
async def page(browser: Any) -> AsyncIterator[Any]:
    async with client_page(browser, PAGE) as page:
        yield page


async def run(page: Any, body: str) -> Any:
    return await page.evaluate(f"async () => {{ {body} }}")


async def test_a_dm_conversation_with_late_replayed_and_tampered_messages(page: Any) -> None:
    result = await run(
        page,
        """
        const { server, people: { alice, bob } } = await setup(["alice", "bob"]);
        await alice.engine.start(); await bob.engine.start();
        const text = (m) => new TextDecoder().decode(new Uint8Array(m.ciphertext));
        const first = await alice.engine.encryptDm(bob.userId, "hello bob");
        const firstWire = JSON.parse(text(first));
        const r1 = await bob.engine.decryptDm(alice.userId, "m1", first.ciphertext);
        const reply = await bob.engine.encryptDm(alice.userId, "hi alice");
        const replyWire = JSON.parse(text(reply));
        const r2 = await alice.engine.decryptDm(bob.userId, "m2", reply.ciphertext);
        const a = await alice.engine.encryptDm(bob.userId, "one");
        const b = await alice.engine.encryptDm(bob.userId, "two");
        const c = await alice.engine.encryptDm(bob.userId, "three");
        // delivered 3, 1, 2: every one decrypts (the original lost all three)
        const late = [
          await bob.engine.decryptDm(alice.userId, "m5", c.ciphertext),
          await bob.engine.decryptDm(alice.userId, "m3", a.ciphertext),
          await bob.engine.decryptDm(alice.userId, "m4", b.ciphertext),
        ];
        // the same message again (a reload): from the cache; under another id (a replay): refused
        const again = await bob.engine.decryptDm(alice.userId, "m3", a.ciphertext);
        const replay = await bob.engine.decryptDm(alice.userId, "m3-copy", a.ciphertext);
        // a flipped ciphertext byte fails and leaves the session as it was
        const d = await alice.engine.encryptDm(bob.userId, "four");
        const wire = JSON.parse(text(d));
        wire.ciphertext[0] ^= 1;
        const tampered = Array.from(new TextEncoder().encode(JSON.stringify(wire)));
        const bad = await bob.engine.decryptDm(alice.userId, "m6x", tampered);
        const good = await bob.engine.decryptDm(alice.userId, "m6", d.ciphertext);
        const truncated = await bob.engine.decryptDm(alice.userId, "m7", d.ciphertext.slice(0, 40));
        // the sender reads its own messages only from what it kept when sending
        await alice.engine.remember("m1", first.ciphertext, "hello bob");
        const own = await alice.engine.ownDm("m1", first.ciphertext);
        const lost = await alice.engine.ownDm("m3", a.ciphertext);
        return {
          firstHasX3dh: "x3dh" in firstWire, otpId: firstWire.x3dh.one_time_prekey_id,
          replyHasX3dh: "x3dh" in replyWire, keys: Object.keys(firstWire),
          r1, r2, late: late.map((r) => r.text), again, replay: replay.code,
          bad: [bad.ok, bad.code], good: good.text, truncated: [truncated.ok, truncated.code],
          own: own.text, lost: lost.code,
          bobOtpLeft: (await bob.store.keys("oneTimePrekeys")).length,
          serverOtpLeft: server.users.get(bob.userId).oneTime.length,
        };
        """,
    )
    assert result["firstHasX3dh"] is True
    assert result["otpId"] == 1  # the oldest one-time prekey
    assert result["keys"] == ["v", "x3dh", "header", "ciphertext", "nonce"]
    assert result["replyHasX3dh"] is False
    assert result["r1"] == {"ok": True, "text": "hello bob"}
    assert result["r2"] == {"ok": True, "text": "hi alice"}
    assert result["late"] == ["three", "one", "two"]
    assert result["again"] == {"ok": True, "text": "one"}
    assert result["replay"] == "replayed"
    assert result["bad"] == [False, "decrypt_failed"]
    assert result["good"] == "four"
    assert result["truncated"] == [False, "bad_wire"]
    assert result["own"] == "hello bob"
    assert result["lost"] == "sent_elsewhere"
    assert result["bobOtpLeft"] == 99  # the used one-time prekey is gone
    assert result["serverOtpLeft"] == 99


async def test_a_new_device_is_reported_and_an_unknown_prekey_fails_cleanly(page: Any) -> None:
    result = await run(
        page,
        """
        const { server, people: { alice, bob } } = await setup(["alice", "bob"]);
        await alice.engine.start(); await bob.engine.start();
        const m1 = await alice.engine.encryptDm(bob.userId, "before");
        await bob.engine.decryptDm(alice.userId, "m1", m1.ciphertext);
        const before = await alice.engine.identityInfo(bob.userId);
        const bobSide = await bob.engine.identityInfo(alice.userId);
        // bob signs in on a new browser: new keys, and he writes first
        await bob.store.clear();
        bob.engine.identity = null;
        await bob.engine.start();
        const m2 = await bob.engine.encryptDm(alice.userId, "new phone");
        const got = await alice.engine.decryptDm(bob.userId, "m2", m2.ciphertext);
        const after = await alice.engine.identityInfo(bob.userId);
        await alice.engine.markVerified(bob.userId);
        const verified = await alice.engine.identityInfo(bob.userId);
        // a first message naming a one-time prekey bob does not have
        const carol = (await setup(["carol"])).people.carol;
        const wire = JSON.parse(new TextDecoder().decode(new Uint8Array(m1.ciphertext)));
        wire.x3dh.one_time_prekey_id = 99999;
        const forged = Array.from(new TextEncoder().encode(JSON.stringify(wire)));
        await bob.engine.start();
        const unknown = await bob.engine.decryptDm(carol.userId, "m3", forged);
        return {
          got, events: alice.events.map((e) => e.type),
          sameNumber: before.safetyNumber === bobSide.safetyNumber,
          numberChanged: before.safetyNumber !== after.safetyNumber,
          changed: [before.peerChanged, after.peerChanged, verified.peerChanged, verified.peerVerified],
          format: before.safetyNumber, fingerprint: before.fingerprint,
          unknown: [unknown.ok, unknown.code],
        };
        """,
    )
    assert result["got"] == {"ok": True, "text": "new phone"}
    assert result["events"] == ["identity_changed", "identity_verified"]
    assert result["sameNumber"] is True  # both people see the same safety number
    assert result["numberChanged"] is True
    assert result["changed"] == [False, True, False, True]
    assert len(result["format"].split(" ")) == 8
    assert len(result["fingerprint"].replace(" ", "")) == 64
    assert result["unknown"] == [False, "unknown_prekey"]


async def test_channel_messages_with_sender_keys_and_rotation(page: Any) -> None:
    result = await run(
        page,
        """
        const { server, people: { alice, bob } } = await setup(["alice", "bob"]);
        await alice.engine.start(); await bob.engine.start();
        const channel = crypto.randomUUID();
        const sent = [];
        for (const word of ["red", "green", "blue"]) sent.push(await alice.engine.encryptGroup(channel, word));
        const wire = JSON.parse(new TextDecoder().decode(new Uint8Array(sent[0].ciphertext)));
        const order = [
          await bob.engine.decryptGroup(channel, alice.userId, "g3", sent[2].ciphertext),
          await bob.engine.decryptGroup(channel, alice.userId, "g1", sent[0].ciphertext),
          await bob.engine.decryptGroup(channel, alice.userId, "g2", sent[1].ciphertext),
        ];
        const replay = await bob.engine.decryptGroup(channel, alice.userId, "g1-copy", sent[0].ciphertext);
        // alice reads her own channel messages back through her distribution on the server
        const own = await alice.engine.decryptGroup(channel, alice.userId, "g2", sent[1].ciphertext);
        const uploads = server.calls.filter((c) => c[0] === "sender-key").length;
        // rotation: alice's next message uses a new chain, which bob fetches
        await alice.engine.rotateChannel(channel);
        const rotated = await alice.engine.encryptGroup(channel, "after rotation");
        const afterRotation = await bob.engine.decryptGroup(channel, alice.userId, "g4", rotated.ciphertext);
        // a chain nobody published
        const forged = JSON.parse(new TextDecoder().decode(new Uint8Array(rotated.ciphertext)));
        forged.message.chain_id = (forged.message.chain_id + 1) >>> 0;
        const bytes = Array.from(new TextEncoder().encode(JSON.stringify(forged)));
        const wrongChain = await bob.engine.decryptGroup(channel, alice.userId, "g5", bytes);
        const stranger = await bob.engine.decryptGroup(channel, crypto.randomUUID(), "g6", rotated.ciphertext);
        // a live sender_key_updated is followed; a repeat does not rewind the chain
        await alice.engine.rotateChannel(channel);
        const next = await alice.engine.encryptGroup(channel, "live");
        const row = (await server.as(alice.userId).senderKeys(channel))[0];
        await bob.engine.senderKeyUpdated({ channel_id: channel, ...row });
        const live = await bob.engine.decryptGroup(channel, alice.userId, "g7", next.ciphertext);
        await bob.engine.senderKeyUpdated({ channel_id: channel, ...row });
        const next2 = await alice.engine.encryptGroup(channel, "still live");
        const live2 = await bob.engine.decryptGroup(channel, alice.userId, "g8", next2.ciphertext);
        return {
          keys: Object.keys(wire), sk: wire.sk, order: order.map((r) => r.text),
          replay: replay.code, own: own.text, uploads, afterRotation: afterRotation.text,
          wrongChain: wrongChain.code, stranger: stranger.code, live: live.text, live2: live2.text,
          fetches: server.calls.filter((c) => c[0] === "sender-key").length,
        };
        """,
    )
    assert result["keys"] == ["v", "sk", "message"]
    assert result["sk"] is True
    assert result["order"] == ["blue", "red", "green"]
    assert result["replay"] == "replayed"
    assert result["own"] == "green"
    assert result["uploads"] == 1  # one distribution for the whole chain
    assert result["afterRotation"] == "after rotation"
    assert result["wrongChain"] == "unknown_chain"
    assert result["stranger"] == "no_sender_key"
    assert result["live"] == "live"
    assert result["live2"] == "still live"
    assert result["fetches"] == 3


async def test_keys_are_uploaded_at_every_start_and_topped_up(page: Any) -> None:
    result = await run(
        page,
        """
        const { server, people: { alice, bob } } = await setup(["alice", "bob"]);
        const first = await alice.engine.start();
        const second = await alice.engine.start();
        const registers = server.calls.filter((c) => c[0] === "register").map((c) => c[2]);
        // 80 bundles handed out: 20 left, under the threshold of 25
        for (let i = 0; i < 80; i++) await server.as(bob.userId).bundle(alice.userId);
        const added = await alice.engine.topUp();
        const upload = server.calls.find((c) => c[0] === "one-time");
        const nothing = await alice.engine.topUp();
        return {
          first, second, registers, added, upload, nothing,
          count: server.users.get(alice.userId).oneTime.length,
          local: (await alice.store.keys("oneTimePrekeys")).length,
        };
        """,
    )
    assert result["first"] == "created"
    assert result["second"] == "existing"
    assert result["registers"] == [100, 0]  # again at start, one-time prekeys left alone
    assert result["added"] == 100
    assert result["upload"][2:] == [100, 101]  # 100 new keys, numbered after the first 100
    assert result["nothing"] == 0
    assert result["count"] == 120
    assert result["local"] == 200


async def test_a_batch_decrypts_in_order_and_a_replayed_first_message_keeps_the_session(
    page: Any,
) -> None:
    result = await run(
        page,
        """
        const { server, people: { alice, bob } } = await setup(["alice", "bob"]);
        await alice.engine.start(); await bob.engine.start();
        // a first message without a one-time prekey (the server had none left): X3DH from the
        // signed prekey alone, so a copy of it would open again if nothing guarded the session
        server.users.get(bob.userId).oneTime = [];
        const first = await alice.engine.encryptDm(bob.userId, "first");
        const firstWire = JSON.parse(new TextDecoder().decode(new Uint8Array(first.ciphertext)));
        const rest = [];
        for (let i = 0; i < 5; i += 1) rest.push(await alice.engine.encryptDm(bob.userId, `n${i}`));
        // one batch: the newest three, then (out of order) the first and a broken one
        const broken = rest[4].ciphertext.slice(0, 30);
        const batch = await bob.engine.decryptDmMany(alice.userId, [
          { messageId: "m4", ciphertext: rest[2].ciphertext },
          { messageId: "m1", ciphertext: first.ciphertext },
          { messageId: "m5", ciphertext: rest[3].ciphertext },
          { messageId: "bad", ciphertext: broken },
          { messageId: "m6", ciphertext: rest[4].ciphertext },
        ]);
        // the first message again under a new id (a replay): refused, and the session lives on
        const replayed = await bob.engine.decryptDm(alice.userId, "m1-copy", first.ciphertext);
        const late = await bob.engine.decryptDmMany(alice.userId, [
          { messageId: "m2", ciphertext: rest[0].ciphertext },
          { messageId: "m3", ciphertext: rest[1].ciphertext },
        ]);
        const next = await alice.engine.encryptDm(bob.userId, "after all that");
        const after = await bob.engine.decryptDm(alice.userId, "m7", next.ciphertext);
        return {
          batch: batch.map((r) => (r.ok ? r.text : r.code)),
          replayed: [replayed.ok, replayed.code],
          late: late.map((r) => (r.ok ? r.text : r.code)),
          after: after.text, otp: firstWire.x3dh.one_time_prekey_id,
        };
        """,
    )
    assert result["otp"] is None
    # m4 and m5 come before the first message in the batch: no session yet for them
    assert result["batch"] == ["no_session", "first", "n3", "bad_wire", "n4"]
    assert result["replayed"] == [False, "replayed"]
    assert result["late"] == ["n0", "n1"]
    assert result["after"] == "after all that"
