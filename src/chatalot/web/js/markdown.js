// Safe Markdown subset for messages, Discord-like. The text is parsed into a small tree of plain
// objects, then turned into Preact vnodes: every piece of user text becomes a text node, no HTML
// string is ever built or injected (no innerHTML, no dangerouslySetInnerHTML).
//
// Blocks: ```lang fenced code```, "> " quotes, text (a newline is a <br>).
// Inline: **bold**, *italic*, _italic_, __underline__, ~~strike~~, ||spoiler||, `code`,
// \ escapes, http(s) autolinks, [label](https://...) links, @mentions, :custom_emoji:.
// The parser is a single pass over the text with a stack of open markers (linear time), not
// a set of regular expressions.

import { h, useState } from "./html.js";
import { customEmoji as activeCommunityEmoji } from "./emoji.js";

// Control characters other than \t and \n, and the bidi overrides and isolates.
const DROPPED = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g;
const ESCAPABLE = "\\`*_~|[]()<>@";
const DELIMS = "*_~|";
const SPECIAL = "\\\n`*_~|[hH@:"; // where a plain-text run stops
const WS = /\s/u;
const PUNCT = /[\p{P}\p{S}]/u;
const WORD = /[\p{L}\p{N}]/u;
const USER_CHAR = /[A-Za-z0-9_.-]/;
const SHORTCODE = /:([A-Za-z0-9_]{2,32}):/y;
const EMOJI_SRC = /^\/api\/emojis\/[A-Za-z0-9_-]{1,64}$/;
const URL_START = /https?:\/\//iy;
const URL_STOP = /[\s<>`|]/;
const URL_TRAILING = ".,;:!?)*_~'\"";
const LANG = /^[a-z0-9+-]{1,20}$/;
const LINK_ATTRS = { target: "_blank", rel: "noopener noreferrer nofollow ugc" };
const TAGS = { em: "em", strong: "strong", u: "u", s: "s" };

function clean(text) {
  return String(text ?? "").replace(DROPPED, "");
}

/** The http(s) URL `raw` as parsed by new URL(), or null. */
function httpUrl(raw) {
  if (!/^https?:\/\//i.test(raw)) return null;
  let url;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || !url.hostname) return null;
  return url;
}

function pushText(list, value) {
  if (!value) return;
  const last = list[list.length - 1];
  if (last && last.t === "text") last.v += value;
  else list.push({ t: "text", v: value });
}

function pushNode(list, node) {
  if (node.t === "text") pushText(list, node.v);
  else list.push(node);
}

// The character before index i and the one at index i, whole surrogate pairs ("" at the ends).
function charBefore(src, i) {
  if (i <= 0) return "";
  const code = src.charCodeAt(i - 1);
  if (code >= 0xdc00 && code <= 0xdfff && i >= 2) return src.slice(i - 2, i);
  return src[i - 1];
}

function charAt(src, i) {
  if (i >= src.length) return "";
  const code = src.charCodeAt(i);
  if (code >= 0xd800 && code <= 0xdbff && i + 1 < src.length) return src.slice(i, i + 2);
  return src[i];
}

// CommonMark's flanking rules: whether a delimiter run between prev and next can open/close.
function flanking(ch, prev, next) {
  const prevWs = prev === "" || WS.test(prev);
  const nextWs = next === "" || WS.test(next);
  const prevPunct = !prevWs && PUNCT.test(prev);
  const nextPunct = !nextWs && PUNCT.test(next);
  const left = !nextWs && (!nextPunct || prevWs || prevPunct);
  const right = !prevWs && (!prevPunct || nextWs || nextPunct);
  if (ch === "_") {
    // never inside a word: snake_case stays as it is
    return { open: left && (!right || prevPunct), close: right && (!left || nextPunct) };
  }
  return { open: left, close: right };
}

function kindOf(ch, used) {
  if (ch === "*") return used === 2 ? "strong" : "em";
  if (ch === "_") return used === 2 ? "u" : "em";
  return ch === "~" ? "s" : "spoiler";
}

// Start index of every maximal run of backticks, by run length.
function backtickRuns(src) {
  const runs = new Map();
  for (let i = 0; i < src.length; i++) {
    if (src[i] !== "`") continue;
    let j = i;
    while (j < src.length && src[j] === "`") j++;
    const length = j - i;
    if (!runs.has(length)) runs.set(length, { starts: [], next: 0 });
    runs.get(length).starts.push(i);
    i = j - 1;
  }
  return runs;
}

