// The message list: history loaded backwards as you scroll up (position kept), date separators,
// consecutive messages of one author grouped, an unread separator, edits, replies, reactions.

import { Component, html, useEffect, useLayoutEffect, useRef, useState } from "../html.js";
import { useStore } from "../store.js";
import { app, displayName, toast } from "../state.js";
import { api } from "../api.js";
import { decodeMessage } from "../content.js";
import { decryptedResult, useDecoded, useDecryptions } from "../e2e/plaintexts.js";
import { renderMarkdown, plainPreview } from "../markdown.js";
import { dayKey, formatDay, formatFull, formatTime } from "../time.js";
import {
  deleteMessage,
  discardFailed,
  loadOlder,
  sendText,
  toggleReaction,
} from "../actions.js";
import { Avatar, Dialog, Spinner } from "./common.js";
import { EmojiPicker, gifSupport } from "./pickers.js";
import { Icon } from "../icons.js";
import { rememberBookmark } from "../saved.js";

const GROUP_MS = 7 * 60 * 1000;
const WINDOW = 150; // messages in the page when at the newest
const SLACK = 50; // new messages may grow the page this much before the oldest rows are removed
const STEP = 100; // more shown per scroll to the top
const QUICK_REACTIONS = ["👍", "❤️", "😂", "🎉", "😮", "😢", "👀", "✅"];

function formatSize(bytes) {
  if (!Number.isFinite(bytes) || bytes < 0) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

const IMAGE_NAME = /\.(png|jpe?g|gif|webp)$/i;

function FileBody({ file }) {
  const href = api.files.url(file.file_id);
  if (IMAGE_NAME.test(file.filename)) {
    return html`<a class="attachment image" href=${href} target="_blank" rel="noopener">
      <img src=${href} alt=${file.filename} loading="lazy" />
    </a>`;
  }
  return html`<a class="attachment" href=${href} target="_blank" rel="noopener" download=${file.filename}>
    <${Icon} name="file" />
    <span class="file-name">${file.filename}</span>
    <span class="file-size">${formatSize(file.size)}</span>
  </a>`;
}

const previews = new Map(); // url -> Promise of a preview (null when there is nothing to show)
const URL_IN_TEXT = /https?:\/\/[^\s<>"'`]+/;

function firstLink(text) {
  const match = URL_IN_TEXT.exec(text);
  if (!match) return null;
  return match[0].replace(/[.,;:!?)\]]+$/, "");
}

function LinkPreview({ url }) {
  const [preview, setPreview] = useState(null);
  useEffect(() => {
    let live = true;
    if (!previews.has(url)) {
      previews.set(
        url,
        api.linkPreview(url).then(
          (found) => (found && (found.title || found.description) ? found : null),
          () => null,
        ),
      );
    }
    previews.get(url).then((found) => live && setPreview(found));
    return () => {
      live = false;
    };
  }, [url]);
  if (!preview) return null;
  return html`<aside class="link-preview" aria-label="Link preview">
    ${preview.site_name && html`<div class="muted small">${preview.site_name}</div>`}
    ${preview.title && html`<a href=${url} target="_blank" rel="noopener noreferrer nofollow ugc"><strong>${preview.title}</strong></a>`}
    ${preview.description && html`<p class="small">${preview.description}</p>`}
  </aside>`;
}

// A message that is only a GIPHY media link (what the GIF picker sends) shows the GIF itself, on
// servers with GIPHY set up (the operator chose GIPHY; the page's CSP allows these hosts only).
const GIPHY_MEDIA = /^https:\/\/media[0-4]\.giphy\.com\/media\/[A-Za-z0-9/_.-]+\.(gif|webp)(\?[A-Za-z0-9=&_.%-]*)?$/;

