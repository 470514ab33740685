// Community settings for its managers (owner, admins, the server's admins): name, description
// and welcome message, icon and banner, the theme colours, and custom emoji. Every section
// saves on its own and shows the server's answer when it refuses.

import { html, useEffect, useMemo, useRef, useState } from "../html.js";
import { api } from "../api.js";
import { useStore } from "../store.js";
import { app, toast } from "../state.js";
import { Dialog, ErrorText, Field, useSubmit } from "./common.js";
import { loadCommunityEmoji } from "./pickers.js";
import {
  THEME_KEYS,
  currentDefaults,
  labelOf,
  lowContrast,
  MIN_CONTRAST,
  completeTheme,
  sixDigits,
} from "./community_theme.js";

const IMAGE_TYPES = "image/png,image/jpeg,image/webp,image/gif";
const EMOJI_TYPES = "image/png,image/gif,image/webp";

/** Puts the server's answer (CommunityResponse) in the store at once; the community_updated
 * event that follows carries the same values. */
export function applyCommunity(row) {
  if (!row || !row.id) return;
  app.set((state) => ({
    ...state,
    communities: state.communities.map((community) =>
      community.id === row.id ? { ...community, ...row } : community,
    ),
  }));
}

/** Only our own server's images are shown (an icon_url may hold anything). */
export function ownImage(url) {
  return typeof url === "string" && url.startsWith("/api/") ? url : null;
}

/** A confirmation in place of a button: the first press asks, the second does it. */
export function ConfirmButton({ label, question, confirmLabel, onConfirm, disabled }) {
  const [asking, setAsking] = useState(false);
  const yes = useRef(null);
  const first = useRef(null);
  const wasAsking = useRef(false);
  useEffect(() => {
    // focus follows the question: onto "yes" when asked, back to the button when cancelled
    if (asking && yes.current) yes.current.focus();
    if (!asking && wasAsking.current && first.current) first.current.focus();
    wasAsking.current = asking;
  }, [asking]);
  if (!asking) {
    return html`<button type="button" class="danger" ref=${first} disabled=${disabled} onClick=${() => setAsking(true)}>${label}</button>`;
  }
  return html`<span class="confirm" role="group" aria-label=${question}>
    <span class="confirm-question">${question}</span>
    <button type="button" class="danger" ref=${yes} onClick=${async () => {
      wasAsking.current = false;
      setAsking(false);
      await onConfirm();
    }}>${confirmLabel}</button>
    <button type="button" onClick=${() => setAsking(false)}>Cancel</button>
  </span>`;
}

/** Focus to a section's heading (tabindex -1) once the row that had it is gone. */
export function focusHeading(id) {
  const heading = document.getElementById(id);
  if (heading) heading.focus();
}

function Details({ community, onSaved }) {
  const [form, setForm] = useState({
    name: community.name || "",
    description: community.description || "",
    welcome_message: community.welcome_message || "",
  });
  const { busy, error, submit } = useSubmit(async () => {
    const row = await api.manage.updateCommunity(community.id, {
      name: form.name.trim(),
      description: form.description.trim(),
      welcome_message: form.welcome_message,
    });
    onSaved(row);
    toast("Community saved", "info");
  });
  const set = (key) => (event) => setForm({ ...form, [key]: event.target.value });
  return html`<section class="manage-section" aria-labelledby="cs-details">
    <h3 id="cs-details">Details</h3>
    <form onSubmit=${submit}>
      <${Field} label="Community name" required maxlength="64" value=${form.name} onInput=${set("name")} />
      <${Field} label="Description" multiline rows="3" maxlength="2048" value=${form.description}
        onInput=${set("description")} />
      <${Field} label="Welcome message (shown to members before they pick a channel)" multiline rows="3"
        maxlength="2000" value=${form.welcome_message} onInput=${set("welcome_message")} />
      <${ErrorText} error=${error} />
      <div class="row"><button type="submit" class="primary" disabled=${busy || !form.name.trim()}>Save details</button></div>
    </form>
  </section>`;
}

