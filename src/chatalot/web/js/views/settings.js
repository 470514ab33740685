// Settings: profile, appearance, notifications, password, sessions, recovery code; and for
// instance administrators the end-to-end encryption switch.

import { html, useEffect, useState } from "../html.js";
import { useStore } from "../store.js";
import { app, toast } from "../state.js";
import { api } from "../api.js";
import { session } from "../session.js";
import { navigate } from "../router.js";
import { currentTheme, setTheme } from "../theme.js";
import { turnOffE2e } from "./e2e.js";
import { encryption, passwordChanged, signOutEncryption } from "../e2e/account.js";
import { disablePush, enablePush, pushState } from "../push.js";
import { RecoveryCodeDialog } from "./auth.js";
import { Avatar, ErrorText, Field } from "./common.js";

function Profile({ me }) {
  const [name, setName] = useState(me.display_name || "");
  const [error, setError] = useState(null);
  const save = async (event) => {
    event.preventDefault();
    setError(null);
    try {
      const user = await api.account.updateProfile({ display_name: name.trim() });
      app.set({ me: user });
      session.setUser(user);
      toast("Profile saved", "info");
    } catch (failure) {
      setError(failure.message);
    }
  };
  return html`<section aria-labelledby="profile-h">
    <h2 id="profile-h">Profile</h2>
    <${AvatarPicker} me=${me} />
    <form onSubmit=${save}>
      <${Field} label="Display name" value=${name} maxlength="64" onInput=${(event) => setName(event.target.value)} />
      <${ErrorText} error=${error} />
      <button type="submit" class="primary">Save profile</button>
    </form>
  </section>`;
}

function AvatarPicker({ me }) {
  const [progress, setProgress] = useState(null);
  const choose = async (event) => {
    const file = event.target.files[0];
    event.target.value = "";
    if (!file) return;
    const form = new FormData();
    form.append("avatar", file);
    setProgress(0);
    try {
      const user = await api.account.uploadAvatar(form, setProgress);
      app.set({ me: user });
      session.setUser(user);
      toast("Picture saved", "info");
    } catch (failure) {
      toast(failure.message);
    } finally {
      setProgress(null);
    }
  };
  return html`<div class="row">
    <${Avatar} name=${me.display_name || me.username} url=${me.avatar_url} size=${56} />
    <label class="button-like">
      Change picture
      <input type="file" accept="image/png,image/jpeg,image/webp,image/gif" class="visually-hidden" onChange=${choose} />
    </label>
    ${progress !== null && html`<progress max="1" value=${progress} aria-label="Uploading picture"></progress>`}
  </div>`;
}

function TwoFactor() {
  const [step, setStep] = useState("idle"); // idle | setup | enabled
  const [setup, setSetup] = useState(null);
  const [code, setCode] = useState("");
  const [backupCodes, setBackupCodes] = useState(null);
  const [error, setError] = useState(null);
  const run = async (action) => {
    setError(null);
    try {
      await action();
    } catch (failure) {
      setError(failure.message);
    }
  };
  const begin = () =>
    run(async () => {
      try {
        setSetup(await api.totp.setup());
        setStep("setup");
      } catch (failure) {
        if (failure.status === 409) setStep("enabled");
        else throw failure;
      }
    });
  const verify = (event) => {
    event.preventDefault();
    run(async () => {
      const result = await api.totp.verify(code.trim());
      setBackupCodes(result.backup_codes);
      setCode("");
      setStep("enabled");
    });
  };
  const disable = () =>
    run(async () => {
      await api.totp.disable(code.trim());
      setCode("");
      setStep("idle");
      toast("Two-factor authentication is off", "info");
    });
  const regenerate = () =>
    run(async () => {
      setBackupCodes((await api.totp.regenerateBackupCodes(code.trim())).backup_codes);
      setCode("");
    });
  return html`<section aria-labelledby="totp-h">
    <h2 id="totp-h">Two-factor authentication</h2>
    ${step === "idle" &&
    html`<p class="muted">Ask for a code from an authenticator app when signing in.</p>
      <button type="button" onClick=${begin}>Set up or manage two-factor authentication</button>`}
    ${step === "setup" && setup &&
    html`<p>Add this key to your authenticator app (or open the link on the device that has the app),
        then enter the code it shows.</p>
      <p class="recovery-code" data-testid="totp-secret">${setup.secret}</p>
      <p><a href=${setup.otpauth_url}>Open in an authenticator app</a></p>
      <form onSubmit=${verify}>
        <${Field} label="Code from the app" inputmode="numeric" autocomplete="one-time-code" value=${code}
          onInput=${(event) => setCode(event.target.value)} />
        <button type="submit" class="primary">Turn on</button>
      </form>`}
    ${step === "enabled" &&
    html`<p>Two-factor authentication is on. Enter a current code from your app to turn it off or to get new backup codes.</p>
      <${Field} label="Code from the app" inputmode="numeric" autocomplete="one-time-code" value=${code}
        onInput=${(event) => setCode(event.target.value)} />
      <div class="row">
        <button type="button" onClick=${regenerate}>New backup codes</button>
        <button type="button" class="danger" onClick=${disable}>Turn off</button>
      </div>`}
    ${backupCodes &&
    html`<div class="notice" role="status">
      <p>Backup codes (each works once, when your app is not at hand). They are shown only now:</p>
      <ul class="backup-codes" data-testid="backup-codes">${backupCodes.map((item) => html`<li key=${item}><code>${item}</code></li>`)}</ul>
    </div>`}
    <${ErrorText} error=${error} />
  </section>`;
}