function Body({ message, content, me, isMember }) {
  const gifs = useStore(gifSupport, (state) => state.available);
  if (content.kind === "encrypted") {
    return html`<p class="encrypted-note muted"><${Icon} name="lock" size=${14} /> Decrypting…</p>`;
  }
  if (content.kind === "undecryptable") return html`<${Undecryptable} content=${content} />`;
  if (content.kind === "file") return html`<${FileBody} file=${content.file} />`;
  if (content.kind === "empty") return html`<p class="muted">(no content)</p>`;
  const gif = gifs === true && GIPHY_MEDIA.test(content.text.trim()) ? content.text.trim() : null;
  if (gif) {
    return html`<div class="gif-message"><img src=${gif} alt="GIF" loading="lazy" referrerpolicy="no-referrer" /></div>`;
  }
  const link = message.pending ? null : firstLink(content.text);
  return html`<div class="text">${renderMarkdown(content.text, { me, isMember })}</div>
    ${link && html`<${LinkPreview} url=${link} />`}`;
}

const UNDECRYPTABLE_WHY = {
  sent_elsewhere: "You sent it from another device or before this browser had your keys.",
  no_session: "The first message of this conversation, which opens it, is further back (scroll up), or it was sent before this browser had your keys.",
  no_sender_key: "The sender's key for this channel is not available.",
  replayed: "It was already received once.",
  unknown_prekey: "It was encrypted for a key this browser does not have.",
  unknown_chain: "The sender has since changed their key for this channel.",
  too_many_skipped: "Too many of the sender's messages are missing before it.",
  decrypt_failed: "It was changed on the way, or is meant for another device.",
  bad_wire: "Its encrypted form is damaged.",
  no_keys: "This browser has no encryption keys for your account.",
};

/** A message that did not decrypt: said plainly, never shown as its wire text. */
function Undecryptable({ content }) {
  const why = UNDECRYPTABLE_WHY[content.code] || "It may be damaged, or meant for another device.";
  return html`<p class="undecryptable" title=${content.reason || ""}><${Icon} name="lock" size=${14} /> This message cannot be decrypted. ${why}</p>`;
}

/** One earlier version of an edited message (decrypted when we still can). */
function OldVersion({ message, entry }) {
  const old = useMemoOld(message, entry);
  const content = useDecoded(old);
  if (content.kind === "text") return html`<div>${content.text}</div>`;
  if (content.kind === "encrypted") return html`<div class="muted">Decrypting…</div>`;
  return html`<div class="muted">(an encrypted version this browser cannot read)</div>`;
}

function useMemoOld(message, entry) {
  const ref = useRef(null);
  if (!ref.current || ref.current.entry !== entry) {
    ref.current = {
      entry,
      value: { id: message.id, channel_id: message.channel_id, sender_id: message.sender_id, ciphertext: entry.old_ciphertext, message_type: "text" },
    };
  }
  return ref.current.value;
}

function EditHistory({ message, onClose }) {
  const [entries, setEntries] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    api.channels
      .history(message.channel_id, message.id)
      .then(setEntries)
      .catch((failure) => setError(failure.message));
  }, [message.id]);
  return html`
    <${Dialog} title="Edit history" onClose=${onClose}>
      ${error && html`<p class="error">${error}</p>`}
      ${!entries && !error && html`<${Spinner} />`}
      ${entries &&
      html`<ol class="history">
        ${entries.map((entry) => {
          return html`<li>
            <time datetime=${entry.edited_at}>${formatFull(entry.edited_at)}</time>
            <${OldVersion} message=${message} entry=${entry} />
          </li>`;
        })}
      </ol>`}
      <div class="dialog-actions"><button type="button" onClick=${onClose}>Close</button></div>
    <//>
  `;
}

