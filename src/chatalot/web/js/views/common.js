// Small shared pieces: dialogs with focus management, form fields, avatars, toasts.

import { html, useEffect, useRef, useState } from "../html.js";
import { useStore } from "../store.js";
import { app, dismissToast } from "../state.js";
import { Icon } from "../icons.js";

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** A modal dialog: focus moves into it, Tab stays inside, Escape closes, focus returns. */
export function Dialog({ title, onClose, children, wide = false, labelledBy }) {
  const box = useRef(null);
  useEffect(() => {
    const previous = document.activeElement;
    const first = box.current.querySelector("[autofocus]") || box.current.querySelector(FOCUSABLE);
    (first || box.current).focus();
    return () => {
      if (previous && previous.focus) previous.focus();
    };
  }, []);
  const onKeyDown = (event) => {
    if (event.key === "Escape" && onClose) {
      event.stopPropagation();
      onClose();
    }
    if (event.key !== "Tab") return;
    const items = [...box.current.querySelectorAll(FOCUSABLE)];
    if (!items.length) return;
    const first = items[0];
    const last = items[items.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  };
  const titleId = labelledBy || "dialog-title";
  return html`
    <div class="backdrop" onMouseDown=${(event) => event.target === event.currentTarget && onClose && onClose()}>
      <div
        class=${"dialog" + (wide ? " wide" : "")}
        role="dialog"
        aria-modal="true"
        aria-labelledby=${titleId}
        tabindex="-1"
        ref=${box}
        onKeyDown=${onKeyDown}
      >
        <h2 id=${titleId}>${title}</h2>
        ${children}
      </div>
    </div>
  `;
}

let fieldCounter = 0;
export function Field({ label, hint, error, multiline = false, ...input }) {
  const [id] = useState(() => `field-${++fieldCounter}`);
  return html`
    <div class="field">
      <label for=${id}>${label}</label>
      ${multiline
        ? html`<textarea id=${id} aria-invalid=${error ? "true" : undefined} ...${input}></textarea>`
        : html`<input id=${id} aria-invalid=${error ? "true" : undefined} aria-describedby=${hint ? id + "-hint" : undefined} ...${input} />`}
      ${hint && html`<p class="hint" id=${id + "-hint"}>${hint}</p>`}
    </div>
  `;
}

/** A form's submit handler with its busy flag and error text: ``action`` runs once at a time;
 * what it throws is shown (its message). */
export function useSubmit(action) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const submit = async (event) => {
    if (event) event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (failure) {
      setError(failure.message || "Something went wrong");
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, submit };
}

export function ErrorText({ error }) {
  if (!error) return null;
  return html`<p class="error" role="alert">${error}</p>`;
}

const PALETTE = ["#5b6cff", "#2f9e6e", "#c2410c", "#a21caf", "#0e7490", "#b45309", "#be123c", "#4d7c0f"];

function colourFor(text) {
  let hash = 0;
  for (const char of text || "?") hash = (hash * 31 + char.codePointAt(0)) >>> 0;
  return PALETTE[hash % PALETTE.length];
}

/** A round picture, or initials on a colour derived from the name. Own URLs only. */
export function Avatar({ name, url, size = 36, status }) {
  const safe = typeof url === "string" && url.startsWith("/api/") ? url : null;
  const initials = (name || "?").trim().slice(0, 1).toUpperCase() || "?";
  return html`
    <span class="avatar" style=${`width:${size}px;height:${size}px;--avatar-bg:${colourFor(name)}`} aria-hidden="true">
      ${safe ? html`<img src=${safe} alt="" width=${size} height=${size} loading="lazy" />` : initials}
      ${status && html`<span class=${"presence presence-" + status}></span>`}
    </span>
  `;
}

export function Toasts() {
  const toasts = useStore(app, (state) => state.toasts);
  return html`
    <div class="toasts" role="status" aria-live="polite">
      ${toasts.map(
        (item) => html`
          <div class=${"toast toast-" + item.kind} key=${item.id}>
            <span>${item.text}</span>
            <button class="icon" aria-label="Dismiss" onClick=${() => dismissToast(item.id)}><${Icon} name="close" size=${16} /></button>
          </div>
        `,
      )}
    </div>
  `;
}

export function Spinner({ label = "Loading" }) {
  return html`<div class="spinner" role="status"><span class="visually-hidden">${label}</span></div>`;
}
