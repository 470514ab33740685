"""The web client's store of end-to-end secrets (src/chatalot/web/js/e2e/keystore.js) in a real
Chromium: values sealed with the password-derived key, nothing readable in IndexedDB, records
bound to their slot, locked and wrong-password states, all-or-nothing writes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.browser.static_client import client_page

pytestmark = pytest.mark.slow

PAGE = """<!doctype html>
<meta charset="utf-8">
<title>keystore test</title>
<script type="module">
import * as keystore from "/js/e2e/keystore.js";
window.keystore = keystore;
// the raw record IndexedDB holds, as the bytes of its sealed data
window.rawRecord = (user, store, key) => new Promise((resolve, reject) => {
  const open = indexedDB.open(keystore.databaseName(user));
  open.onsuccess = () => {
    const get = open.result.transaction(store).objectStore(store).get(key);
    get.onsuccess = () => { open.result.close(); resolve(get.result); };
    get.onerror = () => reject(get.error);
  };
  open.onerror = () => reject(open.error);
});
window.ready = true;
</script>
"""

USER = "6f1d2a44-0c5e-4d8e-9a43-1d1b8e2f0a77"


@pytest.fixture
async def page(browser: Any) -> AsyncIterator[Any]:
    async with client_page(browser, PAGE) as page:
        yield page


async def run(page: Any, body: str, *args: Any) -> Any:
    """Runs an async function body with `ks` (the module), `user` and `args` in scope."""
    script = f"async ([user, args]) => {{ const ks = window.keystore; {body} }}"
    return await page.evaluate(script, [USER, list(args)])


async def test_values_round_trip_sealed_and_survive_a_reload(page: Any) -> None:
    result = await run(
        page,
        """
        const store = await ks.Keystore.open(user);
        await store.unlockWithPassword("correct horse");
        const value = {seed: new Uint8Array([1, 2, 255]), nested: {n: 7, s: "secret-marker"}};
        await store.put("identity", "self", value);
        const back = await store.get("identity", "self");
        const missing = await store.get("sessions", "nobody");
        store.close();
        const raw = await window.rawRecord(user, "identity", "self");
        const later = await ks.Keystore.open(user);
        const found = await later.unlockFromDevice();
        const again = await later.get("identity", "self");
        let exported = "no";
        try { await crypto.subtle.exportKey("raw", later.key); exported = "yes"; } catch {}
        later.close();
        return {
          back: [Array.from(back.seed), back.nested], missing,
          rawText: new TextDecoder().decode(raw.data), rawLength: raw.data.length,
          ivLength: raw.iv.length, found, again: [Array.from(again.seed), again.nested.s],
          exported, seedIsBytes: back.seed instanceof Uint8Array,
        };
        """,
    )
    assert result["back"] == [[1, 2, 255], {"n": 7, "s": "secret-marker"}]
    assert result["seedIsBytes"] is True
    assert result["missing"] is None
    assert "secret-marker" not in result["rawText"]
    assert result["ivLength"] == 12
    assert result["found"] is True
    assert result["again"] == [[1, 2, 255], "secret-marker"]
    assert result["exported"] == "no"  # the sealing key's bytes never reach a script


async def test_a_record_moved_to_another_slot_does_not_open(page: Any) -> None:
    code = await run(
        page,
        """
        const store = await ks.Keystore.open(user);
        await store.unlockWithPassword("pw");
        await store.put("sessions", "alice", {root: "a"});
        const raw = await window.rawRecord(user, "sessions", "alice");
        const tx = store.db.transaction("sessions", "readwrite");
        tx.objectStore("sessions").put(raw, "bob");
        await new Promise((resolve) => { tx.oncomplete = resolve; });
        try { await store.get("sessions", "bob"); return "opened"; }
        catch (error) { return error.code; }
        """,
    )
    assert code == "unreadable"


async def test_locked_and_wrong_password_states(page: Any) -> None:
    result = await run(
        page,
        """
        const store = await ks.Keystore.open(user);
        const fromDevice = await store.unlockFromDevice();
        let locked;
        try { await store.put("identity", "self", {a: 1}); locked = "written"; }
        catch (error) { locked = error.code; }
        await store.unlockWithPassword("first password");
        await store.put("identity", "self", {a: 1});
        const readableBefore = await store.readable();
        await store.unlockWithPassword("another password");
        const readableAfter = await store.readable();
        let wrong;
        try { await store.get("identity", "self"); wrong = "opened"; }
        catch (error) { wrong = error.code; }
        await store.clear();
        const afterClear = await store.get("identity", "self");
        await store.put("identity", "self", {a: 2});
        const fresh = await store.get("identity", "self");
        return {fromDevice, locked, readableBefore, readableAfter, wrong, afterClear, fresh};
        """,
    )
    assert result == {
        "fromDevice": False,
        "locked": "locked",
        "readableBefore": True,
        "readableAfter": False,
        "wrong": "unreadable",
        "afterClear": None,
        "fresh": {"a": 2},
    }


async def test_writes_are_all_or_nothing_and_prefixes_delete(page: Any) -> None:
    result = await run(
        page,
        """
        const store = await ks.Keystore.open(user);
        await store.unlockWithPassword("pw");
        let failed = false;
        try {
          await store.putMany([["sessions", "a", 1], ["no-such-store", "b", 2]]);
        } catch { failed = true; }
        const partial = await store.get("sessions", "a");
        await store.putMany([["receiverKeys", "c1:u1", 1], ["receiverKeys", "c1:u2", 2],
                             ["receiverKeys", "c2:u1", 3]]);
        await store.deletePrefix("receiverKeys", "c1:");
        const left = await store.keys("receiverKeys");
        store.close();
        await ks.deleteKeystore(user);
        const reopened = await ks.Keystore.open(user);
        const afterDelete = await reopened.unlockFromDevice();
        return {failed, partial, left, afterDelete};
        """,
    )
    assert result == {"failed": True, "partial": None, "left": ["c2:u1"], "afterDelete": False}


async def test_the_key_is_the_original_clients_personal_key(page: Any) -> None:
    # PBKDF2-SHA256, 210,000 rounds, salt "chatalot-personal-<user id>": a value sealed with the
    # key derived here by hand (as the original client derives its personal key) opens with ours.
    opened = await run(
        page,
        """
        const enc = new TextEncoder();
        const material = await crypto.subtle.importKey("raw", enc.encode("pw"), "PBKDF2", false,
                                                       ["deriveKey"]);
        const theirs = await crypto.subtle.deriveKey(
          {name: "PBKDF2", salt: enc.encode("chatalot-personal-" + user), iterations: 210000,
           hash: "SHA-256"}, material, {name: "AES-GCM", length: 256}, false, ["encrypt"]);
        const iv = new Uint8Array(12);
        const sealed = await crypto.subtle.encrypt({name: "AES-GCM", iv}, theirs, enc.encode("hi"));
        const ours = await ks.derivePersonalKey("pw", user);
        const plain = await crypto.subtle.decrypt({name: "AES-GCM", iv}, ours, sealed);
        return new TextDecoder().decode(plain);
        """,
    )
    assert opened == "hi"


async def test_a_password_change_reseals_and_sign_out_forgets_the_key(page: Any) -> None:
    result = await run(
        page,
        """
        const store = await ks.Keystore.open(user);
        await store.unlockWithPassword("old password");
        await store.putMany([["identity", "self", {seed: new Uint8Array([9, 9])}],
                             ["plaintexts", "m1:ab", {text: "kept"}]]);
        await store.reseal("new password");
        const afterReseal = (await store.get("plaintexts", "m1:ab")).text;
        await store.forgetKey();
        store.close();
        const later = await ks.Keystore.open(user);
        const fromDevice = await later.unlockFromDevice();
        await later.unlockWithPassword("old password");
        const oldOpens = await later.readable();
        await later.unlockWithPassword("new password");
        const newOpens = await later.readable();
        const text = (await later.get("plaintexts", "m1:ab")).text;
        const seed = Array.from((await later.get("identity", "self")).seed);
        return {afterReseal, fromDevice, oldOpens, newOpens, text, seed};
        """,
    )
    assert result == {
        "afterReseal": "kept",
        "fromDevice": False,  # signed out: nothing opens without the password
        "oldOpens": False,
        "newOpens": True,
        "text": "kept",
        "seed": [9, 9],
    }
