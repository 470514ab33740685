// End-to-end encryption in the conversation view. On an instance with encryption on, this client
// encrypts every message it sends; while it cannot (its keys are still starting, locked behind the
// password in this browser, or unusable here) it sends nothing, so no plaintext ever goes where
// other members' apps expect ciphertext, and the notice says why and what to do.

import { html, useState } from "../html.js";
import { useStore } from "../store.js";
import { api } from "../api.js";
import { app, toast } from "../state.js";
import { encryption, startEncryption, unlockWithPassword } from "../e2e/account.js";

/** Why the composer is off because of encryption, or null when sending is possible. */
export function e2eBlocksSending(config, status) {
  if (!config || !config.e2e_enabled || status === "ready") return null;
  if (status === "locked") return "Unlock encryption in this browser (above) to send messages.";
  if (status === "unavailable") return "End-to-end encryption does not work in this browser, so messages cannot be sent here.";
  return "End-to-end encryption is starting…";
}

export async function turnOffE2e() {
  await api.admin.saveSettings({ e2e_enabled: "false" });
  const config = await api.auth.config();
  app.set({ config });
}

function UnlockForm() {
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const submit = async (event) => {
    event.preventDefault();
    if (!password) return;
    setBusy(true);
    setError(null);
    try {
      const after = await unlockWithPassword(password);
      if (after.status !== "ready") setError(after.error || "Encryption could not start.");
    } catch (failure) {
      setError(failure.message || String(failure));
    } finally {
      setBusy(false);
      setPassword("");
    }
  };
  return html`<form class="row e2e-unlock" onSubmit=${submit}>
    <label class="visually-hidden" for="e2e-unlock-password">Your password</label>
    <input id="e2e-unlock-password" type="password" autocomplete="current-password" placeholder="Your password"
      value=${password} onInput=${(event) => setPassword(event.target.value)} />
    <button type="submit" class="small primary" disabled=${busy || !password}>Unlock</button>
    ${error && html`<span class="error small" role="alert">${error}</span>`}
  </form>`;
}

export function E2eNotice({ config, me }) {
  const state = useStore(encryption);
  const [busy, setBusy] = useState(false);
  if (!e2eBlocksSending(config, state.status)) return null;
  const admin = me && (me.is_admin || me.is_owner);
  const turnOff = async () => {
    if (!confirm("Turn end-to-end encryption off for everyone on this server? Messages will then be stored readable by the server.")) return;
    setBusy(true);
    try {
      await turnOffE2e();
      toast("End-to-end encryption is off: messages are sent as plain text.", "info");
    } catch (failure) {
      toast(failure.message);
    } finally {
      setBusy(false);
    }
  };
  if (state.status === "locked") {
    return html`<div class="e2e-notice" role="note">
      <strong>Your encryption keys in this browser are locked.</strong>
      <span> Enter your password to read and send encrypted messages. It stays on this device; it is used to
        open the keys this browser keeps sealed.</span>
      <${UnlockForm} />
    </div>`;
  }
  if (state.status === "unavailable") {
    return html`<div class="e2e-notice" role="note">
      <strong>End-to-end encryption is on for this server, but it cannot start in this browser.</strong>
      <span> ${state.error ? `(${state.error}) ` : ""}So that nobody receives unencrypted messages where they expect
        encrypted ones, nothing is sent from here. A private window or a browser without storage is the usual
        cause.${admin ? " You can also turn encryption off for this server:" : ""}</span>
      <button type="button" class="small" onClick=${() => me && startEncryption(me.id)}>Try again</button>
      ${admin &&
      html` <button type="button" class="small" disabled=${busy} onClick=${turnOff}>Turn off end-to-end encryption</button>`}
    </div>`;
  }
  return html`<div class="e2e-notice subtle" role="status">Starting end-to-end encryption…</div>`;
}