// A row's toolbar (reply, react, edit...) is most of its markup. A new row is shown without it, and
// the toolbars are added when the browser is idle, newest first, a few rows at a time: at 100
// messages a second, building them all at once made frames of 100 ms. A row gets its toolbar at
// once when the pointer enters it or something in it gets the focus.
const TOOLS_PER_TURN = 8;
const waitingTools = new Set();
let toolsTurn = null;
const whenIdle =
  typeof requestIdleCallback === "function"
    ? (fn) => requestIdleCallback(fn, { timeout: 250 })
    : (fn) => setTimeout(() => fn(null), 16);

function queueTools(row) {
  waitingTools.add(row);
  if (!toolsTurn) toolsTurn = whenIdle(fillTools);
}

function fillTools(deadline) {
  toolsTurn = null;
  const rows = [...waitingTools].reverse();
  for (let index = 0; index < rows.length && index < TOOLS_PER_TURN; index += 1) {
    if (index > 0 && deadline && !deadline.didTimeout && deadline.timeRemaining() < 3) break;
    rows[index].showTools();
  }
  if (waitingTools.size) toolsTurn = whenIdle(fillTools);
}

class Row extends Component {
  componentDidMount() {
    this.queueToolsIfNeeded();
  }

  componentDidUpdate() {
    this.queueToolsIfNeeded();
  }

  componentWillUnmount() {
    waitingTools.delete(this);
  }

  queueToolsIfNeeded() {
    const { message } = this.props;
    if (!this.state.tools && !message.pending && !message.failed && !waitingTools.has(this)) queueTools(this);
  }

  // the full emoji picker for a reaction, opening below the row in the upper half of the window
  openMore = (event) => {
    const row = event.currentTarget.closest("li.message");
    event.currentTarget.closest("details").open = false;
    const below = row ? row.getBoundingClientRect().top < window.innerHeight / 2 : false;
    this.setState({ more: true, moreBelow: below });
  };

  showTools = () => {
    waitingTools.delete(this);
    if (!this.state.tools) this.setState({ tools: true });
  };

  shouldComponentUpdate(next, nextState) {
    const p = this.props;
    return (
      nextState !== this.state ||
      next.message !== p.message ||
      next.compact !== p.compact ||
      next.names !== p.names ||
      next.replyTarget !== p.replyTarget ||
      next.seen !== p.seen ||
      next.inThread !== p.inThread ||
      next.canModerate !== p.canModerate ||
      next.decrypted !== p.decrypted ||
      next.replyDecrypted !== p.replyDecrypted
    );
  }