function Appearance() {
  const [theme, setChoice] = useState(currentTheme());
  return html`<section aria-labelledby="appearance-h">
    <h2 id="appearance-h">Appearance</h2>
    <fieldset class="choices">
      <legend>Theme</legend>
      ${[
        ["system", "Same as the system"],
        ["dark", "Dark"],
        ["light", "Light"],
      ].map(
        ([value, label]) => html`<label class="checkbox">
          <input type="radio" name="theme" value=${value} checked=${theme === value}
            onChange=${() => {
              setChoice(value);
              setTheme(value);
            }} /> ${label}
        </label>`,
      )}
    </fieldset>
  </section>`;
}

function PushSwitch() {
  const [state, setState] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    pushState().then(setState, () => setState("unavailable"));
  }, []);
  if (!state || state === "unavailable") return null;
  const toggle = async () => {
    setBusy(true);
    try {
      if (state === "on") await disablePush();
      else await enablePush();
      setState(await pushState());
    } catch (failure) {
      toast(failure.message);
    } finally {
      setBusy(false);
    }
  };
  return html`<p>
    ${state === "on" ? "Push notifications are on in this browser, also when no Chatalot tab is open." : "Push notifications reach this browser even when no Chatalot tab is open."}
    <button type="button" disabled=${busy} onClick=${toggle}>${state === "on" ? "Turn off push" : "Turn on push"}</button>
  </p>`;
}