/** Inline nodes of `src`; `rich` allows links, autolinks and mentions (not inside a label). */
function parseInline(src, rich) {
  const root = { ch: "", n: 0, c: [] };
  const frames = [root];
  const open = { "*": 0, _: 0, "~": 0, "|": 0 };
  let runs = null;
  let i = 0;

  const top = () => frames[frames.length - 1];

  function flattenTop() {
    const frame = frames.pop();
    open[frame.ch]--;
    const parent = top().c;
    pushText(parent, frame.ch.repeat(frame.n));
    for (const node of frame.c) pushNode(parent, node);
  }

  function delimiter(ch, length, can) {
    let rest = length;
    while (can.close && rest > 0 && open[ch] > 0) {
      let k = frames.length - 1;
      while (frames[k].ch !== ch) k--;
      const frame = frames[k];
      const paired = ch === "*" || ch === "_";
      if (!paired && rest < 2) break;
      const used = paired ? (rest >= 2 && frame.n >= 2 ? 2 : 1) : 2;
      while (frames.length - 1 > k) flattenTop();
      const element = { t: kindOf(ch, used), c: frame.c };
      frame.n -= used;
      rest -= used;
      if (frame.n === 0 || (!paired && frame.n < 2)) {
        frames.pop();
        open[ch]--;
        const parent = top().c;
        pushText(parent, ch.repeat(frame.n));
        parent.push(element);
      } else {
        frame.c = [element];
      }
    }
    if (rest > 0) {
      if (can.open && (ch === "*" || ch === "_" || rest >= 2)) {
        frames.push({ ch, n: rest, c: [] });
        open[ch]++;
      } else {
        pushText(top().c, ch.repeat(rest));
      }
    }
  }

  function codeSpan(length) {
    runs = runs || backtickRuns(src);
    const entry = runs.get(length);
    if (!entry) return false;
    while (entry.next < entry.starts.length && entry.starts[entry.next] <= i) entry.next++;
    if (entry.next >= entry.starts.length) return false;
    const close = entry.starts[entry.next];
    let value = src.slice(i + length, close);
    if (value.length > 2 && value[0] === " " && value.endsWith(" ") && value.trim()) {
      value = value.slice(1, -1);
    }
    top().c.push({ t: "code", v: value });
    i = close + length;
    return true;
  }

  function link() {
    // [label](http(s)://target): the label has no brackets or newline, the target no spaces
    let j = i + 1;
    while (j < src.length) {
      const c = src[j];
      if (c === "\\" && j + 1 < src.length && src[j + 1] !== "\n") j += 2;
      else if (c === "[" || c === "]" || c === "\n") break;
      else j++;
    }
    if (src[j] !== "]" || src[j + 1] !== "(") return false;
    const label = src.slice(i + 1, j);
    if (!label.trim()) return false;
    let k = j + 2;
    let depth = 0;
    for (; k < src.length; k++) {
      const c = src[k];
      if (WS.test(c) || c === "[" || c === "]" || c === "<" || c === ">") return false;
      if (c === "(") depth++;
      else if (c === ")") {
        if (depth === 0) break;
        depth--;
      }
    }
    if (k >= src.length) return false;
    const url = httpUrl(src.slice(j + 2, k));
    if (!url) return false;
    const children = parseInline(label, false);
    const shown = textOf(children).trim().toLowerCase();
    const title = shown === url.host ? null : url.href;
    top().c.push({ t: "link", href: url.href, title, c: children });
    i = k + 1;
    return true;
  }

  function autolink() {
    if (i > 0 && WORD.test(charBefore(src, i))) return false;
    URL_START.lastIndex = i;
    if (!URL_START.test(src)) return false;
    let end = URL_START.lastIndex;
    let opens = 0;
    let closes = 0;
    for (; end < src.length && !URL_STOP.test(src[end]); end++) {
      if (src[end] === "(") opens++;
      else if (src[end] === ")") closes++;
    }
    while (end > i && URL_TRAILING.includes(src[end - 1])) {
      if (src[end - 1] === ")") {
        if (closes <= opens) break;
        closes--;
      }
      end--;
    }
    const raw = src.slice(i, end);
    const url = httpUrl(raw);
    if (!url) return false;
    top().c.push({ t: "autolink", href: url.href, v: raw });
    i = end;
    return true;
  }

  function mention() {
    if (i > 0 && USER_CHAR.test(src[i - 1])) return false;
    let j = i + 1;
    while (j < src.length && USER_CHAR.test(src[j])) j++;
    const name = src.slice(i + 1, j);
    if (name.length < 3 || name.length > 32) return false;
    top().c.push({ t: "mention", name });
    i = j;
    return true;
  }

  function emoji() {
    SHORTCODE.lastIndex = i;
    const match = SHORTCODE.exec(src);
    if (!match) return false;
    top().c.push({ t: "emoji", name: match[1] });
    i = SHORTCODE.lastIndex;
    return true;
  }

  while (i < src.length) {
    const c = src[i];
    if (c === "\\") {
      const next = src[i + 1];
      if (next !== undefined && ESCAPABLE.includes(next)) {
        pushText(top().c, next);
        i += 2;
      } else {
        pushText(top().c, c);
        i++;
      }
    } else if (c === "\n") {
      top().c.push({ t: "br" });
      i++;
    } else if (c === "`") {
      let j = i;
      while (j < src.length && src[j] === "`") j++;
      if (!codeSpan(j - i)) {
        pushText(top().c, src.slice(i, j));
        i = j;
      }
    } else if (DELIMS.includes(c)) {
      let j = i;
      while (j < src.length && src[j] === c) j++;
      const can = flanking(c, charBefore(src, i), charAt(src, j));
      const length = j - i;
      i = j;
      delimiter(c, length, can);
    } else if (rich && c === "[" && link()) {
      // consumed
    } else if (rich && (c === "h" || c === "H") && autolink()) {
      // consumed
    } else if (rich && c === "@" && mention()) {
      // consumed
    } else if (rich && c === ":" && emoji()) {
      // consumed
    } else {
      let j = i + 1;
      while (j < src.length && !SPECIAL.includes(src[j])) j++;
      pushText(top().c, src.slice(i, j));
      i = j;
    }
  }
  while (frames.length > 1) flattenTop();
  return root.c;
}

