"""Speed of the web client's end-to-end encryption core (src/chatalot/web/js/crypto/) in a real
Chromium, without a server:

    .venv/bin/python -m bench.e2e_crypto [--messages 2000] [--batch 10] [--size 200]

Playwright for Python drives Debian's Chromium (/usr/bin/chromium, headless) and serves
src/chatalot/web/ to a blank page by route interception. In the page, after a warm-up, each
operation runs ``--messages`` times on ``--size``-byte texts, timed in batches of ``--batch``
(the page clock is coarsened to 0.1 ms, finer than one batch); the per-message figures are a
batch's time divided by its size: median and p99 over the batches, in microseconds.

- ratchet encrypt / decrypt: one chain, in order (the common case in a DM)
- ratchet decrypt + persist: decrypt, then serialize and deserialize the session (what the
  client does for every message, as it stores the session after each)
- ratchet turn: a reply that makes both sides step the DH ratchet (encrypt + decrypt)
- sender key encrypt / decrypt: a channel message
- x3dh initiate / respond: starting a DM session

No target; the figures say whether crypto matters next to rendering (a frame is 16 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

WEB = (Path(__file__).parents[1] / "src" / "chatalot" / "web").resolve()
ORIGIN = "http://client.localhost"
CHROMIUM = os.environ.get("CHATALOT_CHROMIUM", "/usr/bin/chromium")

PAGE = """<!doctype html>
<meta charset="utf-8">
<title>crypto bench</title>
<script type="module">
import * as C from "/js/crypto/index.js";
window.C = C;
window.ready = true;
</script>
"""

# Runs in the page: returns {name: [per-message microseconds of each batch]}.
BENCH = """
async ({ messages, batch, size }) => {
  const { primitives: P, x3dh, ratchet: R, senderKeys: S, bytes } = window.C;
  const text = new Uint8Array(size).fill(97);
  const results = {};
  const time = (name, count, setup, op) => {
    const samples = [];
    let state = setup();
    for (let done = 0; done < count; done += batch) {
      const start = performance.now();
      for (let i = 0; i < batch; i++) state = op(state, done + i);
      samples.push(((performance.now() - start) * 1000) / batch);
    }
    results[name] = samples;
  };
  const pair = () => {
    const alice = P.generateIdentityKey();
    const bob = P.generateIdentityKey();
    const spk = P.generateX25519KeyPair();
    const bundle = {
      identityKey: bob.publicKey,
      signedPrekey: {
        keyId: 1,
        publicKey: spk.publicKey,
        signature: x3dh.signPrekey(bob.seed, spk.publicKey),
      },
      oneTimePrekey: P.generateX25519KeyPair(),
    };
    bundle.oneTimePrekey.keyId = 2;
    return { alice, bob, spk, bundle };
  };
  const sessions = () => {
    const { alice, bob, spk, bundle } = pair();
    const started = x3dh.initiate(alice.seed, bundle);
    const answered = x3dh.respond({
      identitySeed: bob.seed, signedPrekeyPrivate: spk.privateKey,
      oneTimePrekeyPrivate: bundle.oneTimePrekey.privateKey,
      peerIdentityKey: alice.publicKey, ephemeralKey: started.header.ephemeralKey,
    });
    return {
      a: R.initInitiator(started.sharedSecret, started.remoteSignedPrekey),
      b: R.initResponder(answered.sharedSecret, spk.privateKey, spk.publicKey),
    };
  };
  const chain = (count) => {
    let { a, b } = sessions();
    const sent = [];
    for (let i = 0; i < count; i++) {
      const r = R.encrypt(a, text);
      a = r.state;
      sent.push(r.message);
    }
    return { b, sent };
  };
  const run = (count) => {
    time("ratchet encrypt", count, () => sessions().a, (s) => R.encrypt(s, text).state);
    const one = chain(count);
    time("ratchet decrypt", count, () => one.b, (s, i) => R.decrypt(s, one.sent[i]).state);
    const two = chain(count);
    time("ratchet decrypt + persist", count, () => R.serialize(two.b),
      (stored, i) => R.serialize(R.decrypt(R.deserialize(stored), two.sent[i]).state));
    time("ratchet turn (encrypt + decrypt)", count, () => {
      const { a, b } = sessions();
      const first = R.encrypt(a, text);
      return { from: R.decrypt(b, first.message).state, to: first.state };
    }, ({ from, to }) => {
      const r = R.encrypt(from, text);
      return { from: R.decrypt(to, r.message).state, to: r.state };
    });
    const sender = S.generateSenderKey(bytes.utf8Encode("00000000-0000-4000-8000-000000000000"));
    const receiver = S.receiverFromDistribution(S.distributionOf(sender));
    time("sender key encrypt", count, () => sender, (s) => S.encryptGroup(s, text).state);
    const group = [];
    let g = sender;
    for (let i = 0; i < count; i++) {
      const r = S.encryptGroup(g, text);
      g = r.state;
      group.push(r.message);
    }
    time("sender key decrypt", count, () => receiver, (s, i) => S.decryptGroup(s, group[i]).state);
    const fixed = pair();
    time("x3dh initiate", Math.min(count, 200), () => null,
      () => x3dh.initiate(fixed.alice.seed, fixed.bundle));
    const header = x3dh.initiate(fixed.alice.seed, fixed.bundle).header;
    time("x3dh respond", Math.min(count, 200), () => null, () => x3dh.respond({
      identitySeed: fixed.bob.seed, signedPrekeyPrivate: fixed.spk.privateKey,
      oneTimePrekeyPrivate: fixed.bundle.oneTimePrekey.privateKey,
      peerIdentityKey: fixed.alice.publicKey, ephemeralKey: header.ephemeralKey,
    }));
  };
  run(Math.min(messages, 200)); // warm-up: let the JIT settle
  run(messages);
  return results;
}
"""


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def bench(args: argparse.Namespace) -> dict[str, list[float]]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = await browser.new_page()

            async def serve(route: Any) -> None:
                path = unquote(urlsplit(route.request.url).path)
                if path == "/":
                    await route.fulfill(body=PAGE, content_type="text/html; charset=utf-8")
                    return
                file = (WEB / path.lstrip("/")).resolve()
                if not file.is_relative_to(WEB) or not file.is_file():
                    await route.fulfill(status=404, body="not found")
                    return
                await route.fulfill(body=file.read_bytes(), content_type="text/javascript")

            await page.route(f"{ORIGIN}/**", serve)
            await page.goto(f"{ORIGIN}/")
            await page.wait_for_function("window.ready === true", timeout=10_000)
            options = {"messages": args.messages, "batch": args.batch, "size": args.size}
            result: dict[str, list[float]] = await page.evaluate(BENCH, options)
            return result
        finally:
            await browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000, help="operations per figure")
    parser.add_argument("--batch", type=int, default=10, help="operations per timed batch")
    parser.add_argument("--size", type=int, default=200, help="plaintext bytes")
    args = parser.parse_args()
    results = asyncio.run(bench(args))
    print(f"{'operation':36} {'median µs':>10} {'p99 µs':>10}   ({args.size}-byte text)")
    for name, samples in results.items():
        median = percentile(samples, 0.5)
        print(f"{name:36} {median:10.0f} {percentile(samples, 0.99):10.0f}")


if __name__ == "__main__":
    main()
