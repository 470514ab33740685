// Message search: a side panel of the conversation. It searches this conversation or every one
// we are in (GET /api/channels/{id}/messages/search, GET /api/messages/search), with filters
// (sender, has a file, sent after/before a day). Results show who, when, where and the matching
// words highlighted; Up/Down move through them from the search box, Enter opens one, which jumps
// to the message. The server can only search what it can read: with end-to-end encryption on,
// the same search also runs in this browser over the messages it has decrypted (the engine keeps
// their text sealed in IndexedDB), and the two result lists are merged.

import { html, useEffect, useRef, useState } from "../html.js";
import { useStore } from "../store.js";
import { api } from "../api.js";
import { app, displayName } from "../state.js";
import { useDecoded } from "../e2e/plaintexts.js";
import { encryption } from "../e2e/account.js";
import { plainPreview } from "../markdown.js";
import { formatFull } from "../time.js";
import { Icon } from "../icons.js";
import { ensureUser } from "../actions.js";
import { requestJump } from "../jump.js";
import { Spinner } from "./common.js";

const LIMIT = 50;

// the last search, kept when a result opens another conversation (the panel opens again there)
let remembered = null;

export function rememberedSearch() {
  return remembered;
}

const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", "#39": "'", "#x27": "'", "#34": '"' };

function unescapeEntities(text) {
  return text.replace(/&(#x?[0-9a-f]+|[a-z]+);/gi, (whole, name) => {
    const key = name.toLowerCase();
    if (Object.hasOwn(ENTITIES, key)) return ENTITIES[key];
    let code = NaN;
    if (key.startsWith("#x")) code = parseInt(key.slice(2), 16);
    else if (key.startsWith("#")) code = parseInt(key.slice(1), 10);
    if (Number.isInteger(code) && code > 0 && code <= 0x10ffff) {
      try {
        return String.fromCodePoint(code);
      } catch {
        return whole;
      }
    }
    return whole;
  });
}

/** The server's highlight (HTML-escaped text with <mark>…</mark>) as text and <mark> vnodes:
 * nothing is parsed as HTML; any other tag stays visible text. */
export function highlightNodes(highlight) {
  const out = [];
  const parts = String(highlight).split(/(<mark>|<\/mark>)/);
  let marked = false;
  parts.forEach((part, index) => {
    if (part === "<mark>") marked = true;
    else if (part === "</mark>") marked = false;
    else if (part) {
      const text = unescapeEntities(part);
      out.push(marked ? html`<mark key=${index}>${text}</mark>` : text);
    }
  });
  return out;
}

function channelLabel(state, channelId) {
  const dm = state.dms.find((item) => item.channel.id === channelId);
  if (dm) return `@${displayName(state, dm.other_user.id)}`;
  const channel = state.channels[channelId];
  if (channel && channel.name) return `#${channel.name}`;
  return "a conversation";
}

