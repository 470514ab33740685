// Signing in, registering (with an invite code; the recovery code shown once) and recovering an
// account with its recovery code.

import { html, useEffect, useState } from "../html.js";
import { api } from "../api.js";
import { session } from "../session.js";
import { navigate } from "../router.js";
import { keepRegistrationKeys, registrationKeys, unlockAtSignIn } from "../e2e/account.js";
import { Dialog, ErrorText, Field, useSubmit } from "./common.js";

function AuthPage({ title, children, footer }) {
  return html`
    <main class="auth-page" id="main">
      <div class="auth-card">
        <div class="brand" aria-hidden="true">Chatalot</div>
        <h1>${title}</h1>
        ${children}
        <div class="auth-footer">${footer}</div>
      </div>
    </main>
  `;
}

function Link({ to, children }) {
  return html`<a href=${to} onClick=${(event) => {
    event.preventDefault();
    navigate(to);
  }}>${children}</a>`;
}

export function LoginPage({ next }) {
  const [form, setForm] = useState({ username: "", password: "", totp: "" });
  const [needsCode, setNeedsCode] = useState(false);
  const set = (key) => (event) => setForm({ ...form, [key]: event.target.value });

  const { busy, error, submit } = useSubmit(async () => {
    const body = { username: form.username.trim(), password: form.password };
    if (needsCode) body.totp_code = form.totp.trim();
    let result;
    try {
      result = await api.auth.login(body);
    } catch (failure) {
      if (failure.message === "2FA code required") {
        setNeedsCode(true); // the code field appears; no error
        return;
      }
      if (failure.status === 401) {
        throw new Error(needsCode ? "That code is not valid." : "Wrong username or password.");
      }
      throw failure;
    }
    // the password opens this browser's sealed encryption keys (new ones are made if it cannot)
    await unlockAtSignIn(result.user.id, form.password).catch(() => {});
    session.store(result);
    navigate(next || "/channels/@me", { replace: true });
  });

  return html`
    <${AuthPage}
      title="Sign in"
      footer=${html`<p>New here? <${Link} to=${"/register" + location.search}>Create an account<//></p>
        <p><${Link} to="/recover">Forgot your password?<//></p>`}
    >
      <form onSubmit=${submit} novalidate>
        <${Field} label="Username" name="username" autocomplete="username" required autofocus
          value=${form.username} onInput=${set("username")} />
        <${Field} label="Password" name="password" type="password" autocomplete="current-password"
          required value=${form.password} onInput=${set("password")} />
        ${needsCode &&
        html`<${Field} label="Two-factor code" name="totp" inputmode="numeric" autocomplete="one-time-code"
          hint="The 6-digit code from your authenticator app, or one of your backup codes."
          autofocus value=${form.totp} onInput=${set("totp")} />`}
        <${ErrorText} error=${error} />
        <button class="primary" type="submit" disabled=${busy}>${busy ? "Signing in…" : "Sign in"}</button>
      </form>
    <//>
  `;
}

export function RecoveryCodeDialog({ code, onDone, title = "Save your recovery code" }) {
  const [saved, setSaved] = useState(false);
  const copy = () => navigator.clipboard && navigator.clipboard.writeText(code).catch(() => {});
  return html`
    <${Dialog} title=${title}>
      <p>This code is the only way back into your account if you forget your password. It is shown
        once: write it down or keep it in a password manager.</p>
      <p class="recovery-code" data-testid="recovery-code">${code}</p>
      <div class="row">
        <button type="button" onClick=${copy}>Copy</button>
      </div>
      <label class="checkbox">
        <input type="checkbox" checked=${saved} onChange=${(event) => setSaved(event.target.checked)} />
        I have saved my recovery code
      </label>
      <div class="dialog-actions">
        <button class="primary" type="button" disabled=${!saved} onClick=${onDone}>Continue</button>
      </div>
    <//>
  `;
}

export function RegisterPage({ inviteCode: presetCode, next }) {
  const [config, setConfig] = useState(null);
  const [form, setForm] = useState({
    username: "",
    display_name: "",
    email: "",
    password: "",
    invite_code: presetCode || "",
  });
  const [recoveryCode, setRecoveryCode] = useState(null);
  const set = (key) => (event) => setForm({ ...form, [key]: event.target.value });

  useEffect(() => {
    api.auth.config().then(setConfig).catch(() => setConfig({ registration_mode: "open" }));
  }, []);

  const { busy, error, submit } = useSubmit(async () => {
    const keys = registrationKeys();
    const body = {
      username: form.username.trim(),
      display_name: form.display_name.trim() || form.username.trim(),
      email: form.email.trim(),
      password: form.password,
      invite_code: form.invite_code.trim() || null,
      ...keys.request,
    };
    const result = await api.auth.register(body);
    // the private halves stay in this browser, sealed with a key derived from the password
    await keepRegistrationKeys(result.user.id, form.password, keys).catch(() => {});
    // signed in only once the code is acknowledged (signing in leaves this page)
    setRecoveryCode({ code: result.recovery_code, result });
  });

  const finish = () => {
    const { access_token, refresh_token, user } = recoveryCode.result;
    session.store({ access_token, refresh_token, user });
    navigate(next || "/channels/@me", { replace: true });
  };

  const mode = config ? config.registration_mode : "open";
  return html`
    <${AuthPage}
      title="Create an account"
      footer=${html`<p>Already have an account? <${Link} to=${"/login" + location.search}>Sign in<//></p>`}
    >
      ${mode === "closed"
        ? html`<p class="notice">Registration is closed on this server. Ask its administrator for an account.</p>`
        : html`
            <form onSubmit=${submit} novalidate>
              <${Field} label="Username" name="username" autocomplete="username" required autofocus
                hint="3-32 letters, digits, '_', '-' or '.'" value=${form.username} onInput=${set("username")} />
              <${Field} label="Display name" name="display_name" autocomplete="nickname"
                value=${form.display_name} onInput=${set("display_name")} />
              <${Field} label="Email" name="email" type="email" autocomplete="email" required
                value=${form.email} onInput=${set("email")} />
              <${Field} label="Password" name="password" type="password" autocomplete="new-password" required
                hint="At least 8 characters with an upper-case letter, a lower-case letter, a digit and a symbol."
                value=${form.password} onInput=${set("password")} />
              <${Field} label=${mode === "invite_only" ? "Invite code" : "Invite code (optional)"}
                name="invite_code" value=${form.invite_code} onInput=${set("invite_code")} />
              <${ErrorText} error=${error} />
              <button class="primary" type="submit" disabled=${busy}>
                ${busy ? "Creating your account…" : "Create account"}
              </button>
            </form>
          `}
      ${recoveryCode && html`<${RecoveryCodeDialog} code=${recoveryCode.code} onDone=${finish} />`}
    <//>
  `;
}

export function RecoverPage() {
  const [form, setForm] = useState({ username: "", recovery_code: "", new_password: "" });
  const [newCode, setNewCode] = useState(null);
  const set = (key) => (event) => setForm({ ...form, [key]: event.target.value });

  const { busy, error, submit } = useSubmit(async () => {
    const result = await api.auth.recover({
      username: form.username.trim(),
      recovery_code: form.recovery_code.trim().toUpperCase(),
      new_password: form.new_password,
    });
    setNewCode(result.recovery_code);
  });

  return html`
    <${AuthPage}
      title="Recover your account"
      footer=${html`<p><${Link} to="/login">Back to sign in<//></p>`}
    >
      <form onSubmit=${submit} novalidate>
        <${Field} label="Username" name="username" autocomplete="username" required autofocus
          value=${form.username} onInput=${set("username")} />
        <${Field} label="Recovery code" name="recovery_code" placeholder="XXXX-XXXX-XXXX-XXXX" required
          value=${form.recovery_code} onInput=${set("recovery_code")} />
        <${Field} label="New password" name="new_password" type="password" autocomplete="new-password"
          required value=${form.new_password} onInput=${set("new_password")} />
        <${ErrorText} error=${error} />
        <button class="primary" type="submit" disabled=${busy}>Set new password</button>
      </form>
      ${newCode &&
      html`<${RecoveryCodeDialog} code=${newCode} title="Your new recovery code"
        onDone=${() => navigate("/login", { replace: true })} />`}
    <//>
  `;
}
