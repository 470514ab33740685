// Checking who you talk to: the safety number two people compare (the same on both sides, equal to
// the original Chatalot apps' for the same keys), both fingerprints, and the warning shown in a DM
// when the other person's identity key changed (a new device, a reinstall, or someone in between).

import { html, useEffect, useState } from "../html.js";
import { useStore } from "../store.js";
import { encryption, onEncryptionEvent } from "../e2e/account.js";
import { Dialog } from "./common.js";

function usePeerIdentity(peerId) {
  const engine = useStore(encryption, (state) => (state.status === "ready" ? state.engine : null));
  const [info, setInfo] = useState(null);
  const [version, setVersion] = useState(0);
  useEffect(
    () =>
      onEncryptionEvent((event) => {
        if (event.userId === peerId) setVersion((value) => value + 1);
      }),
    [peerId],
  );
  useEffect(() => {
    let live = true;
    if (!engine || !peerId) {
      setInfo(null);
      return undefined;
    }
    engine.identityInfo(peerId).then(
      (found) => live && setInfo(found),
      () => live && setInfo(null),
    );
    return () => {
      live = false;
    };
  }, [engine, peerId, version]);
  const refresh = () => setVersion((value) => value + 1);
  return { engine, info, refresh };
}

export function SafetyNumberDialog({ peerId, name, onClose }) {
  const { engine, info, refresh } = usePeerIdentity(peerId);
  const verify = async () => {
    await engine.markVerified(peerId);
    refresh();
  };
  let body;
  if (!engine) {
    body = html`<p>End-to-end encryption is not running in this browser.</p>`;
  } else if (!info) {
    body = html`<p>Loading…</p>`;
  } else if (!info.safetyNumber) {
    body = html`<p>You have not exchanged encrypted messages with ${name} yet. Send one, then compare.</p>
      <p>Your fingerprint: <code class="fingerprint">${info.fingerprint}</code></p>`;
  } else {
    const groups = info.safetyNumber.split(" ");
    body = html`
      <p>Compare this number with ${name}, in person or on a call. If it is the same on both
        screens, nobody is reading your messages in between.</p>
      <p class="safety-number" aria-label=${"Safety number " + info.safetyNumber}>
        ${groups.map((group, index) => html`<span key=${index}>${group}</span>`)}
      </p>
      <dl class="fingerprints">
        <dt>Your fingerprint</dt><dd><code class="fingerprint">${info.fingerprint}</code></dd>
        <dt>${name}'s fingerprint</dt><dd><code class="fingerprint">${info.peerFingerprint}</code></dd>
      </dl>
      ${info.peerVerified
        ? html`<p class="verified" role="status">You marked ${name} as verified.</p>`
        : html`<button type="button" class="primary" onClick=${verify}>The numbers match: mark as verified</button>`}
    `;
  }
  return html`<${Dialog} title=${"Verify " + name} onClose=${onClose}>
    ${body}
    <div class="row end"><button type="button" onClick=${onClose}>Close</button></div>
  <//>`;
}

/** The banner in a DM whose peer's identity key changed since it was first seen. */
export function IdentityWarning({ peerId, name }) {
  const { info } = usePeerIdentity(peerId);
  const [open, setOpen] = useState(false);
  // kept while its dialog is open: marking the peer verified there ends the warning on close
  if (!info || (!info.peerChanged && !open)) return null;
  return html`
    <div class="identity-warning" role="alert">
      <strong>${name}'s security key changed.</strong>
      <span> This happens when they sign in on a new device or reinstall, or if someone is
        intercepting the conversation. Compare safety numbers to be sure.</span>
      <button type="button" class="small" onClick=${() => setOpen(true)}>Verify</button>
      ${open && html`<${SafetyNumberDialog} peerId=${peerId} name=${name} onClose=${() => setOpen(false)} />`}
    </div>
  `;
}