/** Icon or banner: choose a file (previewed), upload it, or remove the current one. */
function ImagePicker({ community, which, label, onSaved }) {
  const [file, setFile] = useState(null);
  const [progress, setProgress] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const input = useRef(null);
  const preview = useMemo(() => (file ? URL.createObjectURL(file) : null), [file]);
  useEffect(() => () => preview && URL.revokeObjectURL(preview), [preview]);
  const current = ownImage(community[which + "_url"]);
  const run = async (action) => {
    setBusy(true);
    setError(null);
    try {
      onSaved(await action());
      return true;
    } catch (failure) {
      setError(failure.message || "Something went wrong");
      return false;
    } finally {
      setBusy(false);
      setProgress(null);
    }
  };
  const upload = async () => {
    const form = new FormData();
    form.append(which, file);
    setProgress(0);
    const done = await run(() =>
      (which === "icon" ? api.manage.uploadIcon : api.manage.uploadBanner)(community.id, form, setProgress),
    );
    if (done) {
      setFile(null);
      if (input.current) input.current.value = "";
      toast(label + " saved", "info");
    }
  };
  const remove = () => run(() => api.manage.updateCommunity(community.id, { [which + "_url"]: "" }));
  const id = `cs-${which}-file`;
  return html`<div class=${"image-picker image-" + which}>
    <h4>${label}</h4>
    <div class="image-previews">
      ${current
        ? html`<figure><img src=${current} alt=${"Current " + label.toLowerCase()} /><figcaption>Current</figcaption></figure>`
        : html`<p class="muted">No ${label.toLowerCase()} yet.</p>`}
      ${preview &&
      html`<figure><img src=${preview} alt=${"New " + label.toLowerCase() + " (not saved yet)"} /><figcaption>New</figcaption></figure>`}
    </div>
    <label for=${id}>Image for the ${label.toLowerCase()} (PNG, JPEG, WebP or GIF, up to 10 MB)</label>
    <input id=${id} type="file" accept=${IMAGE_TYPES} ref=${input}
      onChange=${(event) => {
        setError(null);
        setFile(event.target.files[0] || null);
      }} />
    <div class="row">
      <button type="button" class="primary" disabled=${!file || busy} onClick=${upload}>Upload ${label.toLowerCase()}</button>
      ${current && html`<button type="button" disabled=${busy} onClick=${remove}>Remove ${label.toLowerCase()}</button>`}
      ${progress !== null && html`<progress max="1" value=${progress} aria-label=${"Uploading " + label.toLowerCase()}></progress>`}
    </div>
    <${ErrorText} error=${error} />
  </div>`;
}

function themeForm(theme) {
  const values = {};
  for (const [key] of THEME_KEYS) values[key] = theme && typeof theme[key] === "string" ? theme[key] : "";
  return values;
}

function ThemeEditor({ community, onSaved }) {
  const [colours, setColours] = useState(() => themeForm(community.community_theme));
  const defaults = useMemo(currentDefaults, []);
  const { busy, error, submit } = useSubmit(async () => {
    const theme = {};
    for (const [key] of THEME_KEYS) {
      const value = colours[key].trim();
      if (value) theme[key] = value;
    }
    // the custom CSS is kept as it is (this client neither edits nor applies it)
    const old = community.community_theme;
    if (old && typeof old.customCss === "string" && old.customCss) theme.customCss = old.customCss;
    onSaved(await api.manage.updateCommunity(community.id, { community_theme: theme }));
    toast("Theme saved", "info");
  });
  const set = (key, value) => setColours((previous) => ({ ...previous, [key]: value }));
  const low = lowContrast(colours, defaults);
  const { all } = completeTheme(colours, defaults);
  const shown = (key) => sixDigits(colours[key]) || sixDigits(all[key]) || "#000000";
  return html`<section class="manage-section" aria-labelledby="cs-theme">
    <h3 id="cs-theme">Theme colours</h3>
    <p class="hint">Hex colours such as #5b6cff. Empty fields keep each member's own light or dark colours.</p>
    <form onSubmit=${submit}>
      <div class="theme-grid">
        ${THEME_KEYS.map(
          ([key, label]) => html`<div class="theme-row" key=${key}>
            <label for=${"theme-" + key}>${label}</label>
            <input type="color" class="swatch" value=${shown(key)} aria-label=${label + " colour picker"}
              onInput=${(event) => set(key, event.target.value)} />
            <input id=${"theme-" + key} type="text" class="hex" spellcheck=${false} autocomplete="off"
              maxlength="9" placeholder=${all[key] || "#rrggbb"} value=${colours[key]}
              onInput=${(event) => set(key, event.target.value)} />
          </div>`,
        )}
      </div>
      <div class="theme-preview" aria-hidden="true"
        style=${`background:${shown("bgPrimary")};color:${shown("textPrimary")}`}>
        <span>Text</span>
        <span style=${`color:${shown("textSecondary")}`}>Secondary</span>
        <span style=${`color:${shown("accent")}`}>Link</span>
        <span class="theme-preview-panel" style=${`background:${shown("bgSecondary")}`}>Panel</span>
        <span class="theme-preview-panel" style=${`background:${shown("accent")};color:${shown("bgPrimary")}`}>Button</span>
      </div>
      ${low.length > 0 &&
      html`<div class="notice contrast-warning" role="status">
        <strong>Low contrast.</strong> These colours are hard to read (WCAG AA asks for at least
        ${MIN_CONTRAST}:1). You can still save them.
        <ul>
          ${low.map(
            (item) => html`<li key=${item.fore + item.back}>${labelOf(item.fore)} on ${labelOf(item.back).toLowerCase()}: ${item.ratio.toFixed(2)}:1</li>`,
          )}
        </ul>
      </div>`}
      <${ErrorText} error=${error} />
      <div class="row">
        <button type="submit" class="primary" disabled=${busy}>Save theme</button>
        <button type="button" onClick=${() => setColours(themeForm(null))}>Reset to defaults</button>
      </div>
    </form>
  </section>`;
}