/** Block nodes of a cleaned text: code blocks, quotes, and inline text. */
function parseBlocks(src) {
  const out = [];
  let paragraph = [];
  let quote = [];
  let fences = true; // false once no closing ``` is left in the text

  const flushParagraph = () => {
    if (!paragraph.length) return;
    for (const node of parseInline(paragraph.join("\n"), true)) out.push(node);
    paragraph = [];
  };
  const flushQuote = () => {
    if (!quote.length) return;
    out.push({ t: "quote", c: parseInline(quote.join("\n"), true) });
    quote = [];
  };

  let pos = 0;
  while (pos <= src.length) {
    let end = src.indexOf("\n", pos);
    if (end === -1) end = src.length;
    const line = src.slice(pos, end);
    if (fences && line.startsWith("```")) {
      const close = src.indexOf("```", pos + 3);
      if (close === -1) {
        fences = false;
      } else if (close > pos + 3) {
        flushParagraph();
        flushQuote();
        out.push(codeBlock(src.slice(pos + 3, close)));
        pos = close + 3;
        if (src[pos] === "\n") pos++;
        if (pos >= src.length) break;
        // text right after the closing fence starts a new line of text
        continue;
      }
    }
    if (line.startsWith("> ") || (line === ">" && quote.length)) {
      flushParagraph();
      quote.push(line.slice(2));
    } else {
      flushQuote();
      paragraph.push(line);
    }
    pos = end + 1;
  }
  flushParagraph();
  flushQuote();
  return out;
}

function codeBlock(inner) {
  let lang = null;
  let body = inner;
  const newline = inner.indexOf("\n");
  if (newline !== -1) {
    const info = inner.slice(0, newline);
    if (!/\s/.test(info)) {
      // a first line without spaces names the language (shown only when it is a plain name)
      const name = info.toLowerCase();
      lang = LANG.test(name) ? name : null;
      body = inner.slice(newline + 1);
    }
  }
  if (body.endsWith("\n")) body = body.slice(0, -1);
  return { t: "pre", lang, v: body };
}

function textOf(nodes, hideSpoilers = false) {
  let out = "";
  for (const node of nodes) {
    switch (node.t) {
      case "text":
      case "code":
      case "autolink":
        out += node.v;
        break;
      case "pre":
        out += ` ${node.v} `;
        break;
      case "br":
        out += " ";
        break;
      case "mention":
        out += `@${node.name}`;
        break;
      case "emoji":
        out += `:${node.name}:`;
        break;
      case "spoiler":
        out += hideSpoilers ? "[spoiler]" : textOf(node.c);
        break;
      case "quote":
        out += ` ${textOf(node.c, hideSpoilers)} `;
        break;
      default:
        out += textOf(node.c, hideSpoilers);
    }
  }
  return out;
}

