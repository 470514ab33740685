"""The web client's end-to-end encryption core (src/chatalot/web/js/crypto/) in a real Chromium,
against the transcripts of the original Chatalot crate (../shared/spec/e2e-vectors/): every
X3DH value, every ratchet and sender-key message re-encrypted byte for byte with the recorded
nonces and ratchet keys, the crate's state JSON rebuilt, the web client's wire texts and frames,
fingerprints and safety numbers. Out-of-order DMs must all decrypt with our persisted session
(the original's failure). Then bad input: every case ends in a CryptoError with a clear code.

The checks themselves are in tests/browser/crypto_harness.js (served only to this test)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import CHROMIUM_ARGS
from tests.browser.static_client import client_page

pytestmark = pytest.mark.slow

HERE = Path(__file__).parent
# A copy of ../shared/spec/e2e-vectors/vectors-full.jsonl (transcripts of the original crate),
# kept in the repository so a clean clone (and CI) always runs these checks.
VECTORS_FILE = HERE / "data" / "e2e-vectors-full.jsonl"
HARNESS = "/__test__/crypto_harness.js"

PAGE = f"""<!doctype html>
<meta charset="utf-8">
<title>crypto vectors</title>
<script type="module">
import * as C from "/js/crypto/index.js";
import {{ runCase, scenario, SCENARIO_NAMES }} from "{HARNESS}";
window.setVectors = (records) => {{ window.vectors = records; }};
window.runCase = (index) => runCase(C, window.vectors[index], window.vectors);
window.scenario = (name) => scenario(C, name, window.vectors);
window.scenarioNames = SCENARIO_NAMES;
window.ready = true;
</script>
"""


def load_vectors() -> list[dict[str, Any]]:
    if not VECTORS_FILE.is_file():
        return []
    return [json.loads(line) for line in VECTORS_FILE.read_text().splitlines() if line.strip()]


VECTORS = load_vectors()


def case_id(index: int) -> str:
    record = VECTORS[index]
    same = [i for i, other in enumerate(VECTORS) if other["case"] == record["case"]]
    return record["case"] if len(same) == 1 else f"{record['case']}-{same.index(index)}"


@pytest.fixture(scope="module")
async def page(chromium_path: Path) -> AsyncIterator[Any]:
    """One page for the whole module: the checks never share state between calls."""
    if not VECTORS:
        pytest.fail(f"{VECTORS_FILE} is missing")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_ARGS
        )
        try:
            async with client_page(browser, PAGE, {HARNESS: HERE / "crypto_harness.js"}) as page:
                await page.evaluate("(records) => window.setVectors(records)", VECTORS)
                yield page
        finally:
            await browser.close()


def test_the_vector_file_has_every_case() -> None:
    cases = [record["case"] for record in VECTORS]
    assert sorted(set(cases)) == sorted(
        {
            "x3dh_with_opk",
            "x3dh_without_opk",
            "x3dh_bad_signature",
            "ratchet_conversation",
            "ratchet_out_of_order",
            "sender_keys",
            "fingerprints",
            "web_dm_first_message",
            "web_dm_followup",
            "web_dm_reply",
            "web_group_message",
        }
    )
    assert len(cases) == 12


@pytest.mark.parametrize("index", range(len(VECTORS)), ids=case_id)
async def test_vector_case_rederives_exactly(page: Any, index: int) -> None:
    result = await page.evaluate("(index) => window.runCase(index)", index)
    assert not result["failures"], "\n".join(result["failures"])
    # a case that checks almost nothing is a broken harness, not a pass
    assert result["checked"] >= 4, result


# scenario -> the CryptoError code it must end in ("ok:..." = succeeds with that result)
SCENARIOS = {
    "wire_truncated": "bad_wire",
    "wire_truncated_bytes": "bad_wire",
    "wire_empty": "bad_wire",
    "wire_not_utf8": "bad_wire",
    "wire_plain_text": "bad_wire",
    "wire_json_array": "bad_wire",
    "wire_version_2": "bad_wire",
    "wire_counter_as_string": "bad_wire",
    "wire_negative_counter": "bad_wire",
    "wire_key_as_hex_string": "bad_wire",
    "wire_ratchet_key_31_bytes": "bad_wire",
    "wire_byte_out_of_range": "bad_wire",
    "wire_fractional_byte": "bad_wire",
    "wire_nonce_11_bytes": "bad_wire",
    "wire_ciphertext_shorter_than_tag": "bad_wire",
    "wire_x3dh_missing_ephemeral": "bad_wire",
    "wire_group_chain_id_too_big": "bad_wire",
    "wire_group_nonce_11_bytes": "bad_wire",
    "decrypt_nonce_11_bytes": "bad_input",
    "decrypt_text_instead_of_bytes": "bad_input",
    "unknown_signed_prekey": "unknown_prekey",
    "unknown_one_time_prekey": "unknown_prekey",
    "low_order_ephemeral_key": "bad_key",
    "bad_spk_signature": "bad_signature",
    "bundle_short_identity_key": "bad_input",
    "bundle_not_json": "bad_input",
    "send_before_receiving": "no_sending_chain",
    "ratchet_tampered_ciphertext": "decrypt_failed",
    "ratchet_tampered_header": "decrypt_failed",
    "ratchet_wrong_tag": "decrypt_failed",
    "ratchet_replayed": "replayed",
    # message 1000 after none: 1000 keys skipped (the limit); message 3 then uses its stored key
    "ratchet_skip_1000_is_allowed": "ok:m1000 m3 999",
    "ratchet_skip_1001_is_refused": "too_many_skipped",
    # 1000 + 999 + 499 skipped keys, capped at 2000 with the oldest dropped: 600 is kept, 0 is gone
    "ratchet_stored_skipped_keys_capped": "ok:2000 m600 replayed",
    # a late message of a chain two ratchet turns old still decrypts (its key was kept)
    "ratchet_old_chain_after_turn": "ok:m2 2",
    "session_not_json": "bad_state",
    "session_wrong_version": "bad_state",
    "session_short_root_key": "bad_state",
    "session_bad_skipped_entry": "bad_state",
    "crate_state_bad": "bad_state",
    "group_unknown_chain": "unknown_chain",
    "group_skip_2000_is_allowed": "ok:g2000",
    "group_skip_2001_is_refused": "too_many_skipped",
    "group_replayed": "replayed",
    "group_tampered": "decrypt_failed",
    "group_nonce_11_bytes": "bad_input",
    "group_distribution_short_key": "bad_input",
    "group_stored_receiver_garbage": "bad_state",
    "identity_unchanged": "ok:same",
    "identity_first_seen": "ok:new",
    "identity_changed": "ok:changed",
    "fingerprint_short_key": "bad_input",
}


async def test_every_scenario_of_the_harness_is_listed_here(page: Any) -> None:
    assert sorted(await page.evaluate("window.scenarioNames")) == sorted(SCENARIOS)


@pytest.mark.parametrize(("name", "expected"), SCENARIOS.items(), ids=list(SCENARIOS))
async def test_bad_input_gives_a_clear_error(page: Any, name: str, expected: str) -> None:
    result = await page.evaluate("(name) => window.scenario(name)", name)
    assert result["code"] == expected, result
    if not expected.startswith("ok:"):
        assert result["message"], result  # a sentence the interface can show


async def test_randomness_comes_from_the_browser_and_differs(page: Any) -> None:
    """Without an injected source, keys and nonces are fresh each time (crypto.getRandomValues)."""
    result = await page.evaluate(
        """async () => {
          const C = await import("/js/crypto/index.js");
          const a = C.primitives.generateIdentityKey();
          const b = C.primitives.generateIdentityKey();
          const key = C.primitives.randomBytes(32);
          const n1 = C.senderKeys.encryptGroup(
            C.senderKeys.generateSenderKey(new Uint8Array([1])), new Uint8Array([1])).message.nonce;
          const n2 = C.senderKeys.encryptGroup(
            C.senderKeys.generateSenderKey(new Uint8Array([1])), new Uint8Array([1])).message.nonce;
          const hex = C.bytes.bytesToHex;
          return [hex(a.seed) !== hex(b.seed), hex(n1) !== hex(n2), key.length, n1.length];
        }"""
    )
    assert result == [True, True, 32, 12]