function EmojiManager({ community }) {
  const [emojis, setEmojis] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const [shortcode, setShortcode] = useState("");
  const [file, setFile] = useState(null);
  const [listError, setListError] = useState(null);
  const input = useRef(null);
  const load = () =>
    api.manage
      .emojis(community.id)
      .then((rows) => setEmojis(rows))
      .catch((failure) => setLoadError(failure.message));
  useEffect(() => {
    load();
  }, [community.id]);
  const { busy, error, setError, submit } = useSubmit(async () => {
    if (!file) throw new Error("Choose an image for the emoji.");
    const form = new FormData();
    form.append("shortcode", shortcode.trim());
    form.append("file", file);
    const row = await api.manage.addEmoji(community.id, form);
    setEmojis((list) => [...(list || []), row].sort((a, b) => a.shortcode.localeCompare(b.shortcode)));
    setShortcode("");
    setFile(null);
    if (input.current) input.current.value = "";
    toast(`Emoji :${row.shortcode}: added`, "info");
    loadCommunityEmoji(community.id, { force: true }); // the picker and messages show it at once
  });
  const remove = async (emoji) => {
    setListError(null);
    try {
      await api.manage.deleteEmoji(community.id, emoji.id);
      setEmojis((list) => (list || []).filter((item) => item.id !== emoji.id));
      loadCommunityEmoji(community.id, { force: true });
      focusHeading("cs-emoji");
    } catch (failure) {
      setListError(failure.message);
    }
  };
  return html`<section class="manage-section" aria-labelledby="cs-emoji">
    <h3 id="cs-emoji" tabindex="-1">Custom emoji</h3>
    <${ErrorText} error=${loadError} />
    ${emojis === null && !loadError && html`<p class="muted">Loading…</p>`}
    ${emojis && emojis.length === 0 && html`<p class="muted">No custom emoji yet.</p>`}
    ${emojis && emojis.length > 0 &&
    html`<ul class="emoji-list plain-list" aria-label="Custom emoji">
      ${emojis.map(
        (emoji) => html`<li key=${emoji.id}>
          ${ownImage(emoji.url) && html`<img src=${emoji.url} alt="" width="28" height="28" />`}
          <code>:${emoji.shortcode}:</code>
          <${ConfirmButton} label=${"Delete"} question=${`Delete :${emoji.shortcode}:?`}
            confirmLabel=${`Delete :${emoji.shortcode}:`} onConfirm=${() => remove(emoji)} />
        </li>`,
      )}
    </ul>`}
    <${ErrorText} error=${listError} />
    <form onSubmit=${submit} class="emoji-form">
      <${Field} label="Shortcode" hint="2 to 32 letters, digits or underscores, used as :shortcode:"
        maxlength="32" value=${shortcode} onInput=${(event) => setShortcode(event.target.value)} />
      <div class="field">
        <label for="cs-emoji-file">Emoji image (PNG, GIF or WebP, up to 256 KB)</label>
        <input id="cs-emoji-file" type="file" accept=${EMOJI_TYPES} ref=${input}
          onChange=${(event) => {
            setError(null);
            setFile(event.target.files[0] || null);
          }} />
      </div>
      <${ErrorText} error=${error} />
      <div class="row"><button type="submit" class="primary" disabled=${busy || !shortcode.trim()}>Add emoji</button></div>
    </form>
  </section>`;
}

/** The settings of a community, read from the store so that live changes show. */
export function CommunitySettingsDialog({ communityId, onClose }) {
  const communities = useStore(app, (state) => state.communities);
  const community = communities.find((item) => item.id === communityId);
  if (!community) return null; // deleted, or we left it
  const onSaved = applyCommunity;
  return html`
    <${Dialog} title=${"Community settings: " + community.name} onClose=${onClose} wide labelledBy="community-settings-title">
      <div class="community-settings">
        <${Details} community=${community} onSaved=${onSaved} />
        <section class="manage-section" aria-labelledby="cs-images">
          <h3 id="cs-images">Icon and banner</h3>
          <${ImagePicker} community=${community} which="icon" label="Icon" onSaved=${onSaved} />
          <${ImagePicker} community=${community} which="banner" label="Banner" onSaved=${onSaved} />
        </section>
        <${ThemeEditor} community=${community} onSaved=${onSaved} />
        <${EmojiManager} community=${community} />
      </div>
      <div class="dialog-actions"><button type="button" onClick=${onClose}>Close</button></div>
    <//>
  `;
}
