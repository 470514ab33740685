// End-to-end encryption and this client: until it encrypts, it never sends plaintext where other
// members' apps expect ciphertext. On an instance with encryption on it says so, reads what it can
// (plaintext messages), and lets the instance owner or an admin switch encryption off.

import { html, useState } from "../html.js";
import { api } from "../api.js";
import { app, toast } from "../state.js";

export function e2eBlocksSending(config) {
  return Boolean(config && config.e2e_enabled);
}

export async function turnOffE2e() {
  await api.admin.saveSettings({ e2e_enabled: "false" });
  const config = await api.auth.config();
  app.set({ config });
}

export function E2eNotice({ config, me }) {
  const [busy, setBusy] = useState(false);
  if (!e2eBlocksSending(config)) return null;
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
  return html`
    <div class="e2e-notice" role="note">
      <strong>End-to-end encryption is on for this server, and this web client cannot encrypt yet.</strong>
      <span> So that nobody receives unencrypted messages where they expect encrypted ones, it does not
        send messages here. Plain-text messages are shown; encrypted ones are marked with a lock. Use a Chatalot
        app that encrypts${admin ? ", or turn encryption off for this server:" : ", or ask an administrator to turn encryption off."}</span>
      ${admin &&
      html` <button type="button" class="small" disabled=${busy} onClick=${turnOff}>Turn off end-to-end encryption</button>`}
    </div>
  `;
}
