// The emoji picker (built-in Unicode emoji by category, searchable by name, and the custom emoji
// of the community on screen) and the GIF picker (GIPHY through the server: trending first, then
// a search as you type). Both are small popovers above the message box: arrow keys move between
// items, Enter picks, Escape closes, and the caller puts focus back in the box.

import { html, useEffect, useRef, useState } from "../html.js";
import { api } from "../api.js";
import { createStore, useStore } from "../store.js";
import { EMOJI_CATEGORIES, communityEmoji, customEmojiStore, searchEmoji, setCommunityEmoji } from "../emoji.js";
import { Spinner } from "./common.js";

let pickerCounter = 0;

/** Arrow-key movement in a grid of buttons (`columns` per row, measured from the layout). */
function gridKeys(event, container, onEscape) {
  if (event.key === "Escape") {
    event.preventDefault();
    event.stopPropagation();
    onEscape();
    return;
  }
  const target = event.target;
  if (!target.matches || !target.matches("[data-grid-item]")) return;
  const items = [...container.querySelectorAll("[data-grid-item]")];
  const index = items.indexOf(target);
  if (index === -1) return;
  let next = null;
  const top = target.offsetTop;
  const perRow = Math.max(1, items.filter((item) => item.offsetTop === top).length);
  if (event.key === "ArrowRight") next = index + 1;
  else if (event.key === "ArrowLeft") next = index - 1;
  else if (event.key === "ArrowDown") next = index + perRow;
  else if (event.key === "ArrowUp") next = index - perRow;
  else if (event.key === "Home") next = 0;
  else if (event.key === "End") next = items.length - 1;
  else return;
  event.preventDefault();
  if (next < 0) {
    // above the first row: back to the search box
    const search = container.querySelector("input[type=search]");
    if (search) search.focus();
    return;
  }
  next = Math.min(next, items.length - 1);
  for (const item of items) item.tabIndex = -1;
  items[next].tabIndex = 0;
  items[next].focus();
  items[next].scrollIntoView({ block: "nearest" });
}

/** From the search box, ArrowDown goes to the first item; Enter picks it. */
function searchKeys(event, container, onEscape) {
  if (event.key === "Escape") {
    event.preventDefault();
    event.stopPropagation();
    onEscape();
  } else if (event.key === "ArrowDown" || event.key === "Enter") {
    const first = container.querySelector("[data-grid-item]");
    if (!first) {
      if (event.key === "Enter") event.preventDefault();
      return;
    }
    event.preventDefault();
    if (event.key === "Enter") first.click();
    else {
      first.tabIndex = 0;
      first.focus();
    }
  }
}

function usePopover(onClose) {
  const box = useRef(null);
  useEffect(() => {
    const onDown = (event) => {
      if (box.current && !box.current.contains(event.target) && !event.target.closest("[data-picker-toggle]")) onClose(false);
    };
    document.addEventListener("mousedown", onDown);
    return () => document.removeEventListener("mousedown", onDown);
  }, []);
  return box;
}

const emojiLoads = new Map(); // community id -> time of the last fetch

/** Fetches a community's custom emoji (again after a minute); errors leave what we had. */
export function loadCommunityEmoji(communityId, { force = false } = {}) {
  if (!communityId) return Promise.resolve();
  const last = emojiLoads.get(communityId);
  if (!force && last && Date.now() - last < 60_000) return Promise.resolve();
  emojiLoads.set(communityId, Date.now());
  return api.emojis.list(communityId).then(
    (list) => setCommunityEmoji(communityId, list),
    () => {
      emojiLoads.delete(communityId);
    },
  );
}

/** onPick(text): a Unicode emoji, or ":shortcode: " for a custom one; showCustom false hides
 * the community's custom emoji (e.g. for reactions). onClose(refocus): Escape or a pick. */
export function EmojiPicker({ communityId, onPick, onClose, showCustom = true }) {
  const [query, setQuery] = useState("");
  const [id] = useState(() => `emoji-picker-${++pickerCounter}`);
  useStore(customEmojiStore, (state) => (communityId ? state.communities[communityId] : null));
  const custom = showCustom ? communityEmoji(communityId) : [];
  const box = usePopover(onClose);
  const input = useRef(null);
  useEffect(() => {
    input.current.focus();
    if (showCustom) loadCommunityEmoji(communityId, { force: true });
  }, []);

  const needle = query.trim().toLowerCase().replace(/^:|:$/g, "");
  const sections = [];
  if (needle) {
    const found = [
      ...custom.filter((item) => item.shortcode.toLowerCase().includes(needle)).map((item) => ({ custom: item })),
      ...searchEmoji(needle).map((item) => ({ unicode: item })),
    ];
    sections.push({ id: "results", label: "Results", items: found });
  } else {
    if (custom.length) sections.push({ id: "custom", label: "This community", items: custom.map((item) => ({ custom: item })) });
    for (const category of EMOJI_CATEGORIES) {
      sections.push({ id: category.id, label: category.label, items: category.items.map((item) => ({ unicode: item })) });
    }
  }
  let first = true;
  const button = (entry) => {
    const tabIndex = first ? 0 : -1;
    first = false;
    if (entry.custom) {
      const code = `:${entry.custom.shortcode}:`;
      return html`<button type="button" class="picker-item" data-grid-item tabindex=${tabIndex}
        key=${"c" + entry.custom.id} aria-label=${code} title=${code} onClick=${() => onPick(code + " ")}>
        <img src=${entry.custom.url} alt="" width="24" height="24" loading="lazy" />
      </button>`;
    }
    return html`<button type="button" class="picker-item" data-grid-item tabindex=${tabIndex}
      key=${entry.unicode.emoji} aria-label=${entry.unicode.name} title=${entry.unicode.name}
      onClick=${() => onPick(entry.unicode.emoji)}>${entry.unicode.emoji}</button>`;
  };
  const total = sections.reduce((sum, section) => sum + section.items.length, 0);
  return html`<div class="picker emoji-picker" role="dialog" aria-label="Emoji" id=${id} ref=${box}
    onKeyDown=${(event) => event.target !== input.current && gridKeys(event, box.current, () => onClose(true))}>
    <label class="visually-hidden" for=${id + "-search"}>Search emoji</label>
    <input type="search" id=${id + "-search"} ref=${input} placeholder="Search emoji" autocomplete="off"
      value=${query} onInput=${(event) => setQuery(event.target.value)}
      onKeyDown=${(event) => searchKeys(event, box.current, () => onClose(true))} />
    <p class="visually-hidden" aria-live="polite">${needle ? `${total} emoji found` : ""}</p>
    <div class="picker-scroll">
      ${needle && total === 0 && html`<p class="muted pad">No emoji match “${query.trim()}”.</p>`}
      ${sections.filter((section) => section.items.length).map(
        (section) => html`<section key=${section.id} aria-labelledby=${id + "-" + section.id}>
          <h3 class="picker-heading" id=${id + "-" + section.id}>${section.label}</h3>
          <div class="picker-grid" role="group" aria-labelledby=${id + "-" + section.id}>${section.items.map(button)}</div>
        </section>`,
      )}
    </div>
  </div>`;
}

