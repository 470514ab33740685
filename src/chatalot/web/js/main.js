// Entry point: picks the page for the URL, starts the realtime connection once signed in, and
// keeps the data current after reconnects.

import { html, render, useEffect, useState } from "./html.js";
import { useStore } from "./store.js";
import { route, navigate } from "./router.js";
import { session } from "./session.js";
import { setSignedOutHandler } from "./api.js";
import { realtime } from "./ws.js";
import { app, toast } from "./state.js";
import { catchUp, describeError, loadEverything, refreshActive, wireRealtime } from "./actions.js";
import { applyTheme } from "./theme.js";
import { signOutEncryption, startEncryption } from "./e2e/account.js";
import { wireEncryptionEvents } from "./e2e/realtime.js";
import { LoginPage, RecoverPage, RegisterPage } from "./views/auth.js";
import { InvitePage } from "./views/dialogs.js";
import { Shell } from "./views/shell.js";
import { SettingsPage } from "./views/settings.js";
import { AdminPage } from "./views/admin.js";
import { SavedPage } from "./views/saved.js";
import { Toasts } from "./views/common.js";

applyTheme();

const PUBLIC = new Set(["login", "register", "recover"]);

function signedOut() {
  realtime.stop();
  signOutEncryption();
  app.set({ loaded: false, me: null, communities: [], dms: [], messages: {}, channels: {} });
  const here = location.pathname;
  navigate(PUBLIC.has(route.get().name) ? here : `/login?next=${encodeURIComponent(here)}`, { replace: true });
}

setSignedOutHandler(signedOut);
wireEncryptionEvents();

wireRealtime((channelId, text) => {
  const current = route.get();
  if (current.channelId === channelId) {
    toast(text, "info");
    navigate(current.name === "community" ? `/channels/${current.communityId}` : "/channels/@me", { replace: true });
  }
}, (communityId, text) => {
  toast(text, "info");
  if (route.get().communityId === communityId) navigate("/channels/@me", { replace: true });
});
realtime.on("ready", ({ reconnected }) => {
  if (reconnected) catchUp().catch((error) => toast(describeError(error)));
  else refreshActive().catch(() => {});
});
realtime.on("signed_out", () => {
  session.clear();
  signedOut();
});

function useSignedIn() {
  const [signedIn, setSignedIn] = useState(session.signedIn);
  useEffect(() => session.onChange(() => setSignedIn(session.signedIn)), []);
  return signedIn;
}

function nextParam() {
  const next = new URLSearchParams(location.search).get("next");
  return next && next.startsWith("/") && !next.startsWith("//") ? next : null;
}

function App() {
  const current = useStore(route);
  const signedIn = useSignedIn();
  const loaded = useStore(app, (state) => state.loaded);

  useEffect(() => {
    if (!signedIn) {
      realtime.stop();
      return;
    }
    realtime.start();
    if (session.user) startEncryption(session.user.id);
    if (!loaded) {
      loadEverything().catch((error) => {
        if (error.status !== 401) toast(describeError(error));
      });
    }
  }, [signedIn]);

  useEffect(() => {
    if (signedIn && (PUBLIC.has(current.name) || current.name === "home")) {
      navigate(nextParam() || "/channels/@me", { replace: true });
    } else if (!signedIn && !PUBLIC.has(current.name)) {
      const here = location.pathname;
      navigate(here === "/" ? "/login" : `/login?next=${encodeURIComponent(here)}`, { replace: true });
    }
  }, [signedIn, current.name]);

  let page;
  if (!signedIn) {
    if (current.name === "register") page = html`<${RegisterPage} next=${nextParam()} inviteCode=${new URLSearchParams(location.search).get("invite")} />`;
    else if (current.name === "recover") page = html`<${RecoverPage} />`;
    else page = html`<${LoginPage} next=${nextParam()} />`;
  } else if (current.name === "invite") {
    page = html`<${InvitePage} code=${current.code} />`;
  } else if (current.name === "settings") {
    page = html`<${SettingsPage} />`;
  } else if (current.name === "saved") {
    page = html`<${SavedPage} />`;
  } else if (current.name === "admin") {
    page = html`<${AdminPage} section=${current.section} />`;
  } else if (current.name === "not_found") {
    page = html`<main class="auth-page" id="main"><div class="auth-card"><h1>Page not found</h1>
      <p><a href="/channels/@me">Go to your conversations</a></p></div></main>`;
  } else {
    page = html`<${Shell} route=${current} />`;
  }
  return html`${page}<${Toasts} />`;
}

render(html`<${App} />`, document.getElementById("app"));