  render({ message, decrypted, compact, meId, meName, names, replyTarget, onReply, onEdit, canModerate, isMember, communityId, seen, onOpenThread, inThread, onShowHistory }) {
    const content = decodeMessage(message, decrypted);
    const mine = message.sender_id === meId;
    const name =
      message.message_type === "webhook"
        ? content.webhookName || "Webhook"
        : displayName(names, message.sender_id, communityId);
    const user = names.users[message.sender_id];
    const status = names.presence[message.sender_id];
    const showHistory = () => onShowHistory(message);
    return html`
      <li
        class=${"message" + (compact ? " compact" : "") + (message.pending ? " pending" : "") + (message.failed ? " failed" : "") + (this.state.picking || this.state.more ? " picking" : "")}
        data-message-id=${message.id}
        tabindex="-1"
        onPointerEnter=${this.state.tools ? null : this.showTools}
        onFocusIn=${this.state.tools ? null : this.showTools}
      >
        ${!compact &&
        html`<${Avatar} name=${name} url=${user && user.avatar_url} status=${status} />`}
        <div class="message-main">
          ${message.reply_to &&
          html`<div class="reply-preview">
            ↪ ${replyTarget
              ? html`<strong>${displayName(names, replyTarget.sender_id, communityId)}</strong>
                  <span>${replyPreviewText(replyTarget)}</span>`
              : html`<span class="muted">an earlier message</span>`}
          </div>`}
          ${!compact &&
          html`<div class="message-head">
            <span class="author">${name}</span>
            ${message.message_type === "webhook" && html`<span class="badge">bot</span>`}
            <time datetime=${message.created_at} title=${formatFull(message.created_at)}>${formatTime(message.created_at)}</time>
          </div>`}
          <${Body} message=${message} content=${content} me=${meName} isMember=${isMember} />
          ${message.edited_at &&
          html`<button class="link edited" type="button" onClick=${showHistory}
            title=${"Edited " + formatFull(message.edited_at)}>(edited)</button>`}
          ${message.pending && html`<span class="muted small">Sending…</span>`}
          ${seen && html`<span class="muted small seen">Seen</span>`}
          ${!inThread && message.thread_reply_count > 0 && onOpenThread &&
          html`<div><button type="button" class="link small" onClick=${() => onOpenThread(message)}>
            ${message.thread_reply_count} ${message.thread_reply_count === 1 ? "reply" : "replies"}</button></div>`}
          ${message.failed &&
          html`<span class="error small">Not sent.
            <button class="link" type="button" onClick=${() => {
              discardFailed(message.channel_id, message.id);
              sendText(message.channel_id, content.text);
            }}>Retry</button>
            <button class="link" type="button" onClick=${() => discardFailed(message.channel_id, message.id)}>Discard</button>
          </span>`}
          ${message.reactions && message.reactions.length > 0 &&
          html`<div class="reactions">
            ${message.reactions.map(
              (group) => html`<button
                type="button"
                class=${"reaction" + (group.user_ids.includes(meId) ? " mine" : "")}
                aria-pressed=${group.user_ids.includes(meId) ? "true" : "false"}
                aria-label=${`${group.emoji} ${group.user_ids.length}`}
                title=${group.user_ids.map((id) => displayName(names, id, communityId)).join(", ")}
                onClick=${() => toggleReaction(message, group.emoji)}
              >${group.emoji} ${group.user_ids.length}</button>`,
            )}
          </div>`}
        </div>
        ${!message.pending && !message.failed && this.state.tools &&
        html`<div class="message-actions" role="group" aria-label="Message actions">
          <details class="react-menu" onToggle=${(event) => this.setState({ picking: event.currentTarget.open })}>
            <summary aria-label="Add reaction" title="Add reaction"><${Icon} name="smile" size=${16} /></summary>
            ${this.state.picking && html`<div class="react-picker">
              ${QUICK_REACTIONS.map(
                (emoji) => html`<button type="button" aria-label=${"React " + emoji}
                  onClick=${(event) => {
                    event.currentTarget.closest("details").open = false;
                    toggleReaction(message, emoji);
                  }}>${emoji}</button>`,
              )}
              <button type="button" aria-label="More emoji" title="More emoji" onClick=${this.openMore}>…</button>
            </div>`}
          </details>
          ${this.state.more &&
          html`<span class=${"picker-anchor react-more" + (this.state.moreBelow ? " below" : "")}>
            <${EmojiPicker} showCustom=${false} onPick=${(emoji) => {
              this.setState({ more: false });
              toggleReaction(message, emoji);
            }} onClose=${() => this.setState({ more: false })} />
          </span>`}
          ${!inThread && onOpenThread &&
          html`<button type="button" aria-label="Reply in thread" title="Reply in thread" onClick=${() => onOpenThread(message)}><${Icon} name="chat" size=${16} /></button>`}
          ${canModerate && !inThread &&
          html`<button type="button" aria-label="Pin" title="Pin" onClick=${() =>
            api.channels.pin(message.channel_id, message.id).then(() => toast("Pinned", "info"), (failure) => toast(failure.message))}>
            <${Icon} name="pin" size=${16} /></button>`}
          <button type="button" aria-label="Bookmark" title="Bookmark" onClick=${() => bookmark(message, communityId)}><${Icon} name="bookmark" size=${16} /></button>
          <button type="button" aria-label="Reply" title="Reply" onClick=${() => onReply(message)}><${Icon} name="reply" size=${16} /></button>
          ${mine && content.kind === "text" &&
          html`<button type="button" aria-label="Edit" title="Edit" onClick=${() => onEdit(message, content.text)}><${Icon} name="edit" size=${16} /></button>`}
          ${!mine &&
          html`<button type="button" aria-label="Report" title="Report to the administrators" onClick=${() => {
            const reason = prompt("Report this message to the server's administrators. Why?");
            if (reason && reason.trim()) {
              api.reports.create("message", message.id, reason.trim()).then(
                () => toast("Report sent to the administrators", "info"),
                (failure) => toast(failure.message),
              );
            }
          }}><${Icon} name="flag" size=${16} /></button>`}
          ${(mine || canModerate) &&
          html`<button type="button" aria-label="Delete" title="Delete" onClick=${() => {
            if (confirm("Delete this message?")) deleteMessage(message.id);
          }}><${Icon} name="trash" size=${16} /></button>`}
        </div>`}
      </li>
    `;
  }
}