// ---- GIFs ------------------------------------------------------------------------------------

/** Whether the server answers the GIF routes: null (not asked yet), true, or false. */
export const gifSupport = createStore({ available: null });
let probing = null;

/** Asks once: an empty search costs the server nothing and tells whether GIPHY is configured. */
export function probeGifs() {
  if (gifSupport.get().available !== null || probing) return;
  probing = api.gifs
    .search("", { limit: 1 })
    .then(
      () => gifSupport.set({ available: true }),
      (error) => {
        if (error.status === 400 || error.status === 404) gifSupport.set({ available: false });
      },
    )
    .finally(() => {
      probing = null;
    });
}

function httpsUrl(value) {
  if (typeof value !== "string") return null;
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

const GIF_PAGE = 24;

export function GifPicker({ onPick, onClose }) {
  const [query, setQuery] = useState("");
  const [results, setResults] = useState([]);
  const [next, setNext] = useState(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState(null);
  const [id] = useState(() => `gif-picker-${++pickerCounter}`);
  const box = usePopover(onClose);
  const input = useRef(null);
  const generation = useRef(0);

  const load = (text, pos) => {
    const mine = ++generation.current;
    setLoading(true);
    setError(null);
    const query = { limit: GIF_PAGE, pos: pos || undefined };
    const request = text ? api.gifs.search(text, query) : api.gifs.trending(query);
    request.then(
      (page) => {
        if (mine !== generation.current) return;
        const fresh = (page && Array.isArray(page.results) ? page.results : [])
          .map((gif) => ({ ...gif, url: httpsUrl(gif.url), preview_url: httpsUrl(gif.preview_url) || httpsUrl(gif.url) }))
          .filter((gif) => gif.url && gif.preview_url);
        setResults((list) => (pos ? [...list, ...fresh] : fresh));
        setNext(page && page.next ? page.next : null);
        setLoading(false);
      },
      (failure) => {
        if (mine !== generation.current) return;
        if (failure.status === 400 && /not configured/i.test(failure.message)) {
          gifSupport.set({ available: false });
          onClose(true);
          return;
        }
        setError(failure.message || "GIF search failed");
        setLoading(false);
      },
    );
  };

  useEffect(() => {
    input.current.focus();
  }, []);
  // trending at once; a search 350 ms after the last key
  useEffect(() => {
    const text = query.trim();
    if (!text) {
      load("", null);
      return undefined;
    }
    const timer = setTimeout(() => load(text, null), 350);
    return () => clearTimeout(timer);
  }, [query]);

  const heading = query.trim() ? "Search results" : "Trending";
  return html`<div class="picker gif-picker" role="dialog" aria-label="GIFs" id=${id} ref=${box}
    onKeyDown=${(event) => event.target !== input.current && gridKeys(event, box.current, () => onClose(true))}>
    <label class="visually-hidden" for=${id + "-search"}>Search GIFs</label>
    <input type="search" id=${id + "-search"} ref=${input} placeholder="Search GIPHY" autocomplete="off"
      value=${query} onInput=${(event) => setQuery(event.target.value)}
      onKeyDown=${(event) => searchKeys(event, box.current, () => onClose(true))} />
    <div class="picker-scroll">
      <h3 class="picker-heading" id=${id + "-heading"}>${heading}</h3>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${!loading && !error && results.length === 0 && html`<p class="muted pad">No GIFs found.</p>`}
      <div class="gif-grid" role="group" aria-labelledby=${id + "-heading"}>
        ${results.map(
          (gif, index) => html`<button type="button" class="gif-item" data-grid-item key=${gif.id + ":" + index}
            tabindex=${index === 0 ? 0 : -1} aria-label=${gif.title || "GIF"} title=${gif.title || "GIF"}
            onClick=${() => onPick(gif)}>
            <img src=${gif.preview_url} alt=${gif.title || "GIF"} loading="lazy" referrerpolicy="no-referrer" />
          </button>`,
        )}
      </div>
      ${loading && html`<${Spinner} label="Loading GIFs" />`}
      ${!loading && next && html`<button type="button" class="small more" onClick=${() => load(query.trim(), next)}>More GIFs</button>`}
      <p class="muted small pad">GIFs by GIPHY. Images load from GIPHY's servers.</p>
    </div>
  </div>`;
}