/** A spoiler: hidden until clicked, or Enter/Space while focused. */
export function Spoiler({ children }) {
  const [shown, setShown] = useState(false);
  if (shown) return h("span", { class: "spoiler revealed", tabindex: "0" }, children);
  const reveal = (event) => {
    event.preventDefault(); // a link inside is not followed until the spoiler is revealed
    setShown(true);
  };
  const onKeyDown = (event) => {
    if (event.key === "Enter" || event.key === " " || event.key === "Spacebar") reveal(event);
  };
  return h(
    "span",
    {
      class: "spoiler",
      tabindex: "0",
      role: "button",
      "aria-label": "spoiler",
      onClick: reveal,
      onKeyDown,
    },
    children,
  );
}

function mentionNode(name, options) {
  const lower = name.toLowerCase();
  const everyone = lower === "everyone" || lower === "here";
  const member = everyone || (typeof options.isMember === "function" && !!options.isMember(name));
  if (!member) {
    // "@alice." at the end of a sentence: the dots are not part of the name
    const bare = name.replace(/\.+$/, "");
    if (bare !== name && bare.length >= 3) {
      const found = mentionNode(bare, options);
      if (typeof found !== "string") return [found, name.slice(bare.length)];
    }
    return `@${name}`;
  }
  const me = typeof options.me === "string" && options.me.toLowerCase() === lower;
  return h("span", { class: everyone || me ? "mention mention-me" : "mention" }, `@${name}`);
}

/** The image path of a custom emoji found by the lookup: only /api/emojis/{id}, else null. */
function emojiSource(found) {
  if (!found) return null;
  let src = null;
  if (typeof found === "string") src = found;
  else if (typeof found.url === "string") src = found.url;
  else if (typeof found.id === "string") src = `/api/emojis/${encodeURIComponent(found.id)}`;
  return src && EMOJI_SRC.test(src) ? src : null;
}

function emojiNode(name, options) {
  const lookup = typeof options.customEmoji === "function" ? options.customEmoji : activeCommunityEmoji;
  let found = null;
  try {
    found = lookup(name);
  } catch {
    found = null;
  }
  const src = emojiSource(found);
  const code = `:${name}:`;
  if (!src) return code;
  return h("img", { class: "emoji", src, alt: code, title: code });
}

function toVnodes(nodes, options) {
  const out = [];
  for (const node of nodes) {
    switch (node.t) {
      case "text":
        out.push(node.v);
        break;
      case "br":
        out.push(h("br", null));
        break;
      case "code":
        out.push(h("code", null, node.v));
        break;
      case "pre":
        out.push(h("pre", node.lang ? { "data-lang": node.lang } : null, h("code", null, node.v)));
        break;
      case "quote":
        out.push(h("blockquote", null, toVnodes(node.c, options)));
        break;
      case "spoiler":
        out.push(h(Spoiler, null, toVnodes(node.c, options)));
        break;
      case "link": {
        const attrs = { href: node.href, ...LINK_ATTRS };
        if (node.title) attrs.title = node.title;
        out.push(h("a", attrs, toVnodes(node.c, options)));
        break;
      }
      case "autolink":
        out.push(h("a", { href: node.href, ...LINK_ATTRS }, node.v));
        break;
      case "mention": {
        const mention = mentionNode(node.name, options);
        if (Array.isArray(mention)) out.push(...mention);
        else out.push(mention);
        break;
      }
      case "emoji":
        out.push(emojiNode(node.name, options));
        break;
      default:
        out.push(h(TAGS[node.t], null, toVnodes(node.c, options)));
    }
  }
  return out;
}

/**
 * Preact vnodes (an array) for a message text.
 * options.me: my username (its mentions get the class mention-me), or null;
 * options.isMember(username): whether @username names a member (else it stays plain text);
 * options.customEmoji(shortcode): the custom emoji `:shortcode:` names ({url} or {id}; only
 * /api/emojis/ images are shown), else it stays text. Without it, the emoji of the community
 * on screen (js/emoji.js) are used.
 */
export function renderMarkdown(text, options = {}) {
  return toVnodes(parseBlocks(clean(text)), options || {});
}

/** One line of plain text without markup (spoilers hidden), at most `max` characters. */
export function plainPreview(text, max = 120) {
  const flat = textOf(parseBlocks(clean(text)), true).replace(/\s+/g, " ").trim();
  const chars = Array.from(flat);
  if (chars.length <= max) return flat;
  let cut = chars.slice(0, Math.max(0, max - 1)).join("");
  const space = cut.lastIndexOf(" ");
  // end on a whole word when that does not lose much
  if (chars[max - 1] !== " " && space > cut.length * 0.6) cut = cut.slice(0, space);
  return `${cut.trimEnd()}…`;
}