function bookmark(message, communityId) {
  const note = prompt("Bookmark this message. A note (optional):");
  if (note === null) return;
  api.bookmarks.create(message.id, note.trim() || null).then(
    (saved) => {
      rememberBookmark(saved.id, {
        channelId: message.channel_id,
        communityId: communityId || null,
        preview: replyPreviewText(message),
      });
      toast("Bookmarked: see Saved", "info");
    },
    (failure) => toast(failure.status === 409 ? "Already bookmarked" : failure.message),
  );
}

export function replyPreviewText(message) {
  const content = decodeMessage(message, decryptedResult(message));
  if (content.kind === "file") return content.file.filename;
  if (content.kind === "encrypted") return "Encrypted message";
  if (content.kind === "undecryptable") return "A message that cannot be decrypted";
  return plainPreview(content.text, 100);
}

export function MessageList({ channel, communityId, canModerate, onReply, onEdit, unreadAtOpen, onOpenThread, threadRoot = null }) {
  const state = useStore(app, (s) => s.messages[channel.id]);
  const cursors = useStore(app, (s) => s.readCursors[channel.id]);
  const me = useStore(app, (s) => s.me);
  const users = useStore(app, (s) => s.users);
  const presence = useStore(app, (s) => s.presence);
  const members = useStore(app, (s) => s.members);
  const scroller = useRef(null);
  const sentinel = useRef(null);
  const anchor = useRef(null); // distance from the bottom before older messages were prepended
  const atBottom = useRef(true);
  const scrollQueued = useRef(false);
  const all = state ? state.items : [];
  // the channel shows top-level messages; a thread panel shows one root's replies
  const items = useMemoFilter(all, threadRoot ? threadRoot.id : null);
  const names = useMemoNames(users, presence, members);
  // only the newest `shown` messages are in the page; scrolling up shows more (then loads more)
  const [shown, setShown] = useState(WINDOW);
  const [historyOf, setHistoryOf] = useState(null); // the message whose edit history is open
  const windowStart = useRef(null); // id of the oldest message in the page
  const start = threadRoot ? 0 : pageStart(items, shown, windowStart);
  const live = useRef({});
  live.current = { items, shown, start };
  const visible = start === 0 ? items : items.slice(start);

  const loadMore = () => {
    const box = scroller.current;
    if (threadRoot || !box) return;
    if (live.current.start > 0) {
      anchor.current = box.scrollHeight - box.scrollTop;
      setShown(live.current.items.length - live.current.start + STEP);
      return;
    }
    const held = app.get().messages[channel.id];
    if (!held || held.loading || !held.hasMore || !held.loaded) return;
    const distance = box.scrollHeight - box.scrollTop;
    anchor.current = distance;
    // the page that arrives is shown at once: with the window still at `shown` rows it would be
    // loaded above the window, the first row would not change, and scrolling would stall
    setShown(live.current.items.length + STEP);
    loadOlder(channel.id).finally(() =>
      requestAnimationFrame(() => {
        // nothing new arrived at the top (an empty page): scrolling may load again
        if (anchor.current === distance) anchor.current = null;
      }),
    );
  };

  useEffect(() => {
    if (threadRoot || !sentinel.current || !scroller.current) return undefined;
    const observer = new IntersectionObserver(
      (entries) => entries.some((entry) => entry.isIntersecting) && loadMore(),
      { root: scroller.current, rootMargin: "600px 0px 0px 0px" },
    );
    observer.observe(sentinel.current);
    return () => observer.disconnect();
  }, [channel.id, state && state.loaded, state && state.hasMore]);

  const firstId = visible.length ? visible[0].id : null;
  const lastId = visible.length ? visible[visible.length - 1].id : null;
  useLayoutEffect(() => {
    const box = scroller.current;
    if (!box) return;
    if (anchor.current !== null) {
      box.scrollTop = box.scrollHeight - anchor.current;
      anchor.current = null;
      // still near the top (a short page, a tall screen): keep going
      if (box.scrollTop < 600) requestAnimationFrame(loadMore);
    }
  }, [firstId]);
  const seenCount = useRef(0);
  useLayoutEffect(() => {
    const box = scroller.current;
    const first = seenCount.current === 0;
    seenCount.current = visible.length;
    if (!box || !atBottom.current) return;
    if (first) {
      box.scrollTop = box.scrollHeight; // before the first paint
    } else if (!scrollQueued.current) {
      // once per frame, whatever arrived: setting scrollTop forces a layout
      scrollQueued.current = true;
      requestAnimationFrame(() => {
        scrollQueued.current = false;
        if (scroller.current && atBottom.current) scroller.current.scrollTop = scroller.current.scrollHeight;
      });
    }
  }, [lastId, visible.length]);
  useLayoutEffect(() => {
    atBottom.current = true;
    seenCount.current = 0;
    setShown(WINDOW);
  }, [channel.id]);

  const onScroll = () => {
    const box = scroller.current;
    atBottom.current = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    if (atBottom.current && live.current.shown > WINDOW && anchor.current === null) {
      setShown(WINDOW); // back at the newest: keep the page small again
    } else if (box.scrollTop < 600 && anchor.current === null) {
      loadMore();
    }
  };

  const byId = visible.some((item) => item.reply_to) ? new Map(items.map((item) => [item.id, item])) : new Map();
  const results = useDecryptions(visible, byId);
  const offset = start;
  const unreadFrom = unreadAtOpen > 0 && items.length ? Math.max(0, items.length - unreadAtOpen) - offset : -1;
  const isMember = (username) =>
    Object.values(users).some((user) => user.username && user.username.toLowerCase() === username.toLowerCase());
  // in a DM: "Seen" under my newest message the other member has read
  let seenId = null;
  if (channel.channel_type === "dm" && cursors && me) {
    const theirs = Object.entries(cursors).filter(([userId]) => userId !== me.id).map(([, messageId]) => messageId);
    const readIndex = Math.max(-1, ...theirs.map((messageId) => items.findIndex((item) => item.id === messageId)));
    for (let index = readIndex; index >= 0; index -= 1) {
      if (items[index].sender_id === me.id) {
        seenId = items[index].id;
        break;
      }
    }
  }
  const rows = [];
  let previous = null;
  visible.forEach((message, index) => {
    const when = stamp(message);
    const newDay = !previous || stamp(previous).day !== when.day;
    if (newDay) {
      rows.push(html`<li class="separator date" key=${"d" + message.id}>
        <span>${formatDay(message.created_at)}</span></li>`);
    }
    const unreadHere = index === unreadFrom && message.sender_id !== (me && me.id);
    if (unreadHere) {
      rows.push(html`<li class="separator unread" key="unread"><span>New messages</span></li>`);
    }
    const compact =
      !newDay &&
      !unreadHere &&
      previous &&
      previous.sender_id === message.sender_id &&
      previous.message_type !== "webhook" &&
      !message.reply_to &&
      when.ms - stamp(previous).ms < GROUP_MS;
    const replyTarget = message.reply_to ? byId.get(message.reply_to) : null;
    rows.push(html`<${Row}
      key=${message.id}
      message=${message}
      compact=${compact}
      meId=${me && me.id}
      meName=${me && me.username}
      names=${names}
      communityId=${communityId}
      replyTarget=${replyTarget}
      decrypted=${results.get(message)}
      replyDecrypted=${replyTarget ? results.get(replyTarget) : undefined}
      canModerate=${canModerate}
      seen=${message.id === seenId}
      onOpenThread=${onOpenThread}
      inThread=${Boolean(threadRoot)}
      isMember=${isMember}
      onReply=${onReply}
      onEdit=${onEdit}
      onShowHistory=${setHistoryOf}
    />`);
    previous = message;
  });

  return html`
    <div class=${"message-scroller" + (channel.channel_type === "gallery" && !threadRoot ? " gallery-view" : "")}
      ref=${scroller} onScroll=${onScroll}>
      <div ref=${sentinel} class="sentinel"></div>
      ${!threadRoot && state && !state.hasMore && state.loaded && offset === 0 &&
      html`<div class="channel-start"><h2>Welcome to ${channel.name ? "#" + channel.name : "this conversation"}</h2>
        <p class="muted">This is the beginning of the history.</p></div>`}
      ${state && state.loading && html`<${Spinner} label="Loading messages" />`}
      ${state && state.error && html`<p class="error" role="alert">${state.error}</p>`}
      <div role="log" aria-label=${"Messages in " + (channel.name || "this conversation")} aria-live="polite">
        <ol class="messages">
          ${rows}
        </ol>
      </div>
      ${historyOf && html`<${EditHistory} message=${historyOf} onClose=${() => setHistoryOf(null)} />`}
    </div>
  `;
}