function Notifications() {
  const supported = "Notification" in window;
  const [permission, setPermission] = useState(supported ? Notification.permission : "unsupported");
  return html`<section aria-labelledby="notifications-h">
    <h2 id="notifications-h">Notifications</h2>
    ${!supported && html`<p class="muted">This browser does not support notifications.</p>`}
    ${supported && permission === "granted" && html`<p>Desktop notifications are on for direct messages and mentions.</p>`}
    ${supported && permission === "denied" && html`<p class="muted">Notifications are blocked in this browser's site settings.</p>`}
    ${supported && permission === "default" &&
    html`<button type="button" onClick=${() => Notification.requestPermission().then(setPermission)}>
      Turn on desktop notifications</button>`}
    <${PushSwitch} />
  </section>`;
}

function Privacy() {
  const [preferences, setPreferences] = useState(null);
  useEffect(() => {
    api.account.preferences().then((result) => setPreferences(result.preferences || {}), () => setPreferences({}));
  }, []);
  if (!preferences) return null;
  const receipts = preferences.sendReadReceipts !== false;
  const toggle = async (event) => {
    const value = event.target.checked;
    try {
      const result = await api.account.savePreferences({ sendReadReceipts: value });
      setPreferences(result.preferences || {});
    } catch (failure) {
      toast(failure.message);
    }
  };
  return html`<section aria-labelledby="privacy-h">
    <h2 id="privacy-h">Privacy</h2>
    <label class="checkbox">
      <input type="checkbox" checked=${receipts} onChange=${toggle} />
      Let others see when I have read their messages (read receipts)
    </label>
  </section>`;
}

function Password() {
  const [form, setForm] = useState({ current_password: "", new_password: "" });
  const [error, setError] = useState(null);
  const save = async (event) => {
    event.preventDefault();
    setError(null);
    try {
      await api.account.changePassword(form);
      // this browser's encryption keys are sealed again under the new password
      await passwordChanged(form.new_password).catch(() => {});
      setForm({ current_password: "", new_password: "" });
      toast("Password changed", "info");
    } catch (failure) {
      setError(failure.message);
    }
  };
  return html`<section aria-labelledby="password-h">
    <h2 id="password-h">Password</h2>
    <form onSubmit=${save}>
      <${Field} label="Current password" type="password" autocomplete="current-password" value=${form.current_password}
        onInput=${(event) => setForm({ ...form, current_password: event.target.value })} />
      <${Field} label="New password" type="password" autocomplete="new-password" value=${form.new_password}
        onInput=${(event) => setForm({ ...form, new_password: event.target.value })} />
      <${ErrorText} error=${error} />
      <button type="submit">Change password</button>
    </form>
  </section>`;
}

function Sessions() {
  const [sessions, setSessions] = useState(null);
  const [error, setError] = useState(null);
  const load = () => api.account.sessions().then(setSessions).catch((failure) => setError(failure.message));
  useEffect(() => {
    load();
  }, []);
  const revoke = async (id) => {
    try {
      await api.account.revokeSession(id);
      load();
    } catch (failure) {
      setError(failure.message);
    }
  };
  return html`<section aria-labelledby="sessions-h">
    <h2 id="sessions-h">Signed-in devices</h2>
    <${ErrorText} error=${error} />
    <ul class="plain-list">
      ${(sessions || []).map(
        (item) => html`<li key=${item.id} class="row">
          <span class="grow">${item.device_name || "Unknown device"} · ${item.ip_address || ""}
            · since ${new Date(item.created_at).toLocaleDateString()}${item.current ? " (this device)" : ""}</span>
          ${!item.current && html`<button type="button" onClick=${() => revoke(item.id)}>Sign out</button>`}
        </li>`,
      )}
    </ul>
  </section>`;
}

function Recovery() {
  const [code, setCode] = useState(null);
  const regenerate = async () => {
    if (!confirm("Make a new recovery code? The old one stops working.")) return;
    try {
      setCode((await api.account.regenerateRecoveryCode()).recovery_code);
    } catch (failure) {
      toast(failure.message);
    }
  };
  return html`<section aria-labelledby="recovery-h">
    <h2 id="recovery-h">Recovery code</h2>
    <p class="muted">Lets you back into your account if you forget your password.</p>
    <button type="button" onClick=${regenerate}>Make a new recovery code</button>
    ${code && html`<${RecoveryCodeDialog} code=${code} title="Your new recovery code" onDone=${() => setCode(null)} />`}
  </section>`;
}

function DeviceEncryption({ config }) {
  const state = useStore(encryption);
  const [fingerprint, setFingerprint] = useState(null);
  useEffect(() => {
    if (state.status !== "ready") return;
    state.engine.identityInfo().then((info) => setFingerprint(info.fingerprint), () => {});
  }, [state.engine, state.status]);
  const words = {
    ready: "Ready: this browser holds your keys, sealed with a key derived from your password.",
    starting: "Starting…",
    locked: "Locked: open any conversation and enter your password in the notice there to unlock.",
    unavailable: `Not available in this browser: ${state.error || "unknown error"}.`,
    off: "Not started.",
  };
  return html`<section aria-labelledby="device-e2e-h">
    <h2 id="device-e2e-h">Encryption in this browser</h2>
    <p>${words[state.status] || state.status}${config && !config.e2e_enabled ? " This server has end-to-end encryption off." : ""}</p>
    ${fingerprint && html`<p>Your fingerprint (others see it when they verify you):
      <code class="fingerprint">${fingerprint}</code></p>`}
  </section>`;
}

function InstanceEncryption({ config }) {
  const [busy, setBusy] = useState(false);
  const on = Boolean(config && config.e2e_enabled);
  const set = async (value) => {
    setBusy(true);
    try {
      if (value) await api.admin.saveSettings({ e2e_enabled: "true" });
      else await turnOffE2e();
      app.set({ config: await api.auth.config() });
    } catch (failure) {
      toast(failure.message);
    } finally {
      setBusy(false);
    }
  };
  return html`<section aria-labelledby="e2e-h">
    <h2 id="e2e-h">End-to-end encryption (this server)</h2>
    <p>${on
      ? "On: the Chatalot apps encrypt every message before it leaves the device. Direct messages can be read only by the two people in them; channel messages use sender keys that, for compatibility with the original apps, are shared through the server, so the server could read them. This web client encrypts too; each browser keeps its keys sealed with a key derived from the user's password."
      : "Off: messages are sent as plain text (over HTTPS) and stored readable by the server, which can then search them."}</p>
    <button type="button" disabled=${busy} onClick=${() => set(!on)}>
      ${on ? "Turn encryption off" : "Turn encryption on"}
    </button>
  </section>`;
}

export function SettingsPage() {
  const me = useStore(app, (state) => state.me);
  const config = useStore(app, (state) => state.config);
  if (!me) return null;
  const signOut = async () => {
    session.clear();
    await signOutEncryption();
    location.assign("/login");
  };
  return html`
    <main class="settings-page" id="main">
      <header class="row">
        <button type="button" class="link" onClick=${() => navigate("/channels/@me")}>← Back</button>
        <h1 class="grow">Settings</h1>
        ${(me.is_admin || me.is_owner) &&
        html`<button type="button" onClick=${() => navigate("/admin")}>Server administration</button>`}
        <button type="button" class="danger" onClick=${signOut}>Sign out</button>
      </header>
      <${Profile} me=${me} />
      <${Appearance} />
      <${Notifications} />
      <${Privacy} />
      <${Password} />
      <${TwoFactor} />
      <${Sessions} />
      <${Recovery} />
      <${DeviceEncryption} config=${config} />
      ${(me.is_admin || me.is_owner) && html`<${InstanceEncryption} config=${config} />`}
    </main>
  `;
}