/** "YYYY-MM-DD" of a date input as the RFC 3339 time at the start (or end) of that local day. */
function dayBound(value, end) {
  if (!value) return undefined;
  const [year, month, day] = value.split("-").map(Number);
  if (!year || !month || !day) return undefined;
  const date = end ? new Date(year, month - 1, day, 23, 59, 59, 999) : new Date(year, month - 1, day);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function keyOf({ query, everywhere, sender, hasFile, after, before }) {
  return JSON.stringify([query.trim(), everywhere, sender.trim(), hasFile, after, before]);
}

function Snippet({ message }) {
  if (typeof message.localText === "string") {
    return html`<span class="search-snippet"><${Icon} name="lock" size=${12} /> ${plainPreview(message.localText, 200)}</span>`;
  }
  if (typeof message.highlight === "string" && message.highlight) {
    return html`<span class="search-snippet">${highlightNodes(message.highlight)}</span>`;
  }
  const content = useDecoded(message);
  if (content.kind === "undecryptable") return html`<span class="search-snippet muted">A message that cannot be decrypted</span>`;
  if (content.kind === "file") return html`<span class="search-snippet"><${Icon} name="file" size=${14} /> ${content.file.filename}</span>`;
  if (content.kind === "encrypted") return html`<span class="search-snippet muted">Encrypted message</span>`;
  return html`<span class="search-snippet">${plainPreview(content.text, 200)}</span>`;
}

/** The same search in this browser, over decrypted messages ([] when not encrypting). */
async function searchDecrypted(params, channelId) {
  const { status, engine } = encryption.get();
  if (status !== "ready" || !engine) return [];
  const state = app.get();
  const senderName = (params.sender || "").toLowerCase();
  const senderIds = senderName
    ? new Set(Object.values(state.users).filter((user) => (user.username || "").toLowerCase() === senderName).map((user) => user.id))
    : null;
  const filter = (about) =>
    (!channelId || about.channel_id === channelId) &&
    (!senderIds || senderIds.has(about.sender_id)) &&
    (!params.has_file || about.message_type === "file") &&
    (!params.after || about.created_at >= params.after) &&
    (!params.before || about.created_at <= params.before) &&
    // a conversation we are no longer in is not shown
    Boolean(state.channels[about.channel_id] || (state.dms || []).some((dm) => dm.channel.id === about.channel_id));
  try {
    const found = await engine.searchPlaintexts(params.q, filter, params.limit);
    return found.map((row) => ({ ...row, localText: row.text, text: undefined }));
  } catch {
    return [];
  }
}

function mergeResults(remote, local) {
  const ids = new Set(remote.map((row) => row.id));
  const all = [...remote, ...local.filter((row) => !ids.has(row.id))];
  all.sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
  return all.slice(0, LIMIT);
}

export function SearchPanel({ channel, communityId, onClose }) {
  const config = useStore(app, (state) => state.config);
  const users = useStore(app, (state) => state.users);
  const start = remembered && remembered.channelId === channel.id ? remembered : null;
  const [query, setQuery] = useState(start ? start.query : "");
  const [everywhere, setEverywhere] = useState(start ? start.everywhere : false);
  const [sender, setSender] = useState(start ? start.sender : "");
  const [hasFile, setHasFile] = useState(start ? start.hasFile : false);
  const [after, setAfter] = useState(start ? start.after : "");
  const [before, setBefore] = useState(start ? start.before : "");
  const [filtersOpen, setFiltersOpen] = useState(Boolean(start && (start.sender || start.hasFile || start.after || start.before)));
  const [results, setResults] = useState(start ? start.results : null);
  const [active, setActive] = useState(-1);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const input = useRef(null);
  const list = useRef(null);
  const generation = useRef(0);
  const searchedKey = useRef(start ? keyOf(start) : null);

  useEffect(() => {
    if (input.current) input.current.focus();
  }, []);

  const run = async (event) => {
    if (event) event.preventDefault();
    const q = query.trim();
    if (q.length < 2) {
      setError("Type at least 2 characters to search.");
      return;
    }
    if (q.length > 256) {
      setError("A search can be at most 256 characters.");
      return;
    }
    const afterBound = dayBound(after, false);
    const beforeBound = dayBound(before, true);
    if (afterBound && beforeBound && afterBound > beforeBound) {
      setError("The “after” day must not be later than the “before” day.");
      return;
    }
    const params = {
      q,
      limit: LIMIT,
      sender: sender.trim() || undefined,
      has_file: hasFile ? "true" : undefined,
      after: afterBound,
      before: beforeBound,
    };
    const mine = ++generation.current;
    setBusy(true);
    setError(null);
    try {
      const [found, local] = await Promise.all([
        everywhere ? api.search.global(params) : api.search.channel(channel.id, params),
        searchDecrypted(params, everywhere ? null : channel.id),
      ]);
      if (mine !== generation.current) return;
      const rows = mergeResults(Array.isArray(found) ? found : [], local);
      for (const row of rows) ensureUser(row.sender_id);
      setResults(rows);
      setActive(rows.length ? 0 : -1);
      remembered = { channelId: channel.id, query, everywhere, sender, hasFile, after, before, results: rows };
      searchedKey.current = keyOf(remembered);
    } catch (failure) {
      if (mine !== generation.current) return;
      setError(failure.message || "Search failed");
      setResults(null);
    } finally {
      if (mine === generation.current) setBusy(false);
    }
  };

  const open = (message) => {
    if (!message) return;
    if (remembered) remembered = { ...remembered, channelId: message.channel_id };
    const ok = requestJump({
      channelId: message.channel_id,
      messageId: message.thread_id ? message.thread_id : message.id,
      threadId: message.thread_id || null,
      fromSearch: true,
    });
    if (!ok) setError("That conversation is not open to you any more.");
  };

  const move = (step) => {
    if (!results || !results.length) return;
    const next = Math.max(0, Math.min(results.length - 1, (active < 0 ? -1 : active) + step));
    setActive(next);
    const row = list.current && list.current.children[next];
    if (row) row.scrollIntoView({ block: "nearest" });
  };

  const onKeyDown = (event) => {
    if (event.key === "ArrowDown") {
      event.preventDefault();
      move(1);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      move(-1);
    } else if (event.key === "Enter" && results && active >= 0 && results[active] && event.target === input.current && !event.shiftKey) {
      // a changed search runs; the one whose results are shown opens the chosen result
      if (searchedKey.current === keyOf({ query, everywhere, sender, hasFile, after, before })) {
        event.preventDefault();
        open(results[active]);
      }
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      onClose();
    }
  };

  const encrypted = Boolean(config && config.e2e_enabled);
  const listId = "search-results";
  const state = app.get();
  return html`<aside class="side-panel search-panel" aria-label="Search messages" onKeyDown=${(event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      onClose();
    }
  }}>
    <header class="panel-header">
      <h2>Search</h2>
      <button type="button" class="icon" aria-label="Close search" onClick=${onClose}><${Icon} name="close" /></button>
    </header>
    <form class="search-form" role="search" onSubmit=${run}>
      <label class="visually-hidden" for="search-query">Search messages</label>
      <input id="search-query" type="search" ref=${input} value=${query} autocomplete="off"
        placeholder="Search messages" maxlength="256"
        role="combobox" aria-autocomplete="none" aria-controls=${listId}
        aria-expanded=${results && results.length ? "true" : "false"}
        aria-activedescendant=${results && active >= 0 && results[active] ? `search-result-${active}` : undefined}
        onInput=${(event) => {
          setQuery(event.target.value);
          setActive(results && results.length ? active : -1);
        }}
        onKeyDown=${onKeyDown} />
      <fieldset class="search-scope">
        <legend class="visually-hidden">Where to search</legend>
        <label><input type="radio" name="search-scope" checked=${!everywhere} onChange=${() => setEverywhere(false)} /> This conversation</label>
        <label><input type="radio" name="search-scope" checked=${everywhere} onChange=${() => setEverywhere(true)} /> Everywhere</label>
      </fieldset>
      <details class="search-filters" open=${filtersOpen} onToggle=${(event) => setFiltersOpen(event.currentTarget.open)}>
        <summary>Filters${sender || hasFile || after || before ? " (on)" : ""}</summary>
        <div class="field">
          <label for="search-sender">From (username contains)</label>
          <input id="search-sender" type="text" maxlength="256" value=${sender} list="search-senders" autocomplete="off"
            onInput=${(event) => setSender(event.target.value)} />
          <datalist id="search-senders">
            ${communityId && (state.members[communityId] || []).map((member) => html`<option key=${member.user_id} value=${member.username} />`)}
          </datalist>
        </div>
        <label class="check"><input type="checkbox" checked=${hasFile} onChange=${(event) => setHasFile(event.target.checked)} /> Has a file</label>
        <div class="search-dates">
          <div class="field">
            <label for="search-after">Sent on or after</label>
            <input id="search-after" type="date" value=${after} onInput=${(event) => setAfter(event.target.value)} />
          </div>
          <div class="field">
            <label for="search-before">Sent on or before</label>
            <input id="search-before" type="date" value=${before} onInput=${(event) => setBefore(event.target.value)} />
          </div>
        </div>
      </details>
      <button type="submit" class="primary" disabled=${busy}>Search</button>
    </form>
    ${error && html`<p class="error pad" role="alert">${error}</p>`}
    ${busy && html`<${Spinner} label="Searching" />`}
    <p class="visually-hidden" aria-live="polite">${results && !busy ? `${results.length} ${results.length === 1 ? "result" : "results"}` : ""}</p>
    ${results && results.length === 0 && !busy &&
    html`<div class="pad muted">
      <p>No messages found.</p>
      ${encrypted &&
      html`<p class="search-note"><${Icon} name="lock" size=${14} /> End-to-end encryption is on: encrypted messages are
        searched in this browser, among those it has decrypted (messages from before you used it here are not).</p>`}
    </div>`}
    ${results && results.length > 0 &&
    html`<ul class="search-results" id=${listId} role="listbox" aria-label="Search results" ref=${list}>
      ${results.map(
        (message, index) => html`<li key=${message.id} id=${"search-result-" + index} role="option"
          aria-selected=${index === active ? "true" : "false"}
          class=${"search-result" + (index === active ? " active" : "")}
          onMouseDown=${(event) => event.preventDefault()}
          onClick=${() => {
            setActive(index);
            open(message);
          }}>
          <div class="search-meta">
            <strong class="author">${message.sender_id ? displayName({ ...state, users }, message.sender_id, communityId) : "Deleted user"}</strong>
            ${(everywhere || message.channel_id !== channel.id) && html`<span class="muted small">in ${channelLabel(state, message.channel_id)}</span>`}
            <time class="muted small" datetime=${message.created_at}>${formatFull(message.created_at)}</time>
          </div>
          <${Snippet} message=${message} />
          ${message.thread_id && html`<span class="muted small">In a thread</span>`}
        </li>`,
      )}
    </ul>`}
    ${results && results.length >= LIMIT && html`<p class="muted small pad">Showing the newest ${LIMIT}: narrow the search to see older ones.</p>`}
    ${encrypted && results && results.length > 0 &&
    html`<p class="muted small pad">Encrypted messages are searched among those this browser has decrypted.</p>`}
  </aside>`;
}