/**
 * Index of the oldest message in the page. At the newest, the page keeps its oldest row while
 * new messages arrive, until it holds SLACK more than `shown`; then it drops back to `shown`
 * rows at once. Removing rows at the top moves every row below, so doing it once per SLACK
 * messages rather than on every batch saves most of the layout and paint work.
 */
function pageStart(items, shown, ref) {
  let start = Math.max(0, items.length - shown);
  const kept = ref.current;
  if (kept && start > 0) {
    const at = kept.index < items.length && items[kept.index].id === kept.id ? kept.index : items.findIndex((item) => item.id === kept.id);
    if (at >= 0 && at < start && items.length - at <= shown + SLACK) start = at;
  }
  ref.current = items.length ? { id: items[start].id, index: start } : null;
  return start;
}

// a message's day and time in milliseconds, worked out once per message object
const stamps = new WeakMap();
function stamp(message) {
  let found = stamps.get(message);
  if (!found) {
    found = { day: dayKey(message.created_at), ms: Date.parse(message.created_at) };
    stamps.set(message, found);
  }
  return found;
}

const filtered = new WeakMap();
function useMemoFilter(all, rootId) {
  const key = rootId || "";
  let byRoot = filtered.get(all);
  if (!byRoot) filtered.set(all, (byRoot = new Map()));
  if (!byRoot.has(key)) {
    byRoot.set(key, rootId ? all.filter((item) => item.thread_id === rootId) : all.filter((item) => !item.thread_id));
  }
  return byRoot.get(key);
}

let memoKey = null;
let memoValue = null;
function useMemoNames(users, presence, members) {
  if (!memoKey || memoKey[0] !== users || memoKey[1] !== presence || memoKey[2] !== members) {
    memoKey = [users, presence, members];
    memoValue = { users, presence, members };
  }
  return memoValue;
}
